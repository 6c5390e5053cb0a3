import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf } from '../helpers/contract.js';
import { call, createKey, type Answer } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

function expectSecurityHeaders(answer: Answer, label: string): void {
  expect(answer.headers['x-content-type-options'], label).toBe('nosniff');
  expect(answer.headers['x-frame-options'], label).toBe('DENY');
  expect(answer.headers['cache-control'], label).toBe('no-store');
}

function corsHeaders(answer: Answer): string[] {
  return Object.keys(answer.headers).filter((h) => h.startsWith('access-control-'));
}

describe('security headers, and no CORS by default', () => {
  let s: TestServer;
  let user: string;

  beforeAll(async () => {
    s = await startTestServer();
    user = await createKey(s.url, s.adminToken, 'headers');
  });
  afterAll(() => s.close());

  async function variety(origin?: string): Promise<Array<[string, Answer]>> {
    const headers: Record<string, string> = origin ? { origin } : {};
    const body = { model: 'm', operation: 'o' };
    return [
      ['health', await call(s.url, 'GET', '/health', { headers })],
      ['health/detailed', await call(s.url, 'GET', '/health/detailed', { headers })],
      ['metrics', await call(s.url, 'GET', '/metrics', { headers })],
      ['check 200', await call(s.url, 'POST', '/v1/check', { token: user, body, headers })],
      ['evaluate 200', await call(s.url, 'POST', '/api/evaluate', { token: user, headers })],
      ['check 400', await call(s.url, 'POST', '/v1/check', { token: user, body: { ...body, prompt: 'x' }, headers })],
      ['check 400 json', await call(s.url, 'POST', '/v1/check', { token: user, raw: '{', headers })],
      ['check 401', await call(s.url, 'POST', '/v1/check', { body, headers })],
      ['check 413', await call(s.url, 'POST', '/v1/check', { token: user, raw: 'x'.repeat(1024 * 1024 + 1), headers })],
      ['check 422', await call(s.url, 'POST', '/v1/check', { token: user, body: {}, headers })],
      ['admin 403', await call(s.url, 'GET', '/api/admin/keys', { token: user, headers })],
      ['admin keys', await call(s.url, 'GET', '/api/admin/keys', { token: s.adminToken, headers })],
      ['admin create', await call(s.url, 'POST', '/api/admin/keys', { token: s.adminToken, body: { name: 'h' }, headers })],
      ['admin policies', await call(s.url, 'GET', '/api/admin/policies', { token: s.adminToken, headers })],
      ['admin logs', await call(s.url, 'GET', '/api/admin/logs', { token: s.adminToken, headers })],
      ['admin 404', await call(s.url, 'DELETE', `/api/admin/keys/${keyIdOf(user)}x`, { token: s.adminToken, headers })],
      ['unknown 404', await call(s.url, 'GET', '/nope', { headers })],
      ['bad url 400', await call(s.url, 'GET', '/api/admin/keys/%E0%A4%A', { token: s.adminToken, headers })],
    ];
  }

  it('sends nosniff, X-Frame-Options: DENY and Cache-Control: no-store on every response', async () => {
    for (const [label, answer] of await variety()) expectSecurityHeaders(answer, label);
  });

  it('sends no CORS headers, even to a browser origin', async () => {
    for (const [label, answer] of await variety('https://app.example')) expect(corsHeaders(answer), label).toEqual([]);
  });

  it('answers no CORS preflight', async () => {
    const preflight = await call(s.url, 'OPTIONS', '/v1/check', {
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.status).toBe(404);
    expect(corsHeaders(preflight)).toEqual([]);
  });
});

describe('CORS with corsOrigins', () => {
  const allowed = 'https://app.example';
  let s: TestServer;
  let user: string;

  beforeAll(async () => {
    s = await startTestServer({ corsOrigins: [allowed] });
    user = await createKey(s.url, s.adminToken, 'cors');
  });
  afterAll(() => s.close());

  it('allows the configured origin, and lets it read the rate-limit headers', async () => {
    const answer = await call(s.url, 'POST', '/v1/check', { token: user, body: { model: 'm', operation: 'o' }, headers: { origin: allowed } });
    expect(answer.status).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe(allowed);
    expect(String(answer.headers['vary'])).toMatch(/origin/i);
    const exposed = String(answer.headers['access-control-expose-headers']).toLowerCase();
    for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after']) expect(exposed).toContain(h);
    expectSecurityHeaders(answer, 'cors check');
  });

  it('does not allow another origin', async () => {
    const answer = await call(s.url, 'GET', '/health', { headers: { origin: 'https://evil.example' } });
    expect(answer.status).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers preflights for the decision and admin methods, with Authorization allowed', async () => {
    for (const [path, method] of [
      ['/v1/check', 'POST'],
      ['/api/admin/policies/max_risk_score', 'PATCH'],
      ['/api/admin/keys/x', 'DELETE'],
    ] as const) {
      const answer = await call(s.url, 'OPTIONS', path, {
        headers: { origin: allowed, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' },
      });
      expect(answer.status, path).toBeLessThan(300);
      expect(answer.headers['access-control-allow-origin']).toBe(allowed);
      expect(String(answer.headers['access-control-allow-methods'])).toContain(method);
      expect(String(answer.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    }
  });
});
