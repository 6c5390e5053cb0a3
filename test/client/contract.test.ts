import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GovernanceClient } from '../../src/client/governance-client.js';
import { metricValue } from '../../src/client/prometheus.js';
import { authHeaders, createDispatcher, parseServerUrl } from '../../src/client/transport.js';
import { createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The client over the whole contract, against the real reference server. */
describe('GovernanceClient against the reference server', () => {
  let server: TestServer;
  let client: GovernanceClient;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer({ rateLimit: { limit: 5, windowMs: 60_000 } });
    client = new GovernanceClient({ baseUrl: server.url, adminKey: server.adminToken, timeoutMs: 10_000 });
    token = await createKey(server.url, server.adminToken, 'contract');
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it('checks an operation: allowed, risk_score, reason, decision_id and the rate-limit headers', async () => {
    const ok = await client.check(token, { model: 'gpt-x', operation: 'summarise' });
    expect(ok).toMatchObject({ allowed: true, risk_score: 0, reason: 'ok', http_status: 200 });
    expect(ok.decision_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(ok.rate_limit.limit).toEqual(expect.any(Number));
    expect(ok.rate_limit.remaining).toBe(ok.rate_limit.limit! - 1);
    expect(ok.rate_limit.reset).toBeGreaterThan(Date.now() / 1000 - 1);

    const blocked = await client.check(token, { model: 'gpt-x', operation: 'o', metadata: { contains_personal_data: true } });
    expect(blocked).toMatchObject({ allowed: false, risk_score: 70, reason: 'contains_personal_data' });
    // The decision the client saw is in the log, under the id it returned.
    const page = await client.logs({ page: 1, pageSize: 5 });
    expect(page.logs[0]).toMatchObject({ id: blocked.decision_id, allowed: false, risk_score: 70, model: 'gpt-x' });
  });

  it('verifies a key through /api/evaluate', async () => {
    const result = await client.evaluate(token);
    expect(result).toMatchObject({ status: 'ok', message: 'API key verified successfully', http_status: 200 });
    expect(token.startsWith(`${result.key_id}.`)).toBe(true);
  });

  it('reads /metrics as parsed Prometheus text', async () => {
    const metrics = await client.metrics();
    expect(metrics.content_type).toMatch(/^text\/plain/);
    expect(metrics.invalid).toEqual([]);
    expect(metrics.families['requests_total']?.type).toBe('counter');
    expect(metricValue(metrics, 'governance_allowed_total', { model: 'gpt-x' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('finds no deviation in the reference server answers, all admin operations included', async () => {
    await client.health();
    await client.health(true);
    await client.checkAdminAccess();
    const created = await client.createKey({ name: 'dev-check' });
    await client.listKeys();
    await client.rotateKey(created.key_id!);
    const policies = await client.listPolicies();
    await client.updatePolicy(policies[0]!.key!, { enabled: true });
    await client.logs({ page: 1, pageSize: 10 });
    const backup = await client.createBackup(true);
    await client.listBackups();
    await client.verifyBackup(backup.id!);
    await client.evaluate(token);
    expect(client.deviations).toEqual([]);
  });

  it('a 429 is an answer with its Retry-After, not an error', async () => {
    let last = await client.check(token, { model: 'm', operation: 'o' });
    for (let i = 0; i < 10 && last.http_status !== 429; i++) last = await client.check(token, { model: 'm', operation: 'o' });
    expect(last.http_status).toBe(429);
    expect(last.allowed).toBeNull();
    expect(last.rate_limit.retry_after).toEqual(expect.any(Number));
  });

  it('shares its connection settings: a lean request path built on createDispatcher and authHeaders', async () => {
    const settings: { baseUrl: string; timeoutMs: number; adminKey?: string } = { baseUrl: server.url, timeoutMs: 5000 };
    const dispatcher = createDispatcher(settings);
    try {
      const { url } = parseServerUrl(settings.baseUrl);
      const response = await request(new URL('/v1/check', url), {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json', ...authHeaders(settings, { token }) },
        body: JSON.stringify({ model: 'lean', operation: 'o' }),
      });
      await response.body.text();
      expect([200, 429]).toContain(response.statusCode);
    } finally {
      await dispatcher.close();
    }
    expect(() => authHeaders(settings, 'admin')).toThrow('needs an admin key');
    expect(() => authHeaders({ adminKey: 'a\nb' }, 'admin')).toThrow('control characters');
  });

  it('refuses an answer larger than maxBodyBytes', async () => {
    const small = new GovernanceClient({ baseUrl: server.url, adminKey: server.adminToken, maxBodyBytes: 64 });
    try {
      await expect(small.listPolicies()).rejects.toThrow(/sent more than 64 bytes in answer to GET \/api\/admin\/policies/);
    } finally {
      await small.close();
    }
  });
});
