import { once } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createConnection, type LeanHttpConnection } from '../../src/load/http/connection.js';
import { serializeRequest } from '../../src/load/http/request-bytes.js';
import { freePort, send, startHttpServer, startRawServer, writeByteByByte, type Listening } from './http-servers.js';

// The request path against real servers on loopback: keep-alive, reconnects, framing, errors.

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track(server: Listening): Listening {
  cleanups.push(() => server.close());
  return server;
}

function connect(url: URL, timeoutMs = 5_000): LeanHttpConnection {
  const conn = createConnection({ url, timeoutMs });
  cleanups.push(() => conn.close());
  return conn;
}

function get(url: URL, path = '/', method = 'GET'): Buffer {
  return serializeRequest({ method, path, host: url.host, headers: {} });
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

describe('keep-alive', () => {
  it('carries 100 requests over one TCP connection', async () => {
    const server = track(await startHttpServer((_req, res) => res.end('{"ok":true}')));
    const conn = connect(server.url);
    const bytes = get(server.url);
    for (let i = 0; i < 100; i++) {
      const outcome = await send(conn, bytes);
      expect(outcome.error).toBeUndefined();
      expect(outcome.response?.status).toBe(200);
      expect(outcome.response?.body).toBeUndefined();
    }
    expect(server.connections).toBe(1);
    expect(conn.connects).toBe(1);
    expect(conn.busy).toBe(false);
  });

  it('reconnects after responses with Connection: close', async () => {
    const server = track(
      await startHttpServer((_req, res) => {
        res.setHeader('connection', 'close');
        res.end('bye');
      }),
    );
    const conn = connect(server.url);
    for (let i = 0; i < 5; i++) {
      const outcome = await send(conn, get(server.url), true);
      expect(outcome.error).toBeUndefined();
      expect(outcome.response?.body?.toString()).toBe('bye');
    }
    expect(server.connections).toBe(5);
  });

  it('reconnects when the server ended an idle connection', async () => {
    const server = track(
      await startRawServer((socket) => {
        socket.end(OK); // answers, then closes without saying so
      }),
    );
    const conn = connect(server.url);
    for (let i = 0; i < 3; i++) {
      const outcome = await send(conn, get(server.url));
      expect(outcome.error).toBeUndefined();
      expect(outcome.response?.status).toBe(200);
    }
    expect(server.connections).toBe(3);
  });

  it('retries once on a fresh socket when a reused one closes without answering', async () => {
    // The keep-alive race: the server drops the connection just as the second request arrives.
    const server = track(
      await startRawServer((socket, request) => {
        if (request.connection === 0 && request.onConnection === 1) socket.destroy();
        else socket.write(OK);
      }),
    );
    const conn = connect(server.url);
    expect((await send(conn, get(server.url))).response?.status).toBe(200);
    const retried = await send(conn, get(server.url));
    expect(retried.error).toBeUndefined();
    expect(retried.response?.status).toBe(200);
    expect(server.connections).toBe(2);
  });

  it('does not retry a fresh socket, and retries a reused one only once', async () => {
    const server = track(
      await startRawServer((socket, request) => {
        if (request.connection === 0 && request.onConnection === 0) socket.write(OK);
        else socket.destroy();
      }),
    );
    const conn = connect(server.url);
    expect((await send(conn, get(server.url))).response?.status).toBe(200);
    const second = await send(conn, get(server.url)); // reused socket dropped, retry dropped too
    expect(second.error).toBe('reset');
    expect(server.connections).toBe(2);
    const third = await send(conn, get(server.url)); // fresh socket dropped: no retry
    expect(third.error).toBe('reset');
    expect(server.connections).toBe(3);
  });
});

describe('response framing', () => {
  it('reads chunked bodies', async () => {
    const server = track(
      await startHttpServer((_req, res) => {
        res.write('{"a":');
        res.write('1,"b":');
        res.end('"xyz"}');
      }),
    );
    const conn = connect(server.url);
    const kept = await send(conn, get(server.url), true);
    expect(kept.response?.body?.toString()).toBe('{"a":1,"b":"xyz"}');
    const skipped = await send(conn, get(server.url), false);
    expect(skipped.response?.status).toBe(200);
    expect(skipped.response?.body).toBeUndefined();
    expect(server.connections).toBe(1);
  });

  it('reads chunk extensions and trailers', async () => {
    const response =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n' +
      '3;name=value\r\nabc\r\n' +
      'A\r\n0123456789\r\n' +
      '0\r\nx-sum: 13\r\nx-other: y\r\n\r\n';
    const server = track(await startRawServer((socket) => socket.write(response)));
    const conn = connect(server.url);
    for (let i = 0; i < 2; i++) {
      const outcome = await send(conn, get(server.url), true);
      expect(outcome.response?.body?.toString()).toBe('abc0123456789');
    }
    expect(server.connections).toBe(1);
  });

  it('parses responses written one byte at a time', async () => {
    const responses = [
      'HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 7\r\nContent-Length: 13\r\n\r\n{"detail":42}',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n2;x=y\r\nef\r\n0\r\nT: 1\r\n\r\n',
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n',
    ];
    const server = track(await startRawServer((socket, request) => void writeByteByByte(socket, responses[request.onConnection]!)));
    const conn = connect(server.url);
    const first = await send(conn, get(server.url), true);
    expect(first.response).toEqual({ status: 429, retryAfter: true, body: Buffer.from('{"detail":42}') });
    const second = await send(conn, get(server.url), true);
    expect(second.response?.body?.toString()).toBe('abcdef');
    const third = await send(conn, get(server.url), true);
    expect(third.response?.status).toBe(204);
    expect(third.response?.body?.length ?? 0).toBe(0);
    expect(server.connections).toBe(1);
  });

  it('knows that HEAD, 204 and 304 responses have no body', async () => {
    const server = track(
      await startRawServer((socket, request) => {
        if (request.head.startsWith('HEAD')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n');
        else if (request.head.startsWith('GET /204')) socket.write('HTTP/1.1 204 No Content\r\n\r\n');
        else if (request.head.startsWith('GET /304')) socket.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n');
        else socket.write(OK);
      }),
    );
    const conn = connect(server.url);
    for (const [method, path, status] of [['HEAD', '/', 200], ['GET', '/204', 204], ['GET', '/304', 304], ['GET', '/', 200]] as const) {
      const outcome = await send(conn, get(server.url, path, method), true);
      expect(outcome.error).toBeUndefined();
      expect(outcome.response?.status).toBe(status);
    }
    expect(server.connections).toBe(1);
  });

  it('reads a body that runs until the server closes', async () => {
    const server = track(await startRawServer((socket) => socket.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it')));
    const conn = connect(server.url);
    for (let i = 0; i < 2; i++) {
      const outcome = await send(conn, get(server.url), true);
      expect(outcome.response?.body?.toString()).toBe('all of it');
    }
    expect(server.connections).toBe(2);
  });

  it('tells a 429 with Retry-After from one without', async () => {
    const server = track(
      await startHttpServer((req, res) => {
        res.statusCode = 429;
        if (req.url === '/with') res.setHeader('retry-after', '30');
        res.end('{"detail":"Rate limit exceeded"}');
      }),
    );
    const conn = connect(server.url);
    const withHeader = await send(conn, get(server.url, '/with'));
    expect(withHeader.response).toEqual({ status: 429, retryAfter: true });
    const without = await send(conn, get(server.url, '/without'));
    expect(without.response).toEqual({ status: 429, retryAfter: false });
  });
});

describe('errors', () => {
  it('reports a refused connection', async () => {
    const url = new URL(`http://127.0.0.1:${await freePort()}`);
    const outcome = await send(connect(url), get(url));
    expect(outcome.error).toBe('refused');
    expect(outcome.response).toBeUndefined();
  });

  it('reports a connection reset in the middle of a response', async () => {
    const server = track(
      await startRawServer((socket, request) => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial', () => {
          if (request.connection === 0) socket.resetAndDestroy();
          else socket.end(); // a FIN in the middle of the body is a reset too
        });
      }),
    );
    const conn = connect(server.url);
    expect((await send(conn, get(server.url))).error).toBe('reset');
    expect((await send(conn, get(server.url))).error).toBe('reset');
    expect(server.connections).toBe(2);
  });

  it('times out a server that never answers and destroys the socket', async () => {
    const sockets: Socket[] = [];
    const server = track(await startRawServer((socket) => sockets.push(socket)));
    const conn = connect(server.url, 200);
    const outcome = await send(conn, get(server.url));
    expect(outcome.error).toBe('timeout');
    expect(conn.lastError).toContain('200 ms');
    if (!sockets[0]!.destroyed) await once(sockets[0]!, 'close');
    await send(conn, get(server.url)).then((again) => expect(again.error).toBe('timeout'));
    expect(server.connections).toBe(2);
  });

  it('rejects a head larger than 64 KiB and a kept body larger than 16 MiB', async () => {
    const server = track(
      await startRawServer((socket, request) => {
        if (request.head.startsWith('GET /big-head')) socket.write(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`);
        else socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${17 * 1024 * 1024}\r\n\r\n`);
      }),
    );
    const conn = connect(server.url);
    expect((await send(conn, get(server.url, '/big-head'))).error).toBe('other');
    expect((await send(conn, get(server.url, '/big-body'), true)).error).toBe('other');
    expect(conn.lastError).toMatch(/larger than/);
  });

  it('reports a response that is not HTTP as other', async () => {
    const server = track(await startRawServer((socket) => socket.write('SSH-2.0-OpenSSH_9.2\r\n')));
    const outcome = await send(connect(server.url), get(server.url));
    expect(outcome.error).toBe('other');
  });

  it('never calls back after close()', async () => {
    let arrived!: (answer: () => void) => void;
    const answerReady = new Promise<() => void>((resolve) => (arrived = resolve));
    const server = track(
      await startRawServer((socket, request) => {
        if (request.connection === 0) arrived(() => socket.write(OK));
        else socket.write(OK);
      }),
    );
    const conn = createConnection({ url: server.url, timeoutMs: 5_000 });
    let called = false;
    conn.request(get(server.url), false, () => (called = true));
    const answer = await answerReady;
    conn.close();
    answer();
    // A full round trip on another connection lets any stray event arrive first.
    const other = connect(server.url);
    expect((await send(other, get(server.url))).response?.status).toBe(200);
    expect(called).toBe(false);
    expect(() => conn.request(get(server.url), false, () => {})).toThrow(/closed/);
  });
});
