import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISO_INSTANT, UUID_V4, expectError, expectFieldError, keyIdOf, secretOf } from '../helpers/contract.js';
import { call, createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import type { ApiKeyView } from '../../src/server/store/keys.js';

const LIST_FIELDS = ['active', 'created_at', 'id', 'key_id', 'last_used', 'name', 'requests_count', 'role'];
const CREATE_FIELDS = ['api_key', 'created_at', 'id', 'key_id', 'name', 'role'];
const TOKEN = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/;

type KeyView = ApiKeyView;

describe('admin API: keys', () => {
  let s: TestServer;
  const admin = () => s.adminToken;

  beforeAll(async () => {
    s = await startTestServer({ rateLimit: { limit: 10_000, windowMs: 60_000 } });
  });
  afterAll(() => s.close());

  async function listKeys(): Promise<KeyView[]> {
    const answer = await call(s.url, 'GET', '/api/admin/keys', { token: admin() });
    expect(answer.status).toBe(200);
    return answer.body as KeyView[];
  }

  const findKey = async (keyId: string) => (await listKeys()).find((k) => k.key_id === keyId);

  it('GET /keys lists keys with the contract fields and never a secret', async () => {
    const token = await createKey(s.url, admin(), 'listed');
    const answer = await call(s.url, 'GET', '/api/admin/keys', { token: admin() });
    expect(answer.status).toBe(200);
    expect(Array.isArray(answer.body)).toBe(true);
    for (const key of answer.body as Array<Record<string, unknown>>) {
      for (const field of LIST_FIELDS) expect(key, field).toHaveProperty(field);
      expect(key).not.toHaveProperty('api_key');
      expect(key).not.toHaveProperty('secret');
      expect(key).not.toHaveProperty('secret_hash');
      expect(key['key_id']).toMatch(UUID_V4);
      expect(['user', 'admin']).toContain(key['role']);
      expect(typeof key['active']).toBe('boolean');
      expect(key['created_at']).toMatch(ISO_INSTANT);
    }
    expect(answer.text).not.toContain(secretOf(token));
    expect(answer.text).not.toContain(secretOf(admin()));
    expect(answer.body.map((k: KeyView) => k.key_id)).toEqual(expect.arrayContaining([keyIdOf(admin()), keyIdOf(token)]));
  });

  it('POST /keys: 201 with the token, shown this once', async () => {
    const answer = await call(s.url, 'POST', '/api/admin/keys', { token: admin(), body: { name: 'fresh' } });
    expect(answer.status).toBe(201);
    for (const field of CREATE_FIELDS) expect(answer.body, field).toHaveProperty(field);
    expect(answer.body).toMatchObject({ name: 'fresh', role: 'user' });
    expect(answer.body.key_id).toMatch(UUID_V4);
    const [, keyId, secret] = TOKEN.exec(answer.body.api_key) ?? [];
    expect(keyId).toBe(answer.body.key_id);
    expect(answer.headers['cache-control']).toBe('no-store');

    const listed = await findKey(answer.body.key_id);
    expect(listed).toMatchObject({ name: 'fresh', role: 'user', active: true, requests_count: 0, last_used: null });
    expect(listed!.id).toBe(answer.body.id);
    for (const path of ['/api/admin/keys', '/api/admin/logs', '/api/admin/policies']) {
      expect((await call(s.url, 'GET', path, { token: admin() })).text, path).not.toContain(secret);
    }
    expect((await call(s.url, 'GET', '/metrics')).text).not.toContain(secret);
  });

  it('POST /keys makes admin keys that can use the admin API', async () => {
    const answer = await call(s.url, 'POST', '/api/admin/keys', { token: admin(), body: { name: 'second-admin', role: 'admin' } });
    expect(answer.status).toBe(201);
    expect(answer.body.role).toBe('admin');
    expect((await call(s.url, 'GET', '/api/admin/keys', { token: answer.body.api_key })).status).toBe(200);
  });

  it('POST /keys names the field it refuses: 422', async () => {
    const cases: Array<[unknown, string | undefined]> = [
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'n'.repeat(256) }, 'name'],
      [{ name: 42 }, 'name'],
      [{ name: null }, 'name'],
      [{ name: 'ok', role: 'root' }, 'role'],
      [{ name: 'ok', role: 'ADMIN' }, 'role'],
      [{ name: 'ok', customer_id: 7 }, 'customer_id'],
      [[], undefined],
      ['name', undefined],
    ];
    for (const [body, field] of cases) {
      const answer = await call(s.url, 'POST', '/api/admin/keys', { token: admin(), body });
      if (field) expectFieldError(answer, 'body', field);
      else expectFieldError(answer, 'body');
    }
    const longest = await call(s.url, 'POST', '/api/admin/keys', { token: admin(), body: { name: 'n'.repeat(255) } });
    expect(longest.status).toBe(201);
  });

  it('counts requests and records last use per key', async () => {
    const token = await createKey(s.url, admin(), 'counted');
    for (let i = 0; i < 3; i++) expect((await call(s.url, 'POST', '/api/evaluate', { token })).status).toBe(200);
    expect((await call(s.url, 'POST', '/v1/check', { token, body: { model: 'm', operation: 'o' } })).status).toBe(200);
    const key = await findKey(keyIdOf(token));
    expect(key!.requests_count).toBe(4);
    expect(key!.last_used).toMatch(ISO_INSTANT);
    expect(Date.parse(key!.last_used!)).toBeGreaterThanOrEqual(Date.parse(key!.created_at));
  });

  it('POST /keys/{key_id}/rotate: a new token; the old one is inactive at once', async () => {
    const old = await createKey(s.url, admin(), 'rotating');
    const answer = await call(s.url, 'POST', `/api/admin/keys/${keyIdOf(old)}/rotate`, { token: admin() });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'rotated', old_key_id: keyIdOf(old) });
    expect(typeof answer.body.message).toBe('string');
    expect(answer.body.key_id).toMatch(UUID_V4);
    expect(answer.body.key_id).not.toBe(keyIdOf(old));
    expect(TOKEN.exec(answer.body.api_key)?.[1]).toBe(answer.body.key_id);

    expectError(await call(s.url, 'POST', '/api/evaluate', { token: old }), 403, 'API key inactive');
    expect((await call(s.url, 'POST', '/api/evaluate', { token: answer.body.api_key })).status).toBe(200);

    const keys = await listKeys();
    expect(keys.find((k) => k.key_id === keyIdOf(old))).toMatchObject({ active: false });
    expect(keys.find((k) => k.key_id === answer.body.key_id)).toMatchObject({ active: true, name: 'rotating', role: 'user' });
    expect(JSON.stringify(keys)).not.toContain(secretOf(answer.body.api_key));
  });

  it('rotating an admin key keeps its role', async () => {
    const old = await createKey(s.url, admin(), 'admin-rotating', 'admin');
    const answer = await call(s.url, 'POST', `/api/admin/keys/${keyIdOf(old)}/rotate`, { token: admin() });
    expect(answer.status).toBe(200);
    expect((await call(s.url, 'GET', '/api/admin/keys', { token: answer.body.api_key })).status).toBe(200);
    expectError(await call(s.url, 'GET', '/api/admin/keys', { token: old }), 403, 'API key inactive');
  });

  it('rotate: 404 for an unknown key, a 4xx for one already inactive', async () => {
    expectError(await call(s.url, 'POST', '/api/admin/keys/00000000-0000-4000-8000-000000000000/rotate', { token: admin() }), 404);
    const old = await createKey(s.url, admin(), 'rotate-twice');
    expect((await call(s.url, 'POST', `/api/admin/keys/${keyIdOf(old)}/rotate`, { token: admin() })).status).toBe(200);
    const again = await call(s.url, 'POST', `/api/admin/keys/${keyIdOf(old)}/rotate`, { token: admin() });
    expect(again.status).toBeGreaterThanOrEqual(400);
    expect(again.status).toBeLessThan(500);
    expectError(again, again.status);
    expectError(await call(s.url, 'POST', '/api/evaluate', { token: old }), 403, 'API key inactive');
  });

  it('DELETE /keys/{key_id}: 200, and the key is refused from then on', async () => {
    const token = await createKey(s.url, admin(), 'deleted');
    const answer = await call(s.url, 'DELETE', `/api/admin/keys/${keyIdOf(token)}`, { token: admin() });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'deleted', key_id: keyIdOf(token) });
    expectError(await call(s.url, 'POST', '/api/evaluate', { token }), 403, 'API key inactive');
    const listed = await findKey(keyIdOf(token));
    if (listed) expect(listed.active).toBe(false);
  });

  it('DELETE /keys/{key_id}: 404 for an unknown key', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-key', "' OR 1=1 --"]) {
      expectError(await call(s.url, 'DELETE', `/api/admin/keys/${encodeURIComponent(id)}`, { token: admin() }), 404);
    }
  });

  it('refuses to delete the last active admin key', async () => {
    const lone = await startTestServer();
    try {
      const answer = await call(lone.url, 'DELETE', `/api/admin/keys/${keyIdOf(lone.adminToken)}`, { token: lone.adminToken });
      expectError(answer, 409);
      expect((await call(lone.url, 'GET', '/api/admin/keys', { token: lone.adminToken })).status).toBe(200);
    } finally {
      await lone.close();
    }
  });

  it('every admin response is marked Cache-Control: no-store', async () => {
    const token = await createKey(s.url, admin(), 'cache');
    const answers = [
      await call(s.url, 'GET', '/api/admin/keys', { token: admin() }),
      await call(s.url, 'POST', '/api/admin/keys', { token: admin(), body: { name: 'cache-2' } }),
      await call(s.url, 'POST', `/api/admin/keys/${keyIdOf(token)}/rotate`, { token: admin() }),
      await call(s.url, 'GET', '/api/admin/policies', { token: admin() }),
      await call(s.url, 'GET', '/api/admin/logs', { token: admin() }),
      await call(s.url, 'DELETE', '/api/admin/keys/00000000-0000-4000-8000-000000000000', { token: admin() }),
      await call(s.url, 'GET', '/api/admin/keys'),
    ];
    for (const answer of answers) expect(answer.headers['cache-control']).toBe('no-store');
  });

  it('GET /keys says each key\'s status (extension): active, revoked (no successor) or rotated (replaced)', async () => {
    const kept = await createKey(s.url, admin(), 'status-kept');
    const revoked = await createKey(s.url, admin(), 'status-revoked');
    const rotatedAway = await createKey(s.url, admin(), 'status-rotated');
    expect((await call(s.url, 'DELETE', `/api/admin/keys/${keyIdOf(revoked)}`, { token: admin() })).status).toBe(200);
    const rotation = await call(s.url, 'POST', `/api/admin/keys/${keyIdOf(rotatedAway)}/rotate`, { token: admin() });
    expect(rotation.status).toBe(200);
    expect(await findKey(keyIdOf(kept))).toMatchObject({ active: true, status: 'active' });
    expect(await findKey(keyIdOf(revoked))).toMatchObject({ active: false, status: 'revoked' });
    expect(await findKey(keyIdOf(rotatedAway))).toMatchObject({ active: false, status: 'rotated' });
    expect(await findKey(rotation.body.key_id)).toMatchObject({ active: true, status: 'active', name: 'status-rotated' });
    for (const key of await listKeys()) expect(['active', 'revoked', 'rotated']).toContain(key.status);
  });
});
