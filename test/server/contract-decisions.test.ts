import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT } from '../../src/server/app.js';
import { UUID_V4, check, expectError, expectFieldError, inBatches, keyIdOf } from '../helpers/contract.js';
import { call, createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const FORBIDDEN = ['prompt', 'text', 'input', 'message', 'messages', 'content'];

describe('POST /v1/check', () => {
  let s: TestServer;
  let user: string;

  beforeAll(async () => {
    s = await startTestServer({ rateLimit: { limit: 10_000, windowMs: 60_000 } });
    user = await createKey(s.url, s.adminToken, 'decisions-user');
  });
  afterAll(() => s.close());

  async function logTotal(): Promise<number> {
    const answer = await call(s.url, 'GET', '/api/admin/logs?page_size=1', { token: s.adminToken });
    expect(answer.status).toBe(200);
    return answer.body.total as number;
  }

  it('answers {allowed, risk_score, reason, decision_id} and nothing else', async () => {
    const answer = await check(s.url, user, {});
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(answer.body).sort()).toEqual(['allowed', 'decision_id', 'reason', 'risk_score']);
    expect(answer.body).toMatchObject({ allowed: true, risk_score: 0, reason: 'ok' });
    expect(answer.body.decision_id).toMatch(UUID_V4);
  });

  it('scores the metadata flags under the default policies', async () => {
    const cases: Array<[Record<string, unknown> | undefined, { allowed: boolean; risk_score: number; reason: string }]> = [
      [undefined, { allowed: true, risk_score: 0, reason: 'ok' }],
      [{}, { allowed: true, risk_score: 0, reason: 'ok' }],
      [{ team: 'search', region: 'eu', tokens: 12 }, { allowed: true, risk_score: 0, reason: 'ok' }],
      [{ contains_personal_data: true }, { allowed: false, risk_score: 70, reason: 'contains_personal_data' }],
      [{ contains_personal_data: false }, { allowed: true, risk_score: 0, reason: 'ok' }],
      // 50 is not below the default max of 50.
      [{ is_external_model: true }, { allowed: false, risk_score: 50, reason: 'external_model' }],
      [{ uses_external_model: true }, { allowed: false, risk_score: 50, reason: 'external_model' }],
      [{ is_external_model: true, uses_external_model: true }, { allowed: false, risk_score: 50, reason: 'external_model' }],
      [{ contains_personal_data: true, is_external_model: true }, { allowed: false, risk_score: 120, reason: 'contains_personal_data' }],
      [{ contains_personal_data: true, uses_external_model: true }, { allowed: false, risk_score: 120, reason: 'contains_personal_data' }],
      // Only a literal true counts.
      [{ contains_personal_data: 'true', is_external_model: 1, uses_external_model: 'yes' }, { allowed: true, risk_score: 0, reason: 'ok' }],
    ];
    for (const [metadata, expected] of cases) {
      const answer = await check(s.url, user, metadata);
      expect(answer.status, JSON.stringify(metadata)).toBe(200);
      expect(answer.body, JSON.stringify(metadata)).toMatchObject(expected);
    }
  });

  it('accepts model and operation of 1 and 200 characters', async () => {
    for (const n of [1, 200]) {
      const answer = await check(s.url, user, {}, 'm'.repeat(n), 'o'.repeat(n));
      expect(answer.status, String(n)).toBe(200);
    }
  });

  it("logs every decision: the log entry's id is the decision_id, with metadata only", async () => {
    const before = await logTotal();
    const answer = await check(s.url, user, { contains_personal_data: true, note: 'do-not-store-this-value-7f3a' }, 'audit-model', 'audit-op');
    expect(answer.status).toBe(200);
    const logs = await call(s.url, 'GET', '/api/admin/logs?model=audit-model', { token: s.adminToken });
    expect(logs.status).toBe(200);
    const entry = logs.body.logs.find((l: { id: string }) => l.id === answer.body.decision_id);
    expect(entry).toMatchObject({
      id: answer.body.decision_id,
      key_id: keyIdOf(user),
      api_key_name: 'decisions-user',
      model: 'audit-model',
      operation: 'audit-op',
      allowed: false,
      risk_score: 70,
      reason: 'contains_personal_data',
    });
    expect(entry.latency_ms).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(Date.parse(entry.timestamp))).toBe(false);
    expect(logs.text).not.toContain('do-not-store-this-value-7f3a');
    expect(await logTotal()).toBe(before + 1);
  });

  it('every decision a client saw is in the log, under its own id (20 concurrent)', async () => {
    const answers = await inBatches(Array.from({ length: 20 }, (_, i) => i), 10, (i) =>
      check(s.url, user, { contains_personal_data: i % 2 === 0 }, 'concurrent-model', `op-${i}`),
    );
    const ids = answers.map((a) => {
      expect(a.status).toBe(200);
      return a.body.decision_id as string;
    });
    expect(new Set(ids).size).toBe(20);
    const logs = await call(s.url, 'GET', '/api/admin/logs?model=concurrent-model&page_size=100', { token: s.adminToken });
    expect(logs.body.total).toBe(20);
    const logged = new Map<string, { operation: string; allowed: boolean }>(logs.body.logs.map((l: { id: string }) => [l.id, l]));
    answers.forEach((a, i) => {
      expect(logged.get(a.body.decision_id)).toMatchObject({ operation: `op-${i}`, allowed: a.body.allowed });
    });
  });

  describe('forbidden content fields', () => {
    it('refuses each forbidden name at the top level: 400 naming it', async () => {
      for (const name of FORBIDDEN) {
        const answer = await call(s.url, 'POST', '/v1/check', { token: user, body: { model: 'm', operation: 'o', [name]: 'hello' } });
        expectError(answer, 400, `Request contains forbidden content fields: ${name}`);
      }
    });

    it('finds them at any depth, in any case, in objects inside arrays, and names every one found', async () => {
      const bodies: Array<[unknown, string[]]> = [
        [{ model: 'm', operation: 'o', metadata: { PROMPT: 'x' } }, ['prompt']],
        [{ model: 'm', operation: 'o', metadata: { a: { b: { c: { Content: 'x' } } } } }, ['content']],
        [{ model: 'm', operation: 'o', metadata: { turns: [{ role: 'user', Messages: [] }] } }, ['messages']],
        [{ model: 'm', operation: 'o', metadata: { batch: [[[{ iNpUt: null }]]] } }, ['input']],
        [{ model: 'm', operation: 'o', Text: 1, metadata: { list: [{ message: 1 }, { prompt: 2 }] } }, ['message', 'prompt', 'text']],
      ];
      for (const [body, names] of bodies) {
        const answer = await call(s.url, 'POST', '/v1/check', { token: user, body });
        expect(answer.status, JSON.stringify(body)).toBe(400);
        const detail = answer.body.detail as string;
        expect(detail.startsWith('Request contains forbidden content fields: ')).toBe(true);
        const named = detail.slice('Request contains forbidden content fields: '.length).toLowerCase().split(/,\s*/).sort();
        expect(named).toEqual(names);
      }
    });

    it('also refuses content on /api/evaluate', async () => {
      const answer = await call(s.url, 'POST', '/api/evaluate', { token: user, body: { prompt: 'hi' } });
      expectError(answer, 400, 'Request contains forbidden content fields: prompt');
    });

    it('does not refuse forbidden words used as values, or names that merely contain them', async () => {
      const answer = await check(s.url, user, { kind: 'prompt', tags: ['content', 'text'], prompt_tokens: 3, text_length: 10, has_input: true });
      expect(answer.status).toBe(200);
    });

    it('does not log a refused request', async () => {
      const before = await logTotal();
      await call(s.url, 'POST', '/v1/check', { token: user, body: { model: 'm', operation: 'o', metadata: { content: 'x' } } });
      expect(await logTotal()).toBe(before);
    });
  });

  describe('validation', () => {
    it('422 naming a missing field', async () => {
      expectFieldError(await call(s.url, 'POST', '/v1/check', { token: user, body: { operation: 'o' } }), 'body', 'model');
      expectFieldError(await call(s.url, 'POST', '/v1/check', { token: user, body: { model: 'm' } }), 'body', 'operation');
      const both = await call(s.url, 'POST', '/v1/check', { token: user, body: {} });
      expectFieldError(both, 'body', 'model');
      expectFieldError(both, 'body', 'operation');
    });

    it('422 naming a field of the wrong type', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ model: 1, operation: 'o' }, 'model'],
        [{ model: null, operation: 'o' }, 'model'],
        [{ model: ['m'], operation: 'o' }, 'model'],
        [{ model: 'm', operation: true }, 'operation'],
        [{ model: 'm', operation: { x: 1 } }, 'operation'],
        [{ model: 'm', operation: 'o', metadata: 'flags' }, 'metadata'],
        [{ model: 'm', operation: 'o', metadata: [] }, 'metadata'],
        [{ model: 'm', operation: 'o', metadata: 7 }, 'metadata'],
      ];
      for (const [body, field] of cases) {
        expectFieldError(await call(s.url, 'POST', '/v1/check', { token: user, body }), 'body', field);
      }
    });

    it('422 naming a string outside 1..200 characters', async () => {
      expectFieldError(await check(s.url, user, {}, '', 'o'), 'body', 'model');
      expectFieldError(await check(s.url, user, {}, 'm'.repeat(201), 'o'), 'body', 'model');
      expectFieldError(await check(s.url, user, {}, 'm', ''), 'body', 'operation');
      expectFieldError(await check(s.url, user, {}, 'm', 'o'.repeat(201)), 'body', 'operation');
    });

    it('does not log a refused request', async () => {
      const before = await logTotal();
      await call(s.url, 'POST', '/v1/check', { token: user, body: { model: 1 } });
      expect(await logTotal()).toBe(before);
    });
  });

  describe('body size', () => {
    it(`accepts a body just under ${BODY_LIMIT} bytes`, async () => {
      const frame = JSON.stringify({ model: 'm', operation: 'o', metadata: { pad: '' } });
      const raw = frame.replace('"pad":""', `"pad":"${'x'.repeat(BODY_LIMIT - frame.length)}"`);
      expect(Buffer.byteLength(raw)).toBe(BODY_LIMIT);
      expect((await call(s.url, 'POST', '/v1/check', { token: user, raw })).status).toBe(200);
    });

    it('refuses a body over 1 MiB: 413', async () => {
      const frame = JSON.stringify({ model: 'm', operation: 'o', metadata: { pad: '' } });
      const raw = frame.replace('"pad":""', `"pad":"${'x'.repeat(BODY_LIMIT - frame.length + 1)}"`);
      expect(Buffer.byteLength(raw)).toBe(BODY_LIMIT + 1);
      const answer = await call(s.url, 'POST', '/v1/check', { token: user, raw });
      expectError(answer, 413);
      expect(answer.body.detail).toMatch(/too large/i);
    });
  });
});
