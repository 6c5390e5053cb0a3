import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiToken, parseApiToken } from '../../src/core/api-token.js';
import { expectError, keyIdOf, secretOf } from '../helpers/contract.js';
import { call, createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Every route that needs a key, with a body it would accept. */
const DECISION_ROUTES = [
  { method: 'POST', path: '/v1/check', body: { model: 'm', operation: 'o' } },
  { method: 'POST', path: '/api/evaluate', body: {} },
] as const;

const ADMIN_ROUTES = [
  { method: 'GET', path: '/api/admin/keys' },
  { method: 'POST', path: '/api/admin/keys', body: { name: 'x' } },
  { method: 'POST', path: '/api/admin/keys/00000000-0000-4000-8000-000000000000/rotate' },
  { method: 'DELETE', path: '/api/admin/keys/00000000-0000-4000-8000-000000000000' },
  { method: 'GET', path: '/api/admin/policies' },
  { method: 'PATCH', path: '/api/admin/policies/max_risk_score', body: { enabled: true } },
  { method: 'GET', path: '/api/admin/logs' },
  { method: 'POST', path: '/api/admin/audit/backup' },
  { method: 'GET', path: '/api/admin/audit/backups' },
  { method: 'GET', path: '/api/admin/audit/backups/unknown' },
  { method: 'POST', path: '/api/admin/audit/backups/unknown/verify' },
  { method: 'POST', path: '/api/admin/audit/backups/unknown/restore' },
  { method: 'DELETE', path: '/api/admin/audit/backups/unknown' },
] as const;

const ALL_ROUTES = [...DECISION_ROUTES, ...ADMIN_ROUTES];

function send(s: TestServer, route: { method: string; path: string; body?: unknown }, authorization?: string) {
  return call(s.url, route.method, route.path, {
    ...(route.body !== undefined ? { body: route.body } : {}),
    headers: authorization === undefined ? {} : { authorization },
  });
}

describe('authentication and authorization', () => {
  let s: TestServer;
  let user: string;

  beforeAll(async () => {
    s = await startTestServer({ rateLimit: { limit: 10_000, windowMs: 60_000 } });
    user = await createKey(s.url, s.adminToken, 'auth-user');
  });
  afterAll(() => s.close());

  it('refuses every protected route without a key: 401 "Missing API key" with WWW-Authenticate: Bearer', async () => {
    for (const route of ALL_ROUTES) {
      for (const header of [undefined, '', '   ']) {
        const answer = await send(s, route, header);
        expectError(answer, 401, 'Missing API key');
        expect(answer.headers['www-authenticate'], `${route.method} ${route.path}`).toBe('Bearer');
      }
    }
  });

  it('answers 401 "Invalid API key format" for a header that is not Bearer <id>.<secret>', async () => {
    const shapes = [
      'Bearer',
      'Bearer ',
      'Basic dXNlcjpwYXNz',
      `Token ${user}`,
      user, // no scheme at all
      'Bearer nodothere',
      `Bearer ${keyIdOf(user)}${secretOf(user)}`, // the dot dropped
      `Bearer ${user}.`, // a trailing dot: nothing after the last dot
      'Bearer .',
      `Bearer ${user} extra`,
      `Bearer ${keyIdOf(user)} .${secretOf(user)}`,
    ];
    for (const route of [DECISION_ROUTES[0], ADMIN_ROUTES[0]]) {
      for (const header of shapes) {
        const answer = await send(s, route, header);
        expectError(answer, 401, 'Invalid API key format');
        expect(answer.headers['www-authenticate'], header).toBe('Bearer');
      }
    }
  });

  it('answers 401 "Invalid API key" for an unknown key id or a wrong secret', async () => {
    const other = newApiToken();
    const anotherUser = await createKey(s.url, s.adminToken, 'auth-other');
    const shapes = [
      other.token, // well-formed, unknown key id
      `${keyIdOf(user)}.${other.secret}`, // right key id, wrong secret
      `${keyIdOf(user)}.${secretOf(anotherUser)}`, // right key id, another key's secret
      `${keyIdOf(user)}.${secretOf(user).slice(0, -1)}`, // secret one character short
      `${keyIdOf(user)}.${secretOf(user)}A`, // secret one character long
      `${keyIdOf(user).toUpperCase()}.${secretOf(user)}`, // key ids are exact
      `${keyIdOf(user)}.${secretOf(user).toLowerCase()}`, // secrets are exact
      `${keyIdOf(user)}.x`,
      `x.${user}`, // split on the last dot: key id "x.<uuid>" is unknown
      `.${user}`, // likewise: key id ".<uuid>"
    ];
    for (const route of [DECISION_ROUTES[0], DECISION_ROUTES[1], ADMIN_ROUTES[0]]) {
      for (const token of shapes) {
        const answer = await send(s, route, `Bearer ${token}`);
        expectError(answer, 401, 'Invalid API key');
        expect(answer.headers['www-authenticate'], token).toBe('Bearer');
      }
    }
  });

  it('splits a token on its last dot', () => {
    expect(parseApiToken('a.b.c')).toMatchObject({ keyId: 'a.b', secret: 'c' });
    expect(parseApiToken('abc.')).toBeUndefined();
    expect(parseApiToken('.abc')).toBeUndefined();
    expect(parseApiToken('abc')).toBeUndefined();
  });

  it('accepts the Bearer scheme in any case and surrounding whitespace', async () => {
    for (const header of [`Bearer ${user}`, `bearer ${user}`, `BEARER ${user}`, `Bearer   ${user}  `]) {
      const answer = await call(s.url, 'POST', '/api/evaluate', { headers: { authorization: header } });
      expect(answer.status, header).toBe(200);
    }
  });

  it('POST /api/evaluate verifies the key and names its key id and customer', async () => {
    const created = await call(s.url, 'POST', '/api/admin/keys', {
      token: s.adminToken,
      body: { name: 'customer-key', customer_id: 'acme' },
    });
    expect(created.status).toBe(201);
    const answer = await call(s.url, 'POST', '/api/evaluate', { token: created.body.api_key });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      status: 'ok',
      customer_id: 'acme',
      key_id: created.body.key_id,
      message: 'API key verified successfully',
    });
  });

  it('a user key may call the decision routes; an admin key may too', async () => {
    for (const token of [user, s.adminToken]) {
      for (const route of DECISION_ROUTES) {
        const answer = await call(s.url, route.method, route.path, { token, body: route.body });
        expect(answer.status, `${route.path}`).toBe(200);
      }
    }
  });

  it('a user key on any admin route: 403 "Admin access required"', async () => {
    for (const route of ADMIN_ROUTES) {
      const answer = await send(s, route, `Bearer ${user}`);
      expectError(answer, 403, 'Admin access required');
    }
  });

  it('a revoked key: 403 "API key inactive" on decision and admin routes', async () => {
    const doomedUser = await createKey(s.url, s.adminToken, 'doomed-user');
    const doomedAdmin = await createKey(s.url, s.adminToken, 'doomed-admin', 'admin');
    for (const token of [doomedUser, doomedAdmin]) {
      const deleted = await call(s.url, 'DELETE', `/api/admin/keys/${keyIdOf(token)}`, { token: s.adminToken });
      expect(deleted.status).toBe(200);
    }
    for (const token of [doomedUser, doomedAdmin]) {
      for (const route of DECISION_ROUTES) expectError(await send(s, route, `Bearer ${token}`), 403, 'API key inactive');
    }
    for (const route of ADMIN_ROUTES) {
      expectError(await send(s, route, `Bearer ${doomedAdmin}`), 403, 'API key inactive');
      // The key is checked before its role: an inactive user key is inactive, not "not admin".
      expectError(await send(s, route, `Bearer ${doomedUser}`), 403, 'API key inactive');
    }
    // A wrong secret for an inactive key is still just an invalid key: nothing about its state leaks.
    expectError(await send(s, DECISION_ROUTES[1], `Bearer ${keyIdOf(doomedUser)}.${newApiToken().secret}`), 401, 'Invalid API key');
  });

  it('a rotated-away key: 403 "API key inactive" at once; its replacement works', async () => {
    const old = await createKey(s.url, s.adminToken, 'to-rotate');
    expect((await call(s.url, 'POST', '/api/evaluate', { token: old })).status).toBe(200);
    const rotated = await call(s.url, 'POST', `/api/admin/keys/${keyIdOf(old)}/rotate`, { token: s.adminToken });
    expect(rotated.status).toBe(200);
    for (const route of DECISION_ROUTES) expectError(await send(s, route, `Bearer ${old}`), 403, 'API key inactive');
    const fresh = await call(s.url, 'POST', '/api/evaluate', { token: rotated.body.api_key });
    expect(fresh.status).toBe(200);
    expect(fresh.body.key_id).toBe(rotated.body.key_id);
  });

  it('the public endpoints need no key and ignore a bad one', async () => {
    for (const path of ['/health', '/health/detailed', '/metrics']) {
      const variants: Array<Record<string, string>> = [{}, { authorization: 'Bearer nonsense' }, { authorization: `Bearer ${newApiToken().token}` }];
      for (const headers of variants) {
        expect((await call(s.url, 'GET', path, { headers })).status, path).toBe(200);
      }
    }
  });
});
