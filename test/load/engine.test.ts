import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { GovernanceClient } from '../../src/client/governance-client.js';
import { runLoadEngine, type LoadEngineOptions } from '../../src/load/engine.js';
import type { ResolvedProfile, ResolvedScenario, ScenarioRequest } from '../../src/load/types.js';
import { startForgetfulServer } from '../helpers/forgetful-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function profile(overrides: Partial<ResolvedProfile>): ResolvedProfile {
  return {
    name: 'test',
    source: 'test',
    model: 'closed',
    start: 0,
    stages: [{ duration_ms: 1000, vus: 4, ramp: false }],
    warmup_ms: 0,
    max_vus: 10,
    keys: 2,
    scenario: 'test',
    thresholds: {},
    analyses: [],
    timeout_ms: 5000,
    embedded_serve_args: [],
    ...overrides,
  };
}

function request(overrides: Partial<ScenarioRequest>): ScenarioRequest {
  return {
    name: 'get',
    weight: 1,
    method: 'GET',
    path: '/',
    auth: 'none',
    bodies: [],
    headers: {},
    expect: { status: [200] },
    audited: false,
    ...overrides,
  };
}

const checks: ResolvedScenario = {
  name: 'checks',
  source: 'test',
  requests: [
    request({
      name: 'check_allowed',
      method: 'POST',
      path: '/v1/check',
      auth: 'api_key',
      bodies: [JSON.stringify({ model: 'gpt-4o', operation: 'summarise' }), JSON.stringify({ model: 'claude', operation: 'classify' })],
      expect: { status: [200], json: { allowed: true } },
      audited: true,
    }),
    request({
      name: 'check_blocked',
      weight: 1,
      method: 'POST',
      path: '/v1/check',
      auth: 'api_key',
      bodies: [JSON.stringify({ model: 'gpt-4o', operation: 'x', metadata: { contains_personal_data: true } })],
      expect: { status: [200], json: { allowed: false } },
      audited: true,
    }),
    request({ name: 'health', weight: 1, path: '/health' }),
  ],
};

async function referenceServer(rateLimit = { limit: 1_000_000, windowMs: 1000 }): Promise<TestServer> {
  const server = await startTestServer({ rateLimit });
  cleanups.push(() => server.close());
  return server;
}

function engineOptions(url: string, adminKey: string | undefined, overrides: Partial<LoadEngineOptions>): LoadEngineOptions {
  const client = new GovernanceClient({ baseUrl: url, ...(adminKey ? { adminKey } : {}), timeoutMs: 5000 });
  cleanups.push(() => client.close());
  return {
    runId: `test-${Math.random().toString(36).slice(2, 8)}`,
    profile: profile({}),
    scenario: checks,
    target: { url, kind: 'remote' },
    client,
    admin: adminKey !== undefined,
    seed: 42,
    segment: null,
    workers: 1,
    tags: {},
    signal: new AbortController().signal,
    ...overrides,
  };
}

/** A plain node:http server on loopback; `handle` decides each answer. */
async function plainServer(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

describe('load engine against the reference server', () => {
  it('runs a closed profile, accounts every acknowledged decision and revokes its keys', async () => {
    const server = await referenceServer();
    const report = await runLoadEngine(engineOptions(server.url, server.adminToken, { profile: profile({ thresholds: { errors: ['rate<0.01'] } }) }));
    const data = report.data;
    expect(report.schema).toBe('govctl.load/v1');
    expect(data.totals.requests).toBeGreaterThan(20);
    expect(data.totals.errors).toBe(0);
    expect(Object.keys(data.endpoints).sort()).toEqual(['check_allowed', 'check_blocked', 'health']);
    expect(data.endpoints['check_blocked']!.ok).toBe(data.endpoints['check_blocked']!.requests);
    expect(data.keys).toEqual({ count: 2, source: 'provisioned', revoked: true });
    expect(data.audit).toMatchObject({ status: 'measured', lost: 0 });
    if (data.audit.status === 'measured') expect(data.audit.acknowledged).toBe(data.audit.logged);
    expect(data.thresholds).toEqual([expect.objectContaining({ metric: 'errors', passed: true, value: 0 })]);
    expect(report.run.status).toBe('passed');
    // The run's keys are gone from the server.
    const keys = await new GovernanceClient({ baseUrl: server.url, adminKey: server.adminToken }).listKeys();
    expect(keys.filter((k) => k.name?.startsWith('govctl-load-') && k.active)).toEqual([]);
  });

  it('burst: a single key meets the per-key limit; 429s are throttled, not errors, and the server stays healthy', async () => {
    const server = await referenceServer({ limit: 20, windowMs: 60_000 });
    const report = await runLoadEngine(
      engineOptions(server.url, server.adminToken, {
        profile: profile({ keys: 1, stages: [{ duration_ms: 1000, vus: 20, ramp: false }], analyses: ['throttling'] }),
      }),
    );
    const data = report.data;
    expect(data.totals.throttled).toBeGreaterThan(0);
    expect(data.totals.errors).toBe(0);
    expect(data.throttling).toEqual({ throttled: data.totals.throttled, without_retry_after: 0, server_errors: 0, healthy_after: true });
    expect(report.run.status).toBe('passed');
  });

  it('stops on abort: a partial report marked interrupted, keys still revoked', async () => {
    const server = await referenceServer();
    const controller = new AbortController();
    const options = engineOptions(server.url, server.adminToken, {
      profile: profile({ stages: [{ duration_ms: 60_000, vus: 2, ramp: false }] }),
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'progress' && event.live.requests > 0) controller.abort();
      },
    });
    const report = await runLoadEngine(options);
    expect(report.run.status).toBe('interrupted');
    expect(report.data.keys.revoked).toBe(true);
    expect(report.data.window.ended_at - report.data.window.started_at).toBeLessThan(30_000);
  });
});

describe('load engine against purpose-built servers', () => {
  it('stress: finds the breaking point of a server that fails above a known concurrency', async () => {
    let inFlight = 0;
    const url = await plainServer((_req, res) => {
      inFlight++;
      const status = inFlight > 12 ? 503 : 200;
      setTimeout(() => {
        inFlight--;
        res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
      }, 2);
    });
    const report = await runLoadEngine(
      engineOptions(url, undefined, {
        scenario: { name: 'work', source: 'test', requests: [request({ name: 'work', path: '/work' })] },
        profile: profile({
          stages: [
            { duration_ms: 700, vus: 2, ramp: false },
            { duration_ms: 700, vus: 6, ramp: false },
            { duration_ms: 700, vus: 40, ramp: false },
          ],
          analyses: ['steps'],
          thresholds: { errors: ['rate<0.01'] },
        }),
      }),
    );
    const data = report.data;
    expect(data.stages.map((s) => s.broken)).toEqual([false, false, true]);
    expect(data.breaking_point).toMatchObject({ stage: 2, level: 40 });
    expect(data.max_sustained_throughput_rps).toBeGreaterThan(0);
    expect(report.run.status).toBe('failed');
  });

  it('open model: latency from the intended send time shows a server stall that the service time hides', async () => {
    // Every response due while the stall lasts is held until it ends: 500 ms at a known moment.
    const stallMs = 500;
    let first: number | undefined;
    const url = await plainServer((_req, res) => {
      const now = performance.now();
      first ??= now;
      const stallStart = first + 1500;
      const stallEnd = stallStart + stallMs;
      const delay = now >= stallStart && now < stallEnd ? stallEnd - now : 0;
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), delay);
    });
    const report = await runLoadEngine(
      engineOptions(url, undefined, {
        scenario: { name: 'work', source: 'test', requests: [request({ name: 'work' })] },
        profile: profile({ model: 'open', stages: [{ duration_ms: 4000, rate: 400, ramp: false }], max_vus: 4 }),
      }),
    );
    const totals = report.data.totals;
    // Theory: arrivals due during the stall (1/8 of the run) wait for it to end, so their latency
    // is spread evenly over 0..500 ms: p99 of the run is where 1% of all requests lie above,
    // 500 * (1 - 0.01 / 0.125) = 460 ms. The service time sees only the 4 requests that were
    // on the wire when the stall began (0.25%), so its p99 stays small.
    expect(totals.requests).toBeGreaterThan(1400);
    expect(totals.latency_ms.p99).toBeGreaterThan(380);
    expect(totals.latency_ms.p99).toBeLessThan(560);
    expect(totals.latency_ms.max).toBeGreaterThan(450);
    expect(totals.service_ms.p99).toBeLessThan(100);
    expect(totals.dropped).toBe(0);
  });

  it('audit accounting: a server that acknowledges decisions without logging them loses records, and the run fails', async () => {
    const server = await startForgetfulServer({ dropEvery: 7 });
    cleanups.push(() => server.close());
    const report = await runLoadEngine(
      engineOptions(server.url, server.adminKey, {
        scenario: { ...checks, requests: [{ ...checks.requests[0]!, expect: { status: [200] } }] },
        profile: profile({ stages: [{ duration_ms: 800, vus: 2, ramp: false }] }),
      }),
    );
    const audit = report.data.audit;
    expect(audit.status).toBe('measured');
    if (audit.status !== 'measured') return;
    expect(audit.acknowledged).toBe(server.acknowledged());
    expect(audit.lost).toBe(server.acknowledged() - server.logged());
    expect(audit.lost).toBeGreaterThan(0);
    expect(report.data.findings.map((f) => f.rule)).toContain('audit-records-lost');
    expect(report.run.status).toBe('failed');
  });

  it('says "not measured" for audit accounting when the target has no admin API', async () => {
    const url = await plainServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"allowed":true}'));
    const report = await runLoadEngine(
      engineOptions(url, undefined, {
        apiKeys: { tokens: ['00000000-0000-4000-8000-000000000000.secret'], keyIds: ['00000000-0000-4000-8000-000000000000'] },
        scenario: { ...checks, requests: [checks.requests[0]!] },
      }),
    );
    expect(report.data.keys).toEqual({ count: 1, source: 'provided', revoked: null });
    expect(report.data.audit).toEqual({ status: 'not_measured', reason: expect.stringContaining('admin') });
  });
});
