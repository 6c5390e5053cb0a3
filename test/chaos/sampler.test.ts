import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { computeRecovery } from '../../src/chaos/recovery.js';
import { startSampler } from '../../src/chaos/sampler.js';
import { sampleHolds, type Sample, type Sampler, type SamplerOptions } from '../../src/chaos/types.js';
import { GovernanceClient } from '../../src/client/governance-client.js';
import { createKey } from '../helpers/http.js';
import { startTestServer } from '../helpers/server.js';
import { spawnServer, stopSpawnedServers } from '../helpers/spawned-server.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await stopSpawnedServers();
});

function sampler(url: string, token: string, options: Partial<Omit<SamplerOptions, 'client' | 'token'>> = {}): Sampler {
  const client = new GovernanceClient({ baseUrl: url, timeoutMs: 5_000 });
  const s = startSampler({ client, token, intervalMs: 50, latencyBudgetMs: 2_000, timeoutMs: 2_000, ...options });
  cleanups.push(async () => {
    await s.stop();
    await client.close();
  });
  return s;
}

const failing = (s: Sample) => !sampleHolds(s);

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

async function plainServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res));
  });
  const url = await listen(server);
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return url;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

describe('the steady-state sampler', () => {
  it('samples a healthy reference server, then failing samples with errors once it stops', async () => {
    const server = await startTestServer({ rateLimit: { limit: 1_000_000, windowMs: 60_000 } });
    let closed = false;
    cleanups.push(() => (closed ? Promise.resolve() : server.close()));
    const token = await createKey(server.url, server.adminToken);
    const seen: Sample[] = [];
    const s = sampler(server.url, token, { onSample: (sample) => seen.push(sample) });

    const holding = await s.waitFor(sampleHolds, 0, 10_000);
    expect(holding).toMatchObject({ phase: 'before', healthy: true, health_status: 200, check_ok: true, check_status: 200 });
    expect(holding!.error).toBeUndefined();
    expect(holding!.check_latency_ms).toBeGreaterThan(0);

    s.setPhase('during');
    const stoppedAt = Date.now();
    await server.close();
    closed = true;
    // The first sample with no answer at all (one under way at the close may have had half an answer).
    const down = await s.waitFor((x) => x.health_status === null && x.check_status === null, stoppedAt, 10_000);
    expect(down).toMatchObject({ phase: 'during', healthy: false, health_status: null, check_ok: false, check_status: null, check_latency_ms: null });
    expect(down!.error).toMatch(/^(refused|reset)/);
    expect(down!.t).toBeGreaterThanOrEqual(stoppedAt);

    const samples = await s.stop();
    expect(samples).toEqual(seen);
    expect(samples.map((x) => x.phase)).toContain('before');
    // Samples are taken one at a time, in order.
    for (let i = 1; i < samples.length; i++) expect(samples[i]!.t).toBeGreaterThanOrEqual(samples[i - 1]!.t);
  });

  it('recovers when the server is killed and started again on the same port (managed child)', async () => {
    const spawned = await spawnServer({ args: ['--rate-limit', '1000000/60s', '--sync', 'normal'] });
    const token = await createKey(spawned.url, spawned.adminToken);
    const s = sampler(spawned.url, token, { timeoutMs: 1_000 });
    expect(await s.waitFor(sampleHolds, 0, 10_000)).toBeDefined();

    s.setPhase('during');
    const killedAt = Date.now();
    spawned.kill('SIGKILL');
    await spawned.exited;
    const down = await s.waitFor(failing, killedAt, 10_000);
    // A sample under way at the kill may see one half answered and the other reset.
    expect(down?.error).toMatch(/refused|reset/);

    const restart = await spawned.server.restart({ startTimeoutMs: 15_000 });
    expect(restart.portChanged).toBe(false);
    s.setPhase('after');
    const up = await s.waitFor(sampleHolds, killedAt, 10_000);
    expect(up).toMatchObject({ healthy: true, check_ok: true });
    expect(up!.t).toBeGreaterThan(down!.t);
    // Three in a row holding after the restart.
    let run = 0;
    expect(await s.waitFor((x) => (run = sampleHolds(x) ? run + 1 : 0) >= 3, up!.t, 10_000)).toBeDefined();

    const samples = await s.stop();
    const recovery = computeRecovery(samples, killedAt, null, true, 3);
    expect(recovery.recovered).toBe(true);
    expect(recovery.detection_s).not.toBeNull();
    expect(recovery.recovery_s).toBeGreaterThan(0);
    expect(samples.some((x) => x.phase === 'after' && sampleHolds(x))).toBe(true);
  });

  it('a server that accepts and never answers: timeouts, one sample at a time', async () => {
    const sockets = new Set<Socket>();
    let accepted = 0;
    const silent = createTcpServer((socket) => {
      accepted++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.resume();
    });
    const url = await listen(silent);
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const s = sampler(url, 'k.secret', { intervalMs: 10, timeoutMs: 100 });
    let timeouts = 0;
    expect(await s.waitFor((x) => x.error === 'timeout' && ++timeouts === 3, 0, 10_000)).toBeDefined();
    const samples = await s.stop();
    expect(samples.length).toBeGreaterThanOrEqual(3);
    for (const x of samples) expect(x).toMatchObject({ healthy: false, check_ok: false, health_status: null, error: 'timeout' });
    // The interval is shorter than a sample: the next starts only when the last ended (its timeout).
    for (let i = 1; i < samples.length; i++) expect(samples[i]!.t - samples[i - 1]!.t).toBeGreaterThanOrEqual(98);
    // Two requests per sample, each on a fresh connection after a timeout: never more.
    expect(accepted).toBeLessThanOrEqual(2 * samples.length);
  });

  it('says why: a health page that is no health document, a refused write, a check over its budget', async () => {
    const broken = await plainServer((req, res) => {
      if (req.url === '/health') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>hello</html>');
      } else json(res, 503, { detail: 'audit log unavailable' });
    });
    const first = await sampler(broken, 'k.secret').waitFor(() => true, 0, 10_000);
    expect(first).toMatchObject({ healthy: false, health_status: 200, check_ok: false, check_status: 503 });
    expect(first!.error).toMatch(/health 200: the answer is not a health document/);
    expect(first!.error).toMatch(/check 503 audit log unavailable/);

    const slow = await plainServer((req, res) => {
      if (req.url === '/health') json(res, 200, { status: 'healthy' });
      else setTimeout(() => json(res, 200, { allowed: true }), 60);
    });
    const late = await sampler(slow, 'k.secret', { latencyBudgetMs: 20 }).waitFor(() => true, 0, 10_000);
    expect(late).toMatchObject({ healthy: true, health_status: 200, check_ok: false, check_status: 200 });
    expect(late!.check_latency_ms).toBeGreaterThan(20);
    expect(late!.error).toMatch(/budget 20 ms/);
  });

  it('rejects an interval or timeout that is not positive', () => {
    const client = new GovernanceClient({ baseUrl: 'http://127.0.0.1:1' });
    cleanups.push(() => client.close());
    const base = { client, token: 'k.s', latencyBudgetMs: 100 };
    expect(() => startSampler({ ...base, intervalMs: 0, timeoutMs: 100 })).toThrow(/interval must be positive/);
    expect(() => startSampler({ ...base, intervalMs: 100, timeoutMs: 0 })).toThrow(/timeout must be positive/);
  });

  it('waitFor: a past match at once, undefined on timeout, undefined once aborted; stop keeps the samples', async () => {
    const url = await plainServer((req, res) => json(res, 200, req.url === '/health' ? { status: 'ok' } : { allowed: true }));
    const controller = new AbortController();
    const s = sampler(url, 'k.secret', { signal: controller.signal });
    const first = await s.waitFor(sampleHolds, 0, 10_000);
    expect(first).toBeDefined();
    expect(await s.waitFor(sampleHolds, 0, 10_000)).toBe(first);
    expect(await s.waitFor(() => false, 0, 30)).toBeUndefined();
    const pending = s.waitFor(() => false, 0, 60_000);
    controller.abort();
    expect(await pending).toBeUndefined();
    const samples = await s.stop();
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.every(sampleHolds)).toBe(true);
    expect(await s.waitFor(() => false, 0, 60_000)).toBeUndefined();
  });
});
