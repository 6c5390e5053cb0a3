import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { check, expectError, expectFieldError } from '../helpers/contract.js';
import { call, createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import type { PolicyView } from '../../src/server/store/policies.js';

const POLICY_FIELDS = ['description', 'enabled', 'id', 'key', 'name', 'value', 'violations_count'];

type Policy = PolicyView;

describe('admin API: policies', () => {
  let s: TestServer;
  let user: string;
  let defaults: Policy[];

  beforeAll(async () => {
    s = await startTestServer({ rateLimit: { limit: 10_000, windowMs: 60_000 } });
    user = await createKey(s.url, s.adminToken, 'policy-user');
    defaults = await list();
  });
  afterAll(() => s.close());

  // Each test starts from the default policies.
  afterEach(async () => {
    for (const p of defaults) {
      const answer = await patch(p.key, { enabled: p.enabled, value: p.value });
      expect(answer.status).toBe(200);
    }
  });

  async function list(): Promise<Policy[]> {
    const answer = await call(s.url, 'GET', '/api/admin/policies', { token: s.adminToken });
    expect(answer.status).toBe(200);
    return answer.body as Policy[];
  }

  const patch = (idOrKey: string | number, body: unknown) =>
    call(s.url, 'PATCH', `/api/admin/policies/${idOrKey}`, { token: s.adminToken, body });

  const idOf = (key: string) => defaults.find((p) => p.key === key)!.id;

  it('GET /policies lists the three default policies with the contract fields', async () => {
    const policies = await list();
    for (const p of policies) {
      for (const field of POLICY_FIELDS) expect(p, field).toHaveProperty(field);
      expect(typeof p.id).toBe('number');
      expect(typeof p.enabled).toBe('boolean');
      expect(Number.isInteger(p.violations_count)).toBe(true);
    }
    const byKey = Object.fromEntries(policies.map((p) => [p.key, p]));
    expect(byKey['block_personal_data']).toMatchObject({ enabled: true });
    expect(byKey['block_external_models']).toMatchObject({ enabled: true });
    expect(byKey['max_risk_score']).toMatchObject({ enabled: true, value: { max: 50 } });
  });

  it('PATCH by key and by id answers the updated policy, and GET agrees', async () => {
    const byKey = await patch('block_external_models', { enabled: false });
    expect(byKey.status).toBe(200);
    expect(byKey.body).toMatchObject({ key: 'block_external_models', id: idOf('block_external_models'), enabled: false });
    for (const field of POLICY_FIELDS) expect(byKey.body).toHaveProperty(field);

    const byId = await patch(idOf('max_risk_score'), { value: { max: 80 } });
    expect(byId.status).toBe(200);
    // A PATCH changes only the fields it names.
    expect(byId.body).toMatchObject({ key: 'max_risk_score', enabled: true, value: { max: 80 } });

    const policies = await list();
    expect(policies.find((p) => p.key === 'block_external_models')).toEqual(byKey.body);
    expect(policies.find((p) => p.key === 'max_risk_score')).toEqual(byId.body);
  });

  it('a PATCH is in force for the very next decision (by key)', async () => {
    expect((await check(s.url, user, { is_external_model: true })).body).toMatchObject({ allowed: false, risk_score: 50 });
    expect((await patch('max_risk_score', { value: { max: 51 } })).status).toBe(200);
    expect((await check(s.url, user, { is_external_model: true })).body).toMatchObject({
      allowed: true,
      risk_score: 50,
      reason: 'external_model',
    });
    expect((await patch('max_risk_score', { value: { max: 50 } })).status).toBe(200);
    expect((await check(s.url, user, { is_external_model: true })).body).toMatchObject({ allowed: false, risk_score: 50 });
  });

  it('a PATCH is in force for the very next decision (by id)', async () => {
    expect((await patch(idOf('block_personal_data'), { enabled: false })).status).toBe(200);
    expect((await check(s.url, user, { contains_personal_data: true })).body).toMatchObject({ allowed: true, risk_score: 0, reason: 'ok' });
    expect((await patch(idOf('block_personal_data'), { enabled: true })).status).toBe(200);
    expect((await check(s.url, user, { contains_personal_data: true })).body).toMatchObject({
      allowed: false,
      risk_score: 70,
      reason: 'contains_personal_data',
    });
  });

  it('a disabled block_external_models adds nothing, under either flag name', async () => {
    expect((await patch('block_external_models', { enabled: false })).status).toBe(200);
    for (const flag of ['is_external_model', 'uses_external_model']) {
      expect((await check(s.url, user, { [flag]: true })).body).toMatchObject({ allowed: true, risk_score: 0, reason: 'ok' });
    }
    expect((await check(s.url, user, { contains_personal_data: true, is_external_model: true })).body).toMatchObject({
      allowed: false,
      risk_score: 70,
    });
  });

  it('with max_risk_score disabled nothing is blocked, and the score and reason still show', async () => {
    expect((await patch('max_risk_score', { enabled: false })).status).toBe(200);
    expect((await check(s.url, user, { contains_personal_data: true, uses_external_model: true })).body).toMatchObject({
      allowed: true,
      risk_score: 120,
      reason: 'contains_personal_data',
    });
  });

  it('allowed means risk_score < max: a max of 0 blocks even a score of 0', async () => {
    expect((await patch('max_risk_score', { value: { max: 0 } })).status).toBe(200);
    expect((await check(s.url, user, {})).body).toMatchObject({ allowed: false, risk_score: 0, reason: 'ok' });
    expect((await patch('max_risk_score', { value: { max: 121 } })).status).toBe(200);
    expect((await check(s.url, user, { contains_personal_data: true, is_external_model: true })).body).toMatchObject({
      allowed: true,
      risk_score: 120,
    });
  });

  it('counts violations of the policies a blocked decision broke', async () => {
    const before = Object.fromEntries((await list()).map((p) => [p.key, p.violations_count]));
    expect((await check(s.url, user, { contains_personal_data: true })).body.allowed).toBe(false);
    expect((await check(s.url, user, {})).body.allowed).toBe(true);
    const after = Object.fromEntries((await list()).map((p) => [p.key, p.violations_count]));
    expect(after['block_personal_data']).toBe(before['block_personal_data']! + 1);
    expect(after['block_external_models']).toBe(before['block_external_models']);
  });

  it('PATCH of an unknown policy: 404', async () => {
    for (const id of ['no_such_policy', '999', '0']) expectError(await patch(id, { enabled: true }), 404);
  });

  it('PATCH names what it refuses: 422', async () => {
    expectFieldError(await patch('max_risk_score', {}), 'body');
    expectFieldError(await patch('max_risk_score', []), 'body');
    expectFieldError(await patch('max_risk_score', { enabled: 'false' }), 'body', 'enabled');
    expectFieldError(await patch('max_risk_score', { enabled: 1 }), 'body', 'enabled');
    expectFieldError(await patch('max_risk_score', { enabld: true }), 'body', 'enabld');
    for (const value of [{ max: -1 }, { max: '50' }, { max: 1.5 }, {}, 'abc', null, [50]]) {
      const answer = await patch('max_risk_score', { value });
      expect(answer.status, JSON.stringify(value)).toBe(422);
      expect(JSON.stringify(answer.body.detail)).toContain('value');
    }
    // Nothing was changed by the refused PATCHes.
    expect(await list()).toEqual(defaults.map((p) => ({ ...p, violations_count: expect.any(Number) })));
  });
  it('a value must have its policy\'s shape: block_* take null or a boolean (422 naming the field)', async () => {
    for (const key of ['block_personal_data', 'block_external_models']) {
      for (const value of [{ foo: 1 }, 1, 'yes', [true], { enabled: true }]) {
        const answer = await patch(key, { value });
        expectFieldError(answer, 'body', 'value');
        expect(JSON.stringify(answer.body.detail), JSON.stringify(value)).toContain(key);
      }
      for (const value of [null, true, false]) expect((await patch(key, { value })).status, JSON.stringify(value)).toBe(200);
    }
  });

  it('max_risk_score takes {"max": integer >= 0} and nothing else (422 naming the field)', async () => {
    expectFieldError(await patch('max_risk_score', { value: { max: 50, foo: 1 } }), 'body', 'value', 'foo');
    expectFieldError(await patch('max_risk_score', { value: { foo: 1 } }), 'body', 'value', 'foo');
    expectFieldError(await patch('max_risk_score', { value: { max: 1e20 } }), 'body', 'value', 'max');
    expectFieldError(await patch('max_risk_score', { value: { max: true } }), 'body', 'value', 'max');
    expectFieldError(await patch('max_risk_score', { value: true }), 'body', 'value');
    for (const max of [0, 100, 121]) expect((await patch('max_risk_score', { value: { max } })).body).toMatchObject({ value: { max } });
    // Refused values changed nothing; the last accepted one is in force.
    expect((await list()).find((p) => p.key === 'max_risk_score')).toMatchObject({ value: { max: 121 } });
  });
});
