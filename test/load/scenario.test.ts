import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { SCENARIOS_DIR } from '../../src/load/data-files.js';
import { listScenarios, loadScenario, resolveScenario } from '../../src/load/scenario.js';
import { createRng } from '../../src/load/rng.js';
import { compileTemplate, type TemplateProblem } from '../../src/load/templates.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'govctl-scenario-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function scenarioFile(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** The InvalidInputError a call throws (fails the test when it does not throw one). */
async function inputError(run: () => unknown): Promise<InvalidInputError> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).exitCode).toBe(2);
    return err as InvalidInputError;
  }
  throw new Error('expected an InvalidInputError');
}

const minimal = (request: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown => ({
  name: 'mini',
  requests: [{ name: 'r', method: 'POST', path: '/v1/check', ...request }],
  ...extra,
});

describe('the shipped governance-mix scenario', () => {
  it('loads by name with pre-serialised, varied, deterministic bodies', async () => {
    expect(listScenarios()).toContain('governance-mix');
    const scenario = await loadScenario('governance-mix', { cwd: dir, seed: 1 });
    expect(scenario.source).toBe(join(SCENARIOS_DIR, 'governance-mix.json'));
    expect(scenario.requests.map((r) => r.name)).toEqual(['check_allowed', 'check_personal_data', 'check_external_model', 'evaluate', 'health']);
    const [allowed, personal, external, evaluate, health] = scenario.requests;
    expect(allowed!.bodies).toHaveLength(32);
    expect(new Set(allowed!.bodies).size).toBeGreaterThan(20);
    for (const body of allowed!.bodies) {
      const parsed = JSON.parse(body) as { model: string; metadata: { tokens_estimate: unknown; trace_id: string } };
      expect(['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4', 'claude-haiku-3.5', 'llama-3.1-70b', 'mistral-large', 'gemini-1.5-pro']).toContain(parsed.model);
      expect(typeof parsed.metadata.tokens_estimate).toBe('number');
      expect(parsed.metadata.trace_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(personal!.expect).toEqual({ status: [200], json: { allowed: false } });
    expect(JSON.parse(external!.bodies[0]!).metadata.is_external_model).toBe(true);
    expect(evaluate!.bodies).toEqual([]);
    expect(health).toMatchObject({ method: 'GET', auth: 'none', bodies: [], audited: false });
    expect(scenario.requests.map((r) => r.audited)).toEqual([true, true, true, false, false]);

    const again = await loadScenario('governance-mix', { cwd: dir, seed: 1, variants: 8 });
    expect(again.requests[0]!.bodies).toEqual(allowed!.bodies.slice(0, 8));
    const other = await loadScenario('governance-mix', { cwd: dir, seed: 2 });
    expect(other.requests[0]!.bodies).not.toEqual(allowed!.bodies);
  });

  describe('against the real reference server', () => {
    let server: TestServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    it('meets every expectation it declares', async () => {
      server = await startTestServer();
      const created = await fetch(`${server.url}/api/admin/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'scenario-test' }),
      });
      expect(created.status).toBe(201);
      const { api_key: token } = (await created.json()) as { api_key: string };
      const scenario = await loadScenario('governance-mix', { cwd: dir, seed: 3, variants: 4 });
      for (const request of scenario.requests) {
        for (const body of request.bodies.length > 0 ? request.bodies : [undefined]) {
          const headers: Record<string, string> = { ...request.headers };
          if (request.auth === 'api_key') headers.authorization = `Bearer ${token}`;
          if (body !== undefined) headers['content-type'] = 'application/json';
          const response = await fetch(`${server.url}${request.path}`, { method: request.method, headers, ...(body !== undefined ? { body } : {}) });
          expect(request.expect.status, `${request.name}: status`).toContain(response.status);
          const json = (await response.json()) as Record<string, unknown>;
          for (const [field, value] of Object.entries(request.expect.json ?? {})) expect(json[field], `${request.name}: ${field}`).toEqual(value);
        }
      }
    });
  });
});

describe('templates', () => {
  const variables = { model: ['a'], flag: [true], n: [7] };
  const expand = (value: unknown): unknown => {
    const problems: TemplateProblem[] = [];
    const template = compileTemplate(value, variables, '$.body', problems);
    expect(problems).toEqual([]);
    return template.expand(createRng(1));
  };

  it('keeps the type of a whole-string template and interpolates text', () => {
    expect(expand({ f: '${flag}', n: '${n}', s: 'model=${model}, n=${n}', arr: ['${model}', 1, null] })).toEqual({
      f: true,
      n: 7,
      s: 'model=a, n=7',
      arr: ['a', 1, null],
    });
  });

  it('has built-in generators and a literal escape', () => {
    const out = expand({ i: '${int:5:6}', b: '${bool}', u: '${uuid}', lit: 'cost $${x}' }) as Record<string, unknown>;
    expect([5, 6]).toContain(out.i);
    expect(typeof out.b).toBe('boolean');
    expect(out.u).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.lit).toBe('cost ${x}');
  });

  it('reports unknown names and bad arguments with their JSON path', () => {
    const problems: TemplateProblem[] = [];
    compileTemplate({ a: { 'b c': '${nope}' }, d: ['${int:9:1}', '${model', '${uuid:1}'] }, variables, '$.body', problems);
    expect(problems.map((p) => p.path)).toEqual(['$.body.a["b c"]', '$.body.d[0]', '$.body.d[1]', '$.body.d[2]']);
    expect(problems[0]!.message).toMatch(/unknown variable "nope" \(known: model, flag, n, uuid, int:MIN:MAX, bool\)/);
  });
});

describe('bad scenario input', () => {
  it('names the available scenarios for an unknown name', async () => {
    const err = await inputError(() => loadScenario('governance-mixx', { cwd: dir, seed: 1 }));
    expect(err.message).toContain('unknown scenario "governance-mixx"');
    expect(err.hint).toContain('governance-mix');
  });

  it('names the file for a missing file and for invalid JSON', async () => {
    const missing = await inputError(() => loadScenario('./nope.json', { cwd: dir, seed: 1 }));
    expect(missing.message).toContain(join(dir, 'nope.json'));
    const path = await scenarioFile('broken.json', '{"name": "x", "requests": [');
    const broken = await inputError(() => loadScenario(path, { cwd: dir, seed: 1 }));
    expect(broken.message).toMatch(/broken\.json is not valid JSON/);
  });

  it('names the JSON path of wrong types and every other problem at once', async () => {
    const path = await scenarioFile('types.json', minimal({ weight: '60', expect: { status: [700] } }));
    const err = await inputError(() => loadScenario('types.json', { cwd: dir, seed: 1 }));
    expect(err.message).toContain(path);
    expect(err.message).toContain('$.requests[0].weight: must be number');
    expect(err.message).toContain('$.requests[0].expect.status[0]: must be <= 599');
  });

  it.each([
    ['a zero weight', minimal({ weight: 0 }), '$.requests[0].weight: must be > 0'],
    ['a lower-case method', minimal({ method: 'post' }), '$.requests[0].method: must be one of'],
    ['a path without a slash', minimal({ path: 'v1/check' }), '$.requests[0].path: must start with "/"'],
    ['a templated path', minimal({ path: '/v1/${model}' }), 'templates are expanded only in "body"'],
    ['a body on a GET', minimal({ method: 'GET', path: '/health', body: {} }), '$.requests[0].body: a GET request cannot have a body'],
    ['an unknown variable', minimal({ body: { model: '${modle}' } }), '$.requests[0].body.model: unknown variable "modle"'],
    ['a bad variable name', minimal({}, { variables: { 'bad-name': [1] } }), '$.variables["bad-name"]: a variable name is letters'],
    ['a reserved variable name', minimal({}, { variables: { uuid: ['x'] } }), '$.variables.uuid: "uuid" is a built-in generator'],
    ['an empty variable', minimal({}, { variables: { model: [] } }), '$.variables.model: must NOT have fewer than 1 items'],
    ['a framing header', minimal({ headers: { 'Content-Length': '5' } }), 'set by govctl\'s request path'],
    ['a header with CR LF', minimal({ auth: 'none', headers: { 'X-A': 'a\r\nb' } }), 'CR, LF or control characters'],
    ['an Authorization header on an api_key request', minimal({ headers: { authorization: 'Bearer x' } }), 'set "auth": "none"'],
    ['an unknown field', minimal({ bodyy: {} }), '$.requests[0]: unknown field "bodyy"'],
  ])('rejects %s', async (_what, content, message) => {
    const err = await inputError(() => resolveScenario(content, 's.json', { seed: 1 }));
    expect(err.message).toContain('s.json is invalid');
    expect(err.message).toContain(message);
  });

  it('rejects duplicate request names, naming both', async () => {
    const content = { name: 'dup', requests: [{ name: 'a', method: 'GET', path: '/health' }, { name: 'a', method: 'GET', path: '/health' }] };
    const err = await inputError(() => resolveScenario(content, 's.json', { seed: 1 }));
    expect(err.message).toContain('$.requests[1].name: "a" is already the name of $.requests[0]');
  });

  it('allows testing the server on forbidden content fields and fills in defaults', () => {
    const scenario = resolveScenario(minimal({ body: { model: 'm', operation: 'o', prompt: 'hi' }, expect: { status: [400] } }), 's.json', { seed: 1 });
    expect(scenario.requests[0]).toEqual({
      name: 'r',
      weight: 1,
      method: 'POST',
      path: '/v1/check',
      auth: 'api_key',
      bodies: ['{"model":"m","operation":"o","prompt":"hi"}'],
      headers: {},
      expect: { status: [400] },
      audited: true,
    });
  });
});
