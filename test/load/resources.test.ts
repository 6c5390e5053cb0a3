import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GovernanceClient } from '../../src/client/governance-client.js';
import { startResourceSampler } from '../../src/load/resources.js';
import { check } from '../helpers/contract.js';
import { startForgetfulServer } from '../helpers/forgetful-server.js';
import { createKey } from '../helpers/http.js';
import { startTestServer } from '../helpers/server.js';
import { spawnServer, stopSpawnedServers } from '../helpers/spawned-server.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function clientFor(url: string): GovernanceClient {
  const client = new GovernanceClient({ baseUrl: url, timeoutMs: 5_000 });
  cleanups.push(() => client.close());
  return client;
}

/** A /metrics page whose text the test sets, telling each scrape as it happens. */
async function startMetricsServer(initial: string) {
  let text = initial;
  let waiting: Array<() => void> = [];
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(text);
    for (const resolve of waiting.splice(0)) resolve();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections())));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    set: (next: string) => (text = next),
    /** Resolves after the next scrape has been answered. */
    nextScrape: () => new Promise<void>((resolve) => waiting.push(resolve)),
  };
}

const page = (requests: number, extra = '') => `# TYPE requests_total counter
requests_total{route="/v1/check",status="200"} ${requests}
# TYPE latency_ms histogram
latency_ms_bucket{le="10"} ${requests}
latency_ms_bucket{le="+Inf"} ${requests}
latency_ms_sum ${requests * 2}
latency_ms_count ${requests}
# TYPE active_api_keys gauge
active_api_keys ${requests % 7}
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes ${50_000_000 + requests}
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total ${requests / 100}
${extra}`;

describe('the resource sampler', () => {
  it('against the reference server: client samples, counter deltas over the run, gauges at the end, the RSS trend from /metrics', async () => {
    const s = await startTestServer({ rateLimit: { limit: 10_000, windowMs: 60_000 } });
    cleanups.push(() => s.close());
    const token = await createKey(s.url, s.adminToken, 'load');
    const client = clientFor(s.url);
    const sampler = startResourceSampler({ intervalMs: 20, scrapeMetrics: () => client.metrics(), metricsEveryMs: 50 });
    await sampler.ready;
    const N = 12;
    for (let i = 0; i < N; i++) expect((await check(s.url, token, { contains_personal_data: i < 4 })).status).toBe(200);
    const summary = await sampler.stop();

    expect(summary.client.length).toBeGreaterThanOrEqual(1);
    for (const sample of summary.client) {
      expect(sample.cpu_pct).toBeGreaterThanOrEqual(0);
      expect(sample.rss_bytes).toBeGreaterThan(0);
    }
    expect(summary.metrics.status).toBe('measured');
    if (summary.metrics.status !== 'measured') return;
    const { counters, gauges } = summary.metrics;
    expect(counters['governance_allowed_total']).toBe(8);
    expect(counters['governance_blocked_total']).toBe(4);
    // Every check, plus the scrapes after the first (the server counts /metrics itself too).
    expect(counters['requests_total']).toBeGreaterThanOrEqual(N);
    const perLabel = Object.entries(counters).filter(([key]) => key.startsWith('requests_total{'));
    expect(perLabel.length).toBeGreaterThan(0);
    expect(perLabel.reduce((sum, [, v]) => sum + v, 0)).toBe(counters['requests_total']);
    expect(gauges['active_api_keys']).toBeGreaterThanOrEqual(1);
    expect(Object.keys(counters).some((k) => k.endsWith('_bucket'))).toBe(false);
    expect(summary.rssSource).toBe('metrics');
    expect(summary.rss.length).toBeGreaterThanOrEqual(2);
    expect(summary.target.status).toBe('measured');
    expect(await sampler.stop()).toBe(summary);
  });

  it('counters add up across a server restart; new series count from 0; buckets are left out', async () => {
    const metrics = await startMetricsServer(page(100));
    const client = clientFor(metrics.url);
    const sampler = startResourceSampler({ intervalMs: 1_000, scrapeMetrics: () => client.metrics(), metricsEveryMs: 10 });
    await sampler.ready;
    metrics.set(page(150, '# TYPE rate_limit_hits_total counter\nrate_limit_hits_total 3\n'));
    await metrics.nextScrape();
    await metrics.nextScrape();
    // The server restarted: its counters start again from 0.
    metrics.set(page(20, '# TYPE rate_limit_hits_total counter\nrate_limit_hits_total 1\n'));
    const summary = await sampler.stop();
    expect(summary.metrics).toMatchObject({
      status: 'measured',
      counters: {
        requests_total: 70,
        'requests_total{route="/v1/check",status="200"}': 70,
        latency_ms_count: 70,
        latency_ms_sum: 140,
        rate_limit_hits_total: 4,
      },
      gauges: { active_api_keys: 6, process_resident_memory_bytes: 50_000_020 },
    });
    if (summary.metrics.status === 'measured') expect(Object.keys(summary.metrics.counters).join()).not.toMatch(/bucket/);
    expect(summary.rssSource).toBe('metrics');
    expect(summary.rss[0]).toMatchObject({ rss_bytes: 50_000_100 });
    expect(summary.rss.at(-1)).toMatchObject({ rss_bytes: 50_000_020 });
  });

  it('a managed server: its RSS and CPU come from the process', async () => {
    const spawned = await spawnServer();
    cleanups.push(() => stopSpawnedServers());
    const client = clientFor(spawned.url);
    const sampler = startResourceSampler({ intervalMs: 20, server: spawned.server, scrapeMetrics: () => client.metrics() });
    await sampler.ready;
    const token = await createKey(spawned.url, spawned.adminToken, 'load');
    for (let i = 0; i < 5; i++) await check(spawned.url, token);
    const summary = await sampler.stop();
    expect(summary.target.status).toBe('measured');
    if (summary.target.status !== 'measured') return;
    expect(summary.target.samples.length).toBeGreaterThanOrEqual(1);
    for (const sample of summary.target.samples) {
      expect(sample.rss_bytes).toBeGreaterThan(10_000_000);
      expect(sample.cpu_pct).toBeGreaterThanOrEqual(0);
    }
    expect(summary.rssSource).toBe('process');
    expect(summary.rss).toEqual(summary.target.samples.map((s) => ({ t: s.t, rss_bytes: s.rss_bytes })));
  });

  it('a server without /metrics: not measured with the reason, and the run goes on', async () => {
    const s = await startForgetfulServer();
    cleanups.push(() => s.close());
    const client = clientFor(s.url);
    const sampler = startResourceSampler({ intervalMs: 1_000, scrapeMetrics: () => client.metrics() });
    await sampler.ready;
    const summary = await sampler.stop();
    expect(summary.metrics.status).toBe('not_measured');
    expect(summary.metrics.status === 'not_measured' && summary.metrics.reason).toMatch(/\/metrics could not be read: .*does not support reading metrics/);
    expect(summary.target.status).toBe('not_measured');
    expect(summary).toMatchObject({ rss: [], rssSource: null });
    expect(summary.client.length).toBe(1);
  });

  it('after the signal fires: no last scrape, what was gathered is returned', async () => {
    const metrics = await startMetricsServer(page(10));
    const client = clientFor(metrics.url);
    const controller = new AbortController();
    const sampler = startResourceSampler({ intervalMs: 1_000, scrapeMetrics: () => client.metrics(), metricsEveryMs: 60_000, signal: controller.signal });
    await sampler.ready;
    metrics.set(page(99));
    controller.abort();
    const summary = await sampler.stop();
    expect(summary.metrics).toMatchObject({ status: 'measured', counters: {}, gauges: { active_api_keys: 3 } });
    expect(summary.rss).toHaveLength(1);
  });
});
