import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../src/client/prometheus.js';
import { exposes, measureObservability, REQUIRED_SERIES } from '../../src/release/observability.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Exposition text declaring every required family but `omit`, with samples where a server has them. */
function exposition(omit: string[] = []): string {
  const families: Array<[string, string, string[]]> = [
    ['requests_total', 'counter', ['requests_total{method="GET",endpoint="/health",status="200"} 3']],
    ['request_latency_ms', 'histogram', ['request_latency_ms_bucket{endpoint="/health",le="+Inf"} 3', 'request_latency_ms_sum{endpoint="/health"} 1.5', 'request_latency_ms_count{endpoint="/health"} 3']],
    ['governance_allowed_total', 'counter', []],
    ['governance_blocked_total', 'counter', []],
    ['rate_limit_hits_total', 'counter', ['rate_limit_hits_total 0']],
    ['logs_written_total', 'counter', ['logs_written_total 0']],
    ['active_api_keys', 'gauge', ['active_api_keys 1']],
    ['process_resident_memory_bytes', 'gauge', ['process_resident_memory_bytes 1000']],
    ['process_cpu_seconds_total', 'counter', ['process_cpu_seconds_total 0.5']],
  ];
  return families
    .filter(([name]) => !omit.includes(name))
    .map(([name, type, samples]) => [`# HELP ${name} x`, `# TYPE ${name} ${type}`, ...samples].join('\n'))
    .join('\n\n')
    .concat('\n');
}

type Handler = (path: string, res: ServerResponse) => void;

describe('measureObservability', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  async function plainServer(handler: Handler | 'never-answer'): Promise<string> {
    const sockets = new Set<Socket>();
    const server: Server = createServer((req, res) => {
      if (handler !== 'never-answer') handler(req.url ?? '/', res);
    });
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const healthy: Handler = (path, res) => {
    if (path === '/health') res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    else if (path === '/health/detailed') res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","components":{}}');
    else res.writeHead(404).end();
  };

  it('finds every required series and healthy endpoints on a fresh reference server (nothing decided yet)', async () => {
    const server: TestServer = await startTestServer();
    cleanups.push(() => server.close());
    const result = await measureObservability({ url: server.url });
    expect(result).toMatchObject({
      status: 'measured',
      url: server.url,
      series_required: [...REQUIRED_SERIES],
      series_missing: [],
      health: [
        { path: '/health', status: 200, ok: true },
        { path: '/health/detailed', status: 200, ok: true },
      ],
      metrics: { status: 200, format: 'text', invalid_lines: 0 },
    });
  });

  it('names the series a server does not expose, and a health endpoint that does not answer 200', async () => {
    const url = await plainServer((path, res) => {
      if (path === '/metrics') res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition(['governance_blocked_total', 'request_latency_ms']));
      else if (path === '/health') res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      else res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>not found</h1>');
    });
    const result = await measureObservability({ url });
    if (result.status !== 'measured') throw new Error(result.reason);
    expect(result.series_missing).toEqual(['request_latency_ms_bucket', 'request_latency_ms_sum', 'request_latency_ms_count', 'governance_blocked_total']);
    expect(result.health[0]).toEqual({ path: '/health', status: 200, ok: true });
    expect(result.health[1]).toMatchObject({ path: '/health/detailed', status: 404, ok: false });
    expect(result.health[1]!.error).toMatch(/not a health document/);
  });

  it('reads /metrics served as one JSON-quoted string (a known variant), and says so', async () => {
    const url = await plainServer((path, res) => {
      if (path === '/metrics') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(exposition()));
      else healthy(path, res);
    });
    const result = await measureObservability({ url });
    expect(result).toMatchObject({ status: 'measured', series_missing: [], metrics: { format: 'json-string', content_type: 'application/json' } });
  });

  it('leaves every series missing when /metrics is absent, and a 503 degraded health is not ok', async () => {
    const url = await plainServer((path, res) => {
      if (path === '/health') res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"degraded"}');
      else if (path === '/health/detailed') healthy(path, res);
      else res.writeHead(404).end();
    });
    const result = await measureObservability({ url, requiredSeries: ['requests_total'] });
    expect(result).toMatchObject({
      status: 'measured',
      series_missing: ['requests_total'],
      metrics: { status: 404, error: 'GET /metrics answered HTTP 404' },
      health: [{ path: '/health', status: 503, ok: false }, { ok: true }],
    });
  });

  it('is not measured when nothing answers: a closed port, or a listener that never answers within the timeout', async () => {
    const closed = await plainServer(healthy);
    await cleanups.pop()!();
    const refused = await measureObservability({ url: closed });
    expect(refused.status).toBe('not_measured');
    if (refused.status === 'not_measured') expect(refused.reason).toMatch(/^no answer from http:\/\/127\.0\.0\.1:\d+: cannot reach 127\.0\.0\.1:\d+: .*refused/);

    const silent = await plainServer('never-answer');
    const timedOut = await measureObservability({ url: silent, timeoutMs: 200 });
    expect(timedOut).toMatchObject({ status: 'not_measured', reason: expect.stringMatching(/timed out/) });
  });

  it('stops when its signal is aborted', async () => {
    const silent = await plainServer('never-answer');
    const controller = new AbortController();
    const pending = measureObservability({ url: silent, timeoutMs: 60_000, signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'GOVCTL_INTERRUPTED' });
  });

  it('counts a declared family as exposed, and a histogram by its family or its samples', () => {
    const declared = parsePrometheusText('# TYPE lat histogram\n# TYPE blocked_total counter\n');
    expect(exposes(declared, 'blocked_total')).toBe(true);
    expect(exposes(declared, 'lat_bucket')).toBe(true);
    expect(exposes(declared, 'other_total')).toBe(false);
    const samplesOnly = parsePrometheusText('lat_sum 1\nlat_count 2\n');
    expect(exposes(samplesOnly, 'lat_sum')).toBe(true);
    expect(exposes(samplesOnly, 'lat_bucket')).toBe(false);
  });
});
