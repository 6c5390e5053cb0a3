import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check, inBatches, keyIdOf, metricValue, parseMetrics, scrape, secretOf } from '../helpers/contract.js';
import { call, createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('GET /health and /health/detailed', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.close());

  it('GET /health: 200 {status: "ok", version, uptime_s}', async () => {
    const answer = await call(s.url, 'GET', '/health');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.body).toEqual({ status: 'ok', version: VERSION, uptime_s: expect.any(Number) });
    expect(answer.body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(answer.body.uptime_s).toBeGreaterThanOrEqual(0);
  });

  it('GET /health/detailed: the components', async () => {
    const answer = await call(s.url, 'GET', '/health/detailed');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      status: 'ok',
      version: VERSION,
      uptime_s: expect.any(Number),
      components: { database: 'ok', audit_log: { pending: 0 }, rate_limiter: 'memory' },
    });
  });

  it('uptime never goes backwards', async () => {
    const first = (await call(s.url, 'GET', '/health')).body.uptime_s as number;
    const second = (await call(s.url, 'GET', '/health/detailed')).body.uptime_s as number;
    expect(second).toBeGreaterThanOrEqual(first);
  });
});

describe('GET /health when the database cannot be written', () => {
  let s: TestServer;
  beforeAll(async () => {
    // Every /health probes afresh (by default a probe's result answers for 1 s).
    s = await startTestServer({ healthProbeMaxAgeMs: 0 });
  });
  afterAll(() => s.close());

  it('503 {status: "degraded"}', async () => {
    expect((await call(s.url, 'GET', '/health')).status).toBe(200);
    // Pull the database out from under the running server.
    s.server.state.db.close();
    const health = await call(s.url, 'GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'degraded', version: VERSION });
    const detailed = await call(s.url, 'GET', '/health/detailed');
    expect(detailed.status).toBe(503);
    expect(detailed.body).toMatchObject({ status: 'degraded', components: { database: 'error' } });
  });
});

describe('GET /metrics', () => {
  let s: TestServer;
  let user: string;

  beforeAll(async () => {
    s = await startTestServer({ rateLimit: { limit: 10_000, windowMs: 60_000 } });
    user = await createKey(s.url, s.adminToken, 'metrics-user');
  });
  afterAll(() => s.close());

  it('serves Prometheus text format 0.0.4 with the contract metric names and types', async () => {
    await check(s.url, user, {});
    await check(s.url, user, { contains_personal_data: true });
    const answer = await call(s.url, 'GET', '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const types = new Map([...answer.text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
    expect(Object.fromEntries(types)).toMatchObject({
      requests_total: 'counter',
      request_latency_ms: 'histogram',
      governance_allowed_total: 'counter',
      governance_blocked_total: 'counter',
      rate_limit_hits_total: 'counter',
      logs_written_total: 'counter',
      active_api_keys: 'gauge',
      process_resident_memory_bytes: 'gauge',
      process_cpu_seconds_total: 'counter',
    });
    // Every non-comment line parses as a sample.
    expect(parseMetrics(answer.text).length).toBeGreaterThan(0);
  });

  it('counts requests, decisions, commits and keys exactly', async () => {
    const before = await scrape(s.url);
    const allowedBefore = metricValue(before, 'governance_allowed_total', { model: 'count-model', operation: 'count-op' });
    const blockedBefore = metricValue(before, 'governance_blocked_total', { model: 'count-model', reason: 'contains_personal_data' });
    const externalBefore = metricValue(before, 'governance_blocked_total', { model: 'count-model', reason: 'external_model' });
    const okBefore = metricValue(before, 'requests_total', { method: 'POST', endpoint: '/v1/check', status: '200' });
    const badBefore = metricValue(before, 'requests_total', { method: 'POST', endpoint: '/v1/check', status: '422' });
    const latencyBefore = metricValue(before, 'request_latency_ms_count', { endpoint: '/v1/check' });
    const logsBefore = metricValue(before, 'logs_written_total');

    for (let i = 0; i < 3; i++) expect((await check(s.url, user, {}, 'count-model', 'count-op')).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await check(s.url, user, { contains_personal_data: true }, 'count-model', 'count-op')).status).toBe(200);
    expect((await check(s.url, user, { is_external_model: true }, 'count-model', 'count-op')).status).toBe(200);
    expect((await call(s.url, 'POST', '/v1/check', { token: user, body: { model: 'count-model' } })).status).toBe(422);

    const after = await scrape(s.url);
    expect(metricValue(after, 'governance_allowed_total', { model: 'count-model', operation: 'count-op' })).toBe(allowedBefore + 3);
    expect(metricValue(after, 'governance_blocked_total', { model: 'count-model', reason: 'contains_personal_data' })).toBe(blockedBefore + 2);
    expect(metricValue(after, 'governance_blocked_total', { model: 'count-model', reason: 'external_model' })).toBe(externalBefore + 1);
    expect(metricValue(after, 'requests_total', { method: 'POST', endpoint: '/v1/check', status: '200' })).toBe(okBefore + 6);
    expect(metricValue(after, 'requests_total', { method: 'POST', endpoint: '/v1/check', status: '422' })).toBe(badBefore + 1);
    expect(metricValue(after, 'request_latency_ms_count', { endpoint: '/v1/check' })).toBe(latencyBefore + 7);
    expect(metricValue(after, 'logs_written_total')).toBe(logsBefore + 6);

    const keys = (await call(s.url, 'GET', '/api/admin/keys', { token: s.adminToken })).body as Array<{ active: boolean }>;
    expect(metricValue(await scrape(s.url), 'active_api_keys')).toBe(keys.filter((k) => k.active).length);
  });

  it('tracks active_api_keys as keys come and go', async () => {
    const before = metricValue(await scrape(s.url), 'active_api_keys');
    const token = await createKey(s.url, s.adminToken, 'gauge');
    expect(metricValue(await scrape(s.url), 'active_api_keys')).toBe(before + 1);
    await call(s.url, 'DELETE', `/api/admin/keys/${keyIdOf(token)}`, { token: s.adminToken });
    expect(metricValue(await scrape(s.url), 'active_api_keys')).toBe(before);
  });

  it('keeps label cardinality bounded: 150 distinct models and operations, at most 100 of each plus "other"', async () => {
    const n = 150;
    const answers = await inBatches(Array.from({ length: n }, (_, i) => i), 8, (i) =>
      check(s.url, user, { contains_personal_data: i % 2 === 0 }, `card-model-${i}`, `card-op-${i}`),
    );
    const decisionIds = answers.map((a) => {
      expect(a.status).toBe(200);
      return a.body.decision_id as string;
    });
    // Unknown paths are client-chosen too.
    await inBatches(Array.from({ length: n }, (_, i) => i), 8, (i) => call(s.url, 'GET', `/no/such/path/${i}`));

    const text = (await call(s.url, 'GET', '/metrics')).text;
    const samples = parseMetrics(text);
    const decisionSamples = samples.filter((m) => m.name === 'governance_allowed_total' || m.name === 'governance_blocked_total');
    const models = new Set(decisionSamples.map((m) => m.labels['model']));
    const operations = new Set(decisionSamples.map((m) => m.labels['operation']));
    expect(models.size).toBeLessThanOrEqual(101);
    expect(operations.size).toBeLessThanOrEqual(101);
    expect(models.has('other')).toBe(true);
    expect(operations.has('other')).toBe(true);
    // Nothing is lost: every decision is counted under some label.
    const total = decisionSamples.filter((m) => m.labels['model']!.startsWith('card-model-') || m.labels['model'] === 'other');
    expect(total.reduce((sum, m) => sum + m.value, 0)).toBe(n);

    const endpoints = new Set(samples.filter((m) => m.name === 'requests_total').map((m) => m.labels['endpoint']));
    expect([...endpoints].some((e) => e!.startsWith('/no/such/path'))).toBe(false);
    expect(endpoints.size).toBeLessThan(30);

    // No label carries a per-key or per-request value.
    for (const id of [...decisionIds, keyIdOf(user), keyIdOf(s.adminToken)]) expect(text).not.toContain(id);
    expect(text).not.toContain(secretOf(user));
  });

  it('labels routes with parameters by their pattern, not the value', async () => {
    const token = await createKey(s.url, s.adminToken, 'pattern');
    await call(s.url, 'POST', `/api/admin/keys/${keyIdOf(token)}/rotate`, { token: s.adminToken });
    await call(s.url, 'PATCH', '/api/admin/policies/block_personal_data', { token: s.adminToken, body: { enabled: true } });
    const endpoints = new Set((await scrape(s.url)).filter((m) => m.name === 'requests_total').map((m) => m.labels['endpoint']));
    expect(endpoints).toContain('/api/admin/keys/:key_id/rotate');
    expect(endpoints).toContain('/api/admin/policies/:id');
    expect([...endpoints].some((e) => e!.includes(keyIdOf(token)) || e!.includes('block_personal_data'))).toBe(false);
  });
});
