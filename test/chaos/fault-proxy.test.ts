import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { formatToxic, parseToxic, startFaultProxy, type FaultProxy } from '../../src/chaos/fault-proxy.js';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A raw TCP server on loopback; `onSocket` decides what it does with each connection. */
async function startUpstream(onSocket: (socket: net.Socket) => void): Promise<{ port: number; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onSocket(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as net.AddressInfo).port, sockets };
}

const startEcho = () => startUpstream((socket) => socket.pipe(socket));

async function proxyTo(port: number, signal?: AbortSignal): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ upstream: { host: '127.0.0.1', port }, signal });
  cleanups.push(() => proxy.close());
  return proxy;
}

/** A client socket that records what it receives and how it ended. */
class Client {
  readonly socket: net.Socket;
  received = Buffer.alloc(0);
  error: NodeJS.ErrnoException | undefined;
  ended = false;
  readonly closed: Promise<void>;
  readonly connected: Promise<void>;
  private waiters: Array<() => void> = [];

  constructor(port: number) {
    this.socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    cleanups.push(() => void this.socket.destroy());
    this.connected = once(this.socket, 'connect').then(() => undefined);
    this.connected.catch(() => {});
    this.socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      for (const w of this.waiters.splice(0)) w();
    });
    this.socket.on('end', () => (this.ended = true));
    this.socket.on('error', (err) => (this.error = err));
    this.closed = new Promise((resolve) =>
      this.socket.once('close', () => {
        for (const w of this.waiters.splice(0)) w();
        resolve();
      }),
    );
  }

  /** Resolves once `bytes` bytes in all have arrived; rejects if the socket closes first. */
  async until(bytes: number): Promise<void> {
    while (this.received.length < bytes) {
      if (this.socket.destroyed) throw new Error(`socket closed after ${this.received.length} of ${bytes} bytes (${this.error?.code ?? 'no error'})`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** One request/response round trip through an echo server, in ms. */
  async roundTrip(payload = 'ping'): Promise<number> {
    const start = performance.now();
    const want = this.received.length + payload.length;
    this.socket.write(payload);
    await this.until(want);
    return performance.now() - start;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function medianRoundTrip(port: number, n = 7): Promise<number> {
  const client = new Client(port);
  await client.connected;
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await client.roundTrip());
  client.socket.destroy();
  return median(times);
}

/** An HTTP GET through `port`; resolves with the status or the error code. */
function httpGet(port: number, timeoutMs = 2000): Promise<{ status?: number; code?: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ code: err.code }));
  });
}

async function startHttpUpstream(): Promise<number> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as net.AddressInfo).port;
}

describe('parseToxic', () => {
  it('parses every CLI form', () => {
    expect(parseToxic('latency:200ms')).toEqual({ type: 'latency', latency_ms: 200 });
    expect(parseToxic('latency:200ms:50ms')).toEqual({ type: 'latency', latency_ms: 200, jitter_ms: 50 });
    expect(parseToxic('latency:2s')).toEqual({ type: 'latency', latency_ms: 2000 });
    expect(parseToxic('bandwidth:64kbps')).toEqual({ type: 'bandwidth', rate_kbps: 64 });
    expect(parseToxic('reset')).toEqual({ type: 'reset' });
    expect(parseToxic('blackhole')).toEqual({ type: 'blackhole' });
    expect(parseToxic('slow_close:2s')).toEqual({ type: 'slow_close', delay_ms: 2000 });
    expect(parseToxic('refuse')).toEqual({ type: 'refuse' });
    for (const text of ['latency:200ms:50ms', 'bandwidth:64kbps', 'reset', 'slow_close:2000ms']) {
      expect(formatToxic(parseToxic(text))).toBe(text);
    }
  });

  it.each(['latency', 'latency:200', 'latency:fast', 'latency:1ms:2ms:3ms', 'bandwidth:0kbps', 'bandwidth:64', 'reset:now', 'slow_close', 'drop', ''])(
    'refuses %j naming the text and the accepted forms',
    (text) => {
      let caught: unknown;
      try {
        parseToxic(text);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InvalidInputError);
      const err = caught as InvalidInputError;
      expect(err.exitCode).toBe(2);
      expect(err.message).toContain(`"${text}"`);
      expect(err.message).toContain('latency:200ms:50ms');
      expect(err.message).toContain('slow_close:2s');
    },
  );
});

describe('startFaultProxy', () => {
  it('forwards both ways with no toxic and counts open connections', async () => {
    const echo = await startEcho();
    const proxy = await proxyTo(echo.port);
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}`);
    const a = new Client(proxy.port);
    const b = new Client(proxy.port);
    await a.roundTrip('hello');
    await b.roundTrip('world');
    expect(a.received.toString()).toBe('hello');
    expect(proxy.connections()).toBe(2);
    a.socket.end();
    await a.closed;
    expect(a.ended).toBe(true);
    await b.roundTrip('!');
    b.socket.destroy();
    await b.closed;
    await expect.poll(() => proxy.connections()).toBe(0);
    await expect.poll(() => echo.sockets.size).toBe(0);
  });

  it('latency adds its delay to every round trip, keeps the byte order, and goes when cleared', async () => {
    const echo = await startEcho();
    const proxy = await proxyTo(echo.port);
    const direct = await medianRoundTrip(echo.port);
    proxy.setToxics([{ type: 'latency', latency_ms: 100 }]);
    const delayed = await medianRoundTrip(proxy.port);
    expect(delayed - direct).toBeGreaterThanOrEqual(90);
    expect(delayed - direct).toBeLessThan(250);

    // Jitter larger than the gap between chunks must not reorder them.
    proxy.setToxics([{ type: 'latency', latency_ms: 20, jitter_ms: 15, direction: 'both' }]);
    const client = new Client(proxy.port);
    let sent = '';
    for (let i = 0; i < 50; i++) {
      const piece = `<${i}>`;
      sent += piece;
      client.socket.write(piece);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await client.until(sent.length);
    expect(client.received.toString()).toBe(sent);

    proxy.clearToxics();
    expect(await medianRoundTrip(proxy.port)).toBeLessThan(50);
  });

  it('latency on an open connection delays its next round trip', async () => {
    const echo = await startEcho();
    const proxy = await proxyTo(echo.port);
    const client = new Client(proxy.port);
    await client.roundTrip();
    proxy.setToxics([{ type: 'latency', latency_ms: 150, direction: 'upstream' }]);
    expect(await client.roundTrip()).toBeGreaterThanOrEqual(140);
  });

  it('reset sends a RST: open and new clients see ECONNRESET; cleared, service is back', async () => {
    const echo = await startEcho();
    const proxy = await proxyTo(echo.port);
    const open = new Client(proxy.port);
    await open.roundTrip();
    proxy.setToxics([{ type: 'reset' }]);
    await open.closed;
    expect(open.error?.code).toBe('ECONNRESET');

    const httpPort = await startHttpUpstream();
    const httpProxy = await proxyTo(httpPort);
    httpProxy.setToxics([{ type: 'reset' }]);
    expect(await httpGet(httpProxy.port)).toEqual({ code: 'ECONNRESET' });
    httpProxy.clearToxics();
    expect(await httpGet(httpProxy.port)).toEqual({ status: 200 });
    await expect.poll(() => httpProxy.connections()).toBe(0);
  });

  it('blackhole accepts and never answers (the client times out), and lets go when cleared', async () => {
    const echo = await startEcho();
    const proxy = await proxyTo(echo.port);
    const open = new Client(proxy.port);
    await open.roundTrip('a');
    proxy.setToxics([{ type: 'blackhole' }]);

    const fresh = new Client(proxy.port);
    await fresh.connected;
    for (const client of [open, fresh]) {
      client.socket.setTimeout(300);
      client.socket.write('lost');
      await once(client.socket, 'timeout');
      expect(client.socket.destroyed).toBe(false);
      expect(client.ended).toBe(false);
    }
    expect(open.received.toString()).toBe('a');
    expect(fresh.received.length).toBe(0);
    expect(proxy.connections()).toBe(2);

    // An HTTP client with a short timeout: a timeout, not a reset or a hang.
    const httpPort = await startHttpUpstream();
    const httpProxy = await proxyTo(httpPort);
    httpProxy.setToxics([{ type: 'blackhole' }]);
    expect(await httpGet(httpProxy.port, 300)).toEqual({ code: 'TIMEOUT' });

    proxy.clearToxics();
    await open.roundTrip('b');
    expect(open.received.toString()).toBe('ab');
  });

  it('bandwidth paces a transfer: 64 KiB at 256 kbps takes about 2 s', async () => {
    const blob = Buffer.alloc(64 * 1024, 7);
    const upstream = await startUpstream((socket) => socket.end(blob));
    const proxy = await proxyTo(upstream.port);
    proxy.setToxics([{ type: 'bandwidth', rate_kbps: 256 }]);
    const start = performance.now();
    const client = new Client(proxy.port);
    await client.until(blob.length);
    await client.closed;
    const seconds = (performance.now() - start) / 1000;
    expect(client.received.equals(blob)).toBe(true);
    expect(client.ended).toBe(true);
    expect(seconds).toBeGreaterThan(1.5);
    expect(seconds).toBeLessThan(4);
  });

  it('slow_close delays the server close to the client; the data arrives at once', async () => {
    const upstream = await startUpstream((socket) => socket.end('bye'));
    const proxy = await proxyTo(upstream.port);
    proxy.setToxics([{ type: 'slow_close', delay_ms: 500 }]);
    const client = new Client(proxy.port);
    await client.until(3);
    const dataAt = performance.now();
    expect(client.ended).toBe(false);
    await once(client.socket, 'end');
    const delay = performance.now() - dataAt;
    expect(delay).toBeGreaterThanOrEqual(400);
    expect(delay).toBeLessThan(2000);
    expect(client.received.toString()).toBe('bye');
  });

  it('an upstream that refuses reaches the client as a RST', async () => {
    // A port nothing listens on: take one, then let it go.
    const spare = net.createServer().listen(0, '127.0.0.1');
    await once(spare, 'listening');
    const port = (spare.address() as net.AddressInfo).port;
    await new Promise((resolve) => spare.close(resolve));
    const proxy = await proxyTo(port);
    const client = new Client(proxy.port);
    await client.closed;
    expect(client.error?.code).toBe('ECONNRESET');
    await expect.poll(() => proxy.connections()).toBe(0);
  });

  it('refuse: new connections are refused, open ones carry on; cleared, the same port accepts again', async () => {
    const echo = await startEcho();
    const proxy = await proxyTo(echo.port);
    const open = new Client(proxy.port);
    await open.roundTrip('x');
    proxy.setToxics([{ type: 'refuse' }]);
    await proxy.settled();

    const refused = new Client(proxy.port);
    await refused.closed;
    expect(refused.error?.code).toBe('ECONNREFUSED');
    expect(await httpGet(proxy.port)).toEqual({ code: 'ECONNREFUSED' });
    await open.roundTrip('y');

    proxy.clearToxics();
    await proxy.settled();
    expect(await medianRoundTrip(proxy.port, 1)).toBeGreaterThan(0);
    await open.roundTrip('z');
    expect(open.received.toString()).toBe('xyz');
  });

  it('close() leaves no listener and no open socket, and is idempotent', async () => {
    const echo = await startEcho();
    const proxy = await startFaultProxy({ upstream: { host: '127.0.0.1', port: echo.port } });
    const clients = [new Client(proxy.port), new Client(proxy.port)];
    for (const c of clients) await c.roundTrip();
    proxy.setToxics([{ type: 'latency', latency_ms: 5000 }]);
    clients[0]!.socket.write('held in the latency queue');
    expect(proxy.connections()).toBe(2);

    await Promise.all([proxy.close(), proxy.close()]);
    await proxy.close();
    expect(proxy.connections()).toBe(0);
    for (const c of clients) await c.closed;
    await expect.poll(() => echo.sockets.size).toBe(0);
    const after = new Client(proxy.port);
    await after.closed;
    expect(after.error?.code).toBe('ECONNREFUSED');
  });

  it('close() while refusing, and an aborted signal, close everything too', async () => {
    const echo = await startEcho();
    const controller = new AbortController();
    const proxy = await proxyTo(echo.port, controller.signal);
    const open = new Client(proxy.port);
    await open.roundTrip();
    proxy.setToxics([{ type: 'refuse' }]);
    controller.abort();
    await open.closed;
    await proxy.close();
    expect(proxy.connections()).toBe(0);
    const after = new Client(proxy.port);
    await after.closed;
    expect(after.error?.code).toBe('ECONNREFUSED');
  });

  it('rejects a malformed toxic built in code', async () => {
    const echo = await startEcho();
    const proxy = await proxyTo(echo.port);
    expect(() => proxy.setToxics([{ type: 'latency', latency_ms: -1 }])).toThrow(InvalidInputError);
    expect(() => proxy.setToxics([{ type: 'bandwidth', rate_kbps: 0 }])).toThrow(/rate_kbps/);
    expect(proxy.toxics).toEqual([]);
  });
});
