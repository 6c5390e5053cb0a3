import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliResult } from '../helpers/cli.js';
import { startFieldServer } from '../helpers/field-server.js';
import { call } from '../helpers/http.js';
import { runInProcess } from '../helpers/run-in-process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('policies guard rails against the reference server', { timeout: 60_000 }, () => {
  let server: TestServer;
  let home: string;
  let env: Record<string, string>;

  const run = (args: string[], columns?: number): Promise<CliResult> => runInProcess(args, { env, ...(columns !== undefined ? { columns } : {}) });
  const json = async (args: string[]): Promise<any> => {
    const result = await run([...args, '-o', 'json']);
    expect(result.exitCode, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };
  /** The policies as the server has them, read directly (not through govctl). */
  const serverPolicies = async (): Promise<Array<{ key: string; enabled: boolean; value: unknown }>> =>
    (await call(server.url, 'GET', '/api/admin/policies', { token: server.adminToken })).body;
  const policy = async (key: string) => (await serverPolicies()).find((p) => p.key === key)!;

  beforeAll(async () => {
    server = await startTestServer();
    home = await mkdtemp(join(tmpdir(), 'govctl-policies-'));
    env = { GOVCTL_URL: server.url, GOVCTL_ADMIN_KEY: server.adminToken, HOME: home };
  });
  afterAll(async () => {
    await server.close();
    await rm(home, { recursive: true, force: true });
  });

  it('--dry-run of set, enable and disable shows before/after and changes nothing', async () => {
    const before = await serverPolicies();
    const set = await run(['policies', 'set', 'max_risk_score', '--value', '{"max": 60}', '--dry-run']);
    expect(set.exitCode, set.stderr).toBe(0);
    expect(set.stdout).toContain('nothing was changed');
    expect(set.stdout).toMatch(/^FIELD\s+BEFORE\s+AFTER$/m);
    expect(set.stdout).toMatch(/^value\s+max=50\s+max=60$/m);
    expect(set.stdout).toMatch(/^enabled\s+yes\s+yes$/m);

    const disable = await run(['policies', 'disable', 'block_personal_data', '--dry-run']);
    expect(disable.exitCode, disable.stderr).toBe(0);
    expect(disable.stdout).toMatch(/^enabled\s+yes\s+no$/m);
    expect(disable.stdout).toMatch(/^value\s+-\s+-$/m);

    const plan = await json(['policies', 'enable', 'max_risk_score', '--dry-run']);
    expect(plan).toEqual({
      context: null,
      url: server.url,
      dry_run: true,
      policy: 'max_risk_score',
      before: { enabled: true, value: { max: 50 } },
      after: { enabled: true, value: { max: 50 } },
    });
    expect(await serverPolicies()).toEqual(before);
  });

  it('a change shows the before/after too, and is in force', async () => {
    const changed = await run(['policies', 'set', 'max_risk_score', '--value', '{"max": 65}']);
    expect(changed.exitCode, changed.stderr).toBe(0);
    expect(changed.stdout).toContain('in force for the next decision');
    expect(changed.stdout).toMatch(/^value\s+max=50\s+max=65$/m);
    expect(await policy('max_risk_score')).toMatchObject({ value: { max: 65 } });

    const disabled = await json(['policies', 'disable', 'block_external_models']);
    expect(disabled).toMatchObject({ context: null, url: server.url, key: 'block_external_models', enabled: false, before: { enabled: true } });
    expect(await policy('block_external_models')).toMatchObject({ enabled: false });
    expect((await run(['policies', 'enable', 'block_external_models'])).exitCode).toBe(0);
    expect((await run(['policies', 'set', 'max_risk_score', '--value', '{"max": 50}'])).exitCode).toBe(0);
  });

  it("refuses a value not of the policy's shape (exit 2 naming the field), dry run or not", async () => {
    const before = await serverPolicies();
    const cases: Array<[string, string, string]> = [
      ['block_personal_data', '{"foo":1}', 'block_personal_data takes no value (null) or a boolean'],
      ['max_risk_score', '{"max": 50, "foo": 1}', '--value at $.foo'],
      ['max_risk_score', '{"max": -1}', '--value at $.max'],
      ['max_risk_score', 'true', 'max_risk_score needs {"max": <integer >= 0>}'],
    ];
    for (const [key, value, message] of cases) {
      for (const extra of [[], ['--dry-run']]) {
        const result = await run(['policies', 'set', key, '--value', value, ...extra]);
        expect(result.exitCode, `${key} ${value} ${extra.join(' ')}`).toBe(2);
        expect(result.stderr).toContain(message);
        expect(result.stderr).toContain('hint:');
        expect(result.stdout).toBe('');
      }
    }
    expect(await serverPolicies()).toEqual(before);
  });

  it('lists and shows values as key=value, never raw JSON; -o json carries context and url', async () => {
    const table = await run(['policies', 'list']);
    expect(table.stdout).toMatch(/^max_risk_score\s+yes\s+max=50\s/m);
    expect(table.stdout).not.toMatch(/[{}"]/);
    const one = await run(['policies', 'get', 'max_risk_score']);
    expect(one.stdout).toMatch(/^value\s+max=50$/m);
    expect(one.stdout).not.toMatch(/[{}"]/);

    const listed = await json(['policies', 'list']);
    expect(Object.keys(listed)).toEqual(['context', 'url', 'policies']);
    expect(listed.policies.map((p: { key: string }) => p.key)).toEqual(['block_personal_data', 'block_external_models', 'max_risk_score']);
    expect(await json(['policies', 'get', 'max_risk_score'])).toMatchObject({ context: null, url: server.url, key: 'max_risk_score', value: { max: 50 } });
  });

  it('every leaf command of keys and policies has an example in its help', async () => {
    const leaves = [
      ['keys', 'create'],
      ['keys', 'list'],
      ['keys', 'rotate'],
      ['keys', 'revoke'],
      ['policies', 'list'],
      ['policies', 'get'],
      ['policies', 'set'],
      ['policies', 'enable'],
      ['policies', 'disable'],
    ];
    for (const leaf of leaves) {
      const help = await run([...leaf, '--help']);
      expect(help.exitCode, leaf.join(' ')).toBe(0);
      expect(help.stdout, leaf.join(' ')).toMatch(new RegExp(`^\\s+govctl ${leaf.join(' ')}\\b`, 'm'));
    }
    for (const leaf of ['set', 'enable', 'disable']) expect((await run(['policies', leaf, '--help'])).stdout).toContain('--dry-run');
  });
});

describe('policies against a field server (policies known by id only)', { timeout: 30_000 }, () => {
  it('shows the value as key=value and dry-runs by id', async () => {
    const field = await startFieldServer();
    try {
      const env = { GOVCTL_URL: field.url, GOVCTL_ADMIN_KEY: field.adminKey, HOME: tmpdir() };
      const table = await runInProcess(['policies', 'list'], { env });
      expect(table.exitCode, table.stderr).toBe(0);
      expect(table.stdout).toMatch(/^2\s+yes\s+max=50\s/m);
      const dry = await runInProcess(['policies', 'disable', '2', '--dry-run'], { env });
      expect(dry.exitCode, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(/^enabled\s+yes\s+no$/m);
      expect(field.seen.filter((r) => r.startsWith('PATCH'))).toEqual([]);
    } finally {
      await field.close();
    }
  });
});
