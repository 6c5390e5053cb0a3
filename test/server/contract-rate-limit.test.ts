import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiToken } from '../../src/core/api-token.js';
import { expectError, keyIdOf, metricValue, scrape } from '../helpers/contract.js';
import { call, createKey, type Answer } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const LIMIT = 5;
const WINDOW_S = 60;

function limitHeaders(answer: Answer) {
  return {
    limit: answer.headers['x-ratelimit-limit'],
    remaining: answer.headers['x-ratelimit-remaining'],
    reset: answer.headers['x-ratelimit-reset'],
  };
}

/** X-RateLimit-* present and consistent: limit, remaining as expected, reset in the current window. */
function expectLimitHeaders(answer: Answer, remaining: number, sentAt: number): void {
  const h = limitHeaders(answer);
  expect(h.limit).toBe(String(LIMIT));
  expect(h.remaining).toBe(String(remaining));
  const reset = Number(h.reset);
  expect(Number.isInteger(reset)).toBe(true);
  expect(reset).toBeGreaterThanOrEqual(Math.floor(sentAt / 1000));
  expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + WINDOW_S);
}

describe('rate limiting (5 per 60 s)', () => {
  let s: TestServer;
  const fresh = (name: string) => createKey(s.url, s.adminToken, name);
  const body = { model: 'm', operation: 'o' };

  beforeAll(async () => {
    s = await startTestServer({ rateLimit: { limit: LIMIT, windowMs: WINDOW_S * 1000 } });
  });
  afterAll(() => s.close());

  it('counts down X-RateLimit-Remaining on every response, then answers 429 with Retry-After and the exact detail', async () => {
    const token = await fresh('countdown');
    const sentAt = Date.now();
    for (let i = 1; i <= LIMIT; i++) {
      const answer = await call(s.url, 'POST', '/v1/check', { token, body });
      expect(answer.status).toBe(200);
      expectLimitHeaders(answer, LIMIT - i, sentAt);
    }
    for (const path of ['/v1/check', '/api/evaluate']) {
      const refused = await call(s.url, 'POST', path, { token, body });
      expectError(refused, 429, `Rate limit exceeded: ${LIMIT} requests per ${WINDOW_S} seconds`);
      expectLimitHeaders(refused, 0, sentAt);
      const retryAfter = Number(refused.headers['retry-after']);
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(WINDOW_S);
      // Retry-After points at the end of the window that X-RateLimit-Reset names.
      // (Within 2 s: both are rounded up to whole seconds, and the client's clock reads a little later.)
      expect(Math.abs(Math.ceil(Date.now() / 1000) + retryAfter - Number(refused.headers['x-ratelimit-reset']))).toBeLessThanOrEqual(2);
    }
  });

  it('counts /v1/check and /api/evaluate together, per key', async () => {
    const token = await fresh('shared');
    const sentAt = Date.now();
    const paths = ['/v1/check', '/api/evaluate', '/v1/check', '/api/evaluate', '/api/evaluate'];
    for (const [i, path] of paths.entries()) {
      const answer = await call(s.url, 'POST', path, { token, body });
      expect(answer.status).toBe(200);
      expectLimitHeaders(answer, LIMIT - 1 - i, sentAt);
    }
    expect((await call(s.url, 'POST', '/v1/check', { token, body })).status).toBe(429);
  });

  it('counts rejected requests (400, 413, 422) too, and they carry the headers', async () => {
    const token = await fresh('rejected');
    const sentAt = Date.now();
    const bad: Array<[number, Parameters<typeof call>[3]]> = [
      [400, { token, body: { ...body, prompt: 'x' } }],
      [400, { token, raw: '{"model":' }],
      [422, { token, body: { model: 'm' } }],
      [422, { token, body: [] }],
      [413, { token, raw: `{"model":"${'x'.repeat(1024 * 1024)}","operation":"o"}` }],
    ];
    for (const [i, [status, options]] of bad.entries()) {
      const answer = await call(s.url, 'POST', '/v1/check', options);
      expect(answer.status).toBe(status);
      expectLimitHeaders(answer, LIMIT - 1 - i, sentAt);
    }
    const refused = await call(s.url, 'POST', '/v1/check', { token, body });
    expectError(refused, 429, `Rate limit exceeded: ${LIMIT} requests per ${WINDOW_S} seconds`);
  });

  it('checks authentication before the limit: an exhausted key with a bad secret is 401, a revoked one 403', async () => {
    const token = await fresh('exhausted');
    for (let i = 0; i < LIMIT + 2; i++) await call(s.url, 'POST', '/api/evaluate', { token });
    expect((await call(s.url, 'POST', '/api/evaluate', { token })).status).toBe(429);
    expectError(await call(s.url, 'POST', '/v1/check', { token: `${keyIdOf(token)}.${newApiToken().secret}`, body }), 401, 'Invalid API key');
    expectError(await call(s.url, 'POST', '/v1/check', { body }), 401, 'Missing API key');
    await call(s.url, 'DELETE', `/api/admin/keys/${keyIdOf(token)}`, { token: s.adminToken });
    expectError(await call(s.url, 'POST', '/v1/check', { token, body }), 403, 'API key inactive');
  });

  it('refused authentications do not spend the key’s budget', async () => {
    const token = await fresh('unspent');
    for (let i = 0; i < LIMIT * 2; i++) {
      const answer = await call(s.url, 'POST', '/v1/check', { token: `${keyIdOf(token)}.${newApiToken().secret}`, body });
      expect(answer.status).toBe(401);
    }
    const first = await call(s.url, 'POST', '/v1/check', { token, body });
    expect(first.status).toBe(200);
    expect(first.headers['x-ratelimit-remaining']).toBe(String(LIMIT - 1));
  });

  it('limits each key on its own', async () => {
    const a = await fresh('key-a');
    const b = await fresh('key-b');
    for (let i = 0; i < LIMIT; i++) expect((await call(s.url, 'POST', '/api/evaluate', { token: a })).status).toBe(200);
    expect((await call(s.url, 'POST', '/api/evaluate', { token: a })).status).toBe(429);
    const other = await call(s.url, 'POST', '/api/evaluate', { token: b });
    expect(other.status).toBe(200);
    expect(other.headers['x-ratelimit-remaining']).toBe(String(LIMIT - 1));
  });

  it('does not limit the admin API or the public endpoints', async () => {
    const admin = await createKey(s.url, s.adminToken, 'busy-admin', 'admin');
    for (let i = 0; i < LIMIT * 3; i++) {
      const answer = await call(s.url, 'GET', '/api/admin/policies', { token: admin });
      expect(answer.status).toBe(200);
      expect(answer.headers['x-ratelimit-limit']).toBeUndefined();
      expect((await call(s.url, 'GET', '/health')).status).toBe(200);
    }
  });

  it('does not log a refused request, and counts it in rate_limit_hits_total', async () => {
    const token = await fresh('hits');
    const logsBefore = (await call(s.url, 'GET', '/api/admin/logs?page_size=1', { token: s.adminToken })).body.total as number;
    const hitsBefore = metricValue(await scrape(s.url), 'rate_limit_hits_total');
    for (let i = 0; i < LIMIT; i++) expect((await call(s.url, 'POST', '/v1/check', { token, body })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await call(s.url, 'POST', '/v1/check', { token, body })).status).toBe(429);
    const logsAfter = (await call(s.url, 'GET', '/api/admin/logs?page_size=1', { token: s.adminToken })).body.total as number;
    expect(logsAfter).toBe(logsBefore + LIMIT);
    expect(metricValue(await scrape(s.url), 'rate_limit_hits_total')).toBe(hitsBefore + 3);
  });
});

describe('rate limiting with the default configuration', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.close());

  it('admits 100 requests per key per 60 s, then 429 "Rate limit exceeded: 100 requests per 60 seconds"', async () => {
    const token = await createKey(s.url, s.adminToken, 'default-limit');
    for (let i = 1; i <= 100; i++) {
      const answer = await call(s.url, 'POST', '/api/evaluate', { token });
      expect(answer.status).toBe(200);
      expect(answer.headers['x-ratelimit-limit']).toBe('100');
      expect(answer.headers['x-ratelimit-remaining']).toBe(String(100 - i));
    }
    const refused = await call(s.url, 'POST', '/v1/check', { token, body: { model: 'm', operation: 'o' } });
    expectError(refused, 429, 'Rate limit exceeded: 100 requests per 60 seconds');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('rate limiting windows', () => {
  // 1.5 s: long enough for three loopback requests on a busy machine, and not a whole second.
  const windowMs = 1500;
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ rateLimit: { limit: 2, windowMs } });
  });
  afterAll(() => s.close());

  it('admits the key again once its window has passed', async () => {
    const token = await createKey(s.url, s.adminToken, 'window');
    expect((await call(s.url, 'POST', '/api/evaluate', { token })).status).toBe(200);
    // The window started no later than this first answer arrived.
    const windowEndsBy = Date.now() + windowMs;
    expect((await call(s.url, 'POST', '/api/evaluate', { token })).status).toBe(200);
    const refused = await call(s.url, 'POST', '/api/evaluate', { token });
    expectError(refused, 429, 'Rate limit exceeded: 2 requests per 1.5 seconds');
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(2);
    // The one real wait in this suite: the limiter runs on the wall clock.
    await sleep(Math.max(0, windowEndsBy + 20 - Date.now()));
    const again = await call(s.url, 'POST', '/api/evaluate', { token });
    expect(again.status).toBe(200);
    expect(again.headers['x-ratelimit-remaining']).toBe('1');
  });
});
