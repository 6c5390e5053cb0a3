import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTraffic, type TrafficOptions } from '../../src/chaos/traffic.js';
import type { BackgroundTraffic } from '../../src/chaos/types.js';
import { UUID_V4 } from '../helpers/contract.js';
import { createKey } from '../helpers/http.js';
import { startTestServer } from '../helpers/server.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts traffic and resolves once `n` requests ended (answered, failed or skipped; or only those `counts`). */
async function trafficUntil(
  n: number,
  options: Omit<TrafficOptions, 'onAnswer'>,
  counts: (a: { status: number | null; error?: string }) => boolean = () => true,
): Promise<BackgroundTraffic> {
  let ended = 0;
  let done!: () => void;
  const reached = new Promise<void>((resolve) => (done = resolve));
  const traffic = startTraffic({ ...options, onAnswer: (a) => counts(a) && ++ended === n && done() });
  cleanups.push(() => traffic.stop());
  await reached;
  return traffic;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

async function plainServer(handler: (path: string, res: ServerResponse) => void): Promise<string> {
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req.url ?? '/', res));
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

describe('background traffic', () => {
  it('records every acknowledged decision with its id and time against the reference server', async () => {
    const s = await startTestServer({ rateLimit: { limit: 1_000_000, windowMs: 60_000 } });
    cleanups.push(() => s.close());
    const token = await createKey(s.url, s.adminToken);
    const before = Date.now();
    const traffic = await trafficUntil(20, { url: s.url, token, ratePerSecond: 50, timeoutMs: 5_000 }, (a) => a.status === 200);
    const snapshot = traffic.snapshot();
    const record = await traffic.stop();
    expect(record.acknowledged).toBeGreaterThanOrEqual(20);
    expect(record.sent).toBe(record.acknowledged);
    expect(record.acknowledged_without_id).toBe(0);
    // A busy machine may find every connection busy at times: skipped, never failed.
    expect(Object.keys(record.errors).filter((e) => e !== 'skipped')).toEqual([]);
    expect(record.statuses).toEqual({ '200': record.acknowledged });
    expect(record.decisions).toHaveLength(record.acknowledged);
    expect(new Set(record.decisions.map((d) => d.id)).size).toBe(record.acknowledged);
    for (const d of record.decisions) {
      expect(d.id).toMatch(UUID_V4);
      expect(d.t).toBeGreaterThanOrEqual(before);
    }
    // A snapshot is a copy: later answers do not change it.
    expect(snapshot.decisions.length).toBeLessThanOrEqual(record.decisions.length);
    snapshot.decisions.length = 0;
    expect(traffic.snapshot().decisions).toHaveLength(record.decisions.length);
    // Stopping twice returns the same record; nothing is sent after stop.
    expect(await traffic.stop()).toEqual(record);
  });

  it('counts 200s without a decision_id, and error statuses by class', async () => {
    let n = 0;
    const url = await plainServer((_path, res) => {
      n++;
      const status = n % 3 === 0 ? 503 : n % 3 === 1 ? 200 : 429;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? '{"allowed":true}' : '{"detail":"no"}');
    });
    const traffic = await trafficUntil(9, { url, token: 'k.secret', ratePerSecond: 200, timeoutMs: 5_000, connections: 1 }, (a) => a.status !== null);
    const record = await traffic.stop();
    expect(record.acknowledged).toBeGreaterThanOrEqual(3);
    expect(record.acknowledged_without_id).toBe(record.acknowledged);
    expect(record.decisions).toEqual([]);
    expect(record.statuses['503']).toBeGreaterThanOrEqual(3);
    expect(record.errors['server_error']).toBe(record.statuses['503']);
    expect(record.errors['throttled']).toBe(record.statuses['429']);
  });

  it('a server that never answers: timeouts, and sends that find every connection busy are skipped', async () => {
    const sockets = new Set<Socket>();
    const silent = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.resume();
    });
    const url = await listen(silent);
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    let timeouts = 0;
    let done!: () => void;
    const reached = new Promise<void>((resolve) => (done = resolve));
    const traffic = startTraffic({
      url,
      token: 'k.secret',
      ratePerSecond: 100,
      timeoutMs: 150,
      connections: 2,
      onAnswer: (a) => a.error === 'timeout' && ++timeouts === 2 && done(),
    });
    cleanups.push(() => traffic.stop());
    await reached;
    const record = await traffic.stop();
    expect(record.errors['timeout']).toBeGreaterThanOrEqual(2);
    expect(record.errors['skipped']).toBeGreaterThan(0);
    expect(record.acknowledged).toBe(0);
    expect(record.sent).toBe(record.errors['timeout']);
  });

  it('a refused port counts as refused; an aborted signal stops the sending', async () => {
    const probe = createTcpServer();
    const url = await listen(probe);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const controller = new AbortController();
    const traffic = await trafficUntil(3, { url, token: 'k.secret', ratePerSecond: 100, timeoutMs: 2_000, signal: controller.signal });
    controller.abort();
    const atAbort = traffic.snapshot();
    const record = await traffic.stop();
    expect(record.errors['refused']).toBeGreaterThanOrEqual(3);
    expect(record.sent).toBe(atAbort.sent);
  });

  it('rejects a rate that is not positive', () => {
    expect(() => startTraffic({ url: 'http://127.0.0.1:1', token: 'k.s', ratePerSecond: 0, timeoutMs: 100 })).toThrow(/positive/);
  });
});
