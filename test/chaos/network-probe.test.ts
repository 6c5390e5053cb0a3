import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../src/chaos/fault-proxy.js';
import {
  CLIENT_LINK_CONNECTIONS,
  networkProbe,
  noStuckConnections,
  startNetworkLink,
  substituteProxy,
  timedOutCleanly,
  type NetworkLink,
} from '../../src/chaos/probes/network.js';
import { runProbe } from '../../src/chaos/run-probe.js';
import type { ChaosTarget, InjectedFault, ProbeOptions, Sample } from '../../src/chaos/types.js';
import { sampleHolds } from '../../src/chaos/types.js';
import { GovernanceClient } from '../../src/client/governance-client.js';
import { OperationFailedError } from '../../src/core/errors.js';
import { probeHarness, type ProbeHarness } from '../helpers/probe-harness.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function server(): Promise<{ s: TestServer; token: string; keyId: string; target: ChaosTarget }> {
  const s = await startTestServer({ rateLimit: { limit: 1_000_000, windowMs: 60_000 } });
  cleanups.push(() => s.close());
  const admin = new GovernanceClient({ baseUrl: s.url, adminKey: s.adminToken, timeoutMs: 5_000 });
  cleanups.push(() => admin.close());
  const key = await admin.createKey({ name: 'chaos-network' });
  const target: ChaosTarget = { url: s.url, kind: 'remote', adminKey: s.adminToken };
  return { s, token: key.api_key, keyId: key.key_id ?? key.api_key.split('.')[0]!, target };
}

/** The client link in front of the test server, and a harness (traffic + sampler) through it. */
async function linked(options: Partial<ProbeOptions> = {}): Promise<{ link: NetworkLink; h: ProbeHarness; s: TestServer }> {
  const { s, token, target } = await server();
  const link = await startNetworkLink(target);
  cleanups.push(() => link.close());
  const h = probeHarness({ target: link.target, adminKey: s.adminToken, token, options, ratePerSecond: 20 });
  cleanups.push(() => h.close());
  await h.holding(Date.now());
  return { link, h, s };
}

/** Injects, waits for `failures` failing samples, removes, waits for a holding one, runs the checks. */
async function experiment(h: ProbeHarness, failures: number) {
  const fault: InjectedFault = await networkProbe.inject(h.ctx);
  cleanups.push(() => fault.remove());
  let failed = 0;
  const failing = await h.ctx.sampler.waitFor((s) => !sampleHolds(s) && ++failed >= failures, fault.injected_at, 10_000);
  expect(failing, 'samples failed during the fault').toBeDefined();
  await fault.remove();
  await fault.remove(); // idempotent
  const removedAt = Date.now();
  await h.holding(removedAt);
  const checks = await fault.checks!();
  const during = h.ctx.sampler.samples.filter((s) => s.t >= fault.injected_at && s.t < removedAt);
  return { fault, checks, during };
}

describe('network probe: applicability and the dependency link', () => {
  const opts = (allowRemote: boolean) => ({ allowRemote }) as ProbeOptions;

  it('skips a remote target off loopback unless --allow-remote', () => {
    expect(networkProbe.skipReason({ url: 'https://gov.example.com', kind: 'remote' }, opts(false))).toMatch(/--allow-remote/);
    expect(networkProbe.skipReason({ url: 'https://gov.example.com', kind: 'remote' }, opts(true))).toBeUndefined();
    expect(networkProbe.skipReason({ url: 'http://127.0.0.1:8000', kind: 'remote' }, opts(false))).toBeUndefined();
    expect(networkProbe.skipReason({ url: 'http://[::1]:8000', kind: 'remote' }, opts(false))).toBeUndefined();
  });

  it('substituteProxy fills {proxy} in arguments and environment values', () => {
    const out = substituteProxy(
      ['python', '-m', 'app', '--db', 'postgres://{proxy}/gov', '--port', '{port}'],
      { REDIS_URL: 'redis://{proxy}/0', HOME: '/home/x' },
      '127.0.0.1:41234',
    );
    expect(out).toEqual({
      argv: ['python', '-m', 'app', '--db', 'postgres://127.0.0.1:41234/gov', '--port', '{port}'],
      env: { REDIS_URL: 'redis://127.0.0.1:41234/0', HOME: '/home/x' },
      used: true,
    });
    expect(substituteProxy(['srv'], { A: 'b' }, 'x:1').used).toBe(false);
  });

  it('inject without a link is an error that says what is missing', async () => {
    const { s, token, target } = await server();
    const h = probeHarness({ target, adminKey: s.adminToken, token });
    cleanups.push(() => h.close());
    await expect(networkProbe.inject(h.ctx)).rejects.toThrow(OperationFailedError);
    await expect(networkProbe.inject(h.ctx)).rejects.toThrow(/startNetworkLink/);
  });

  it('a dependency link toxifies the given proxy and leaves the target URL alone', async () => {
    const { s, token, target } = await server();
    // The "dependency": here the server itself, reached through its own proxy.
    const dependency = await startFaultProxy({ upstream: { host: '127.0.0.1', port: Number(new URL(s.url).port) } });
    cleanups.push(() => dependency.close());
    const link = await startNetworkLink(target, { dependencyProxy: dependency });
    expect(link.kind).toBe('dependency');
    expect(link.target.url).toBe(target.url);
    const h = probeHarness({ target: link.target, adminKey: s.adminToken, token, options: { toxics: ['latency:300ms'] } });
    cleanups.push(() => h.close());
    const fault = await networkProbe.inject(h.ctx);
    expect(fault.params).toMatchObject({ link: 'dependency', toxics: ['latency:300ms'] });
    expect(dependency.toxics).toEqual([{ type: 'latency', latency_ms: 300 }]);
    await fault.remove();
    expect(dependency.toxics).toEqual([]);
    await link.close(); // a dependency proxy belongs to whoever started it: cleared, not closed
    expect(dependency.connections()).toBe(0);
  });
});

describe('network probe against the reference server', () => {
  it('the default toxic (latency:2000ms) makes samples time out; removed, the service recovers with no stuck connection', async () => {
    const { link, h } = await linked();
    expect(link.target.url).toBe(link.proxy.url);
    const { fault, checks, during } = await experiment(h, 2);
    expect(fault).toMatchObject({ kind: 'network', instantaneous: false, params: { link: 'client', toxics: ['latency:2000ms'] } });
    const failed = during.filter((s) => !sampleHolds(s));
    expect(failed.length).toBeGreaterThanOrEqual(2);
    for (const s of failed) expect(s.error).toMatch(/timeout/);
    expect(checks).toEqual([
      expect.objectContaining({ name: 'clients timed out cleanly during the fault', passed: true }),
      expect.objectContaining({ name: 'no stuck connections after removal', passed: true }),
    ]);
    expect(link.proxy.connections()).toBeLessThanOrEqual(CLIENT_LINK_CONNECTIONS);
    expect(link.proxy.toxics).toEqual([]);
  });

  it('reset: samples fail with a reset, cleanly', async () => {
    const { h } = await linked({ toxics: ['reset'] });
    const { checks, during } = await experiment(h, 3);
    expect(during.filter((s) => !sampleHolds(s)).some((s) => /reset/.test(s.error ?? ''))).toBe(true);
    expect(checks.every((c) => c.passed)).toBe(true);
  });

  it('refuse: new connections are refused; the proxy listens again after removal', async () => {
    const { h, link } = await linked({ toxics: ['refuse', 'reset'] });
    const { checks, during } = await experiment(h, 3);
    expect(during.filter((s) => !sampleHolds(s)).some((s) => /refused/.test(s.error ?? ''))).toBe(true);
    expect(checks.every((c) => c.passed)).toBe(true);
    const socket = net.connect(link.proxy.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.destroy();
  });

  it('a toxic the service absorbs passes the check saying nothing had to time out', async () => {
    const { h } = await linked({ toxics: ['latency:5ms'] });
    const fault = await networkProbe.inject(h.ctx);
    let seen = 0;
    await h.ctx.sampler.waitFor(() => ++seen >= 3, fault.injected_at, 10_000);
    await fault.remove();
    const [clean] = await fault.checks!();
    expect(clean).toMatchObject({ passed: true });
    expect(clean!.detail).toMatch(/held.*latency:5ms/);
  });

  it('runs end to end in runProbe: detection, recovery within budget, checks passed, proxy closed', async () => {
    const { s, token, keyId, target } = await server();
    const controller = new AbortController();
    const clients: GovernanceClient[] = [];
    cleanups.push(async () => Promise.all(clients.map((c) => c.close())));
    let proxy: FaultProxy | undefined;
    const journal = await runProbe({
      probe: networkProbe,
      target,
      options: {
        intervalMs: 50,
        budgetMs: 10_000,
        healthySamples: 3,
        faultDurationMs: 1_500,
        signal: controller.signal,
        allowRemote: false,
        maxBallastBytes: 0,
        keepFreeBytes: 0,
        signalName: 'SIGKILL',
        toxics: ['blackhole'],
      },
      token,
      keyIds: [keyId],
      trafficRate: 20,
      latencyBudgetMs: 500,
      clientFor: async (url, bound) => {
        const c = new GovernanceClient({ baseUrl: url, adminKey: s.adminToken, timeoutMs: 5_000, ...(bound ? { signal: controller.signal } : {}) });
        clients.push(c);
        return c;
      },
      startLink: async (t) => {
        const link = await startNetworkLink(t);
        proxy = link.proxy;
        return link;
      },
      emit: () => {},
    });
    expect(journal.reasons).toEqual([]);
    expect(journal.status).toBe('passed');
    expect(journal.fault).toMatchObject({ kind: 'network', params: { toxics: ['blackhole'] } });
    expect(journal.detection_s).not.toBeNull();
    expect(journal.recovery_s).not.toBeNull();
    expect(journal.checks.map((c) => c.passed)).toEqual([true, true]);
    expect(journal.records).toMatchObject({ status: 'measured', lost: 0 });
    // The rollback closed the proxy: nothing listens on its port any more.
    const socket = net.connect(proxy!.port, '127.0.0.1');
    const [err] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
    expect(proxy!.connections()).toBe(0);
  });
});

describe('network probe checks', () => {
  const sample = (t: number, error?: string, latency: number | null = null): Sample => ({
    t,
    phase: 'during',
    healthy: error === undefined,
    health_status: error === undefined ? 200 : null,
    check_ok: error === undefined,
    check_status: error === undefined ? 200 : null,
    check_latency_ms: latency,
    ...(error !== undefined ? { error } : {}),
  });

  it('fails when no sample completed during the fault (a client hung)', () => {
    const check = timedOutCleanly([sample(50), sample(2_000)], 100, 1_000, [{ type: 'blackhole' }]);
    expect(check).toMatchObject({ passed: false });
    expect(check.detail).toMatch(/hung/);
  });

  it('fails on a failure that is not a clean timeout, reset or refusal', () => {
    const check = timedOutCleanly([sample(200, 'timeout'), sample(300, 'health other: parse error')], 100, 1_000, [{ type: 'blackhole' }]);
    expect(check).toMatchObject({ passed: false });
    expect(check.detail).toMatch(/parse error/);
  });

  it('counts the kinds of clean failures; a sample straddling the removal is not held against the fault', () => {
    const check = timedOutCleanly(
      [sample(200, 'timeout'), sample(300, 'reset'), sample(400, 'refused'), sample(500, 'check took 2003 ms (budget 1000 ms)'), sample(900, undefined, 300)],
      100,
      1_000,
      [{ type: 'latency', latency_ms: 2000 }],
    );
    expect(check).toMatchObject({ passed: true });
    expect(check.detail).toBe('4 of 5 samples during the fault failed, each cleanly (timeout x1, reset x1, refused x1, over the latency budget x1)');
  });

  it('no stuck connections: fails while clients hold more than the bound, passes once they let go', async () => {
    const echo = net.createServer((socket) => socket.pipe(socket)).listen(0, '127.0.0.1');
    await once(echo, 'listening');
    cleanups.push(() => new Promise((resolve) => echo.close(resolve)));
    const proxy = await startFaultProxy({ upstream: { host: '127.0.0.1', port: (echo.address() as net.AddressInfo).port } });
    cleanups.push(() => proxy.close());
    const sockets = Array.from({ length: 3 }, () => net.connect(proxy.port, '127.0.0.1'));
    await Promise.all(sockets.map((s) => once(s, 'connect')));
    await expect.poll(() => proxy.connections()).toBe(3);
    const stuck = await noStuckConnections(proxy, 2, 'client', { settleMs: 200 });
    expect(stuck).toMatchObject({ passed: false });
    expect(stuck.detail).toMatch(/3 connection\(s\) still open through the proxy 200 ms after removal/);
    for (const s of sockets) s.destroy();
    expect(await noStuckConnections(proxy, 2, 'client', { settleMs: 2_000 })).toMatchObject({ passed: true });
  });
});
