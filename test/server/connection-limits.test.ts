import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Slow or idle clients cannot hold the server's connections: request and header deadlines and a
 * connection cap, with real sockets.
 */

let srv: TestServer | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await srv?.close();
  srv = undefined;
});

interface Ended {
  /** Everything the server sent before the connection closed. */
  received: string;
  /** Bytes of the body the client had sent by then. */
  sent: number;
}

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => resolve(socket));
    socket.once('error', reject);
    sockets.push(socket);
  });
}

/** Resolves with what the server sent once it closes the connection. */
function closed(socket: Socket): Promise<string> {
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.once('close', () => resolve(received)));
}

/** Sends `head`, then drips `total` body bytes one every `everyMs`, until the server closes. */
async function drip(url: string, head: string, total: number, everyMs: number): Promise<Ended> {
  const socket = await open(url);
  const ended = closed(socket);
  socket.write(head);
  let sent = 0;
  const timer = setInterval(() => {
    if (sent < total && socket.writable) {
      socket.write('x');
      sent++;
    }
  }, everyMs);
  try {
    return { received: await ended, sent };
  } finally {
    clearInterval(timer);
  }
}

describe('request and header timeouts', () => {
  it('a client dripping its body is answered 408 and disconnected at the request timeout', async () => {
    srv = await startTestServer({ limits: { requestTimeoutMs: 800, headersTimeoutMs: 400 } });
    const length = 10_000;
    // Authenticated, so the server is reading the body (not answering 401 before it).
    const head =
      `POST /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${srv.adminToken}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
    const ended = await drip(srv.url, head, length, 20);
    expect(ended.sent).toBeLessThan(length);
    expect(ended.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(ended.received).toContain('"code":"request_timeout"');
    // The server is still there for everyone else.
    expect((await call(srv.url, 'GET', '/health')).status).toBe(200);
  });

  it('a client dripping its headers is answered 408 and disconnected at the headers timeout', async () => {
    srv = await startTestServer({ limits: { requestTimeoutMs: 60_000, headersTimeoutMs: 500 } });
    const socket = await open(srv.url);
    const ended = closed(socket);
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    let n = 0;
    const timer = setInterval(() => {
      if (socket.writable) socket.write(`X-Slow-${n++}: y\r\n`);
    }, 20);
    try {
      const received = await ended;
      expect(received).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(timer);
    }
  });

  it('a connection that sends nothing is closed', async () => {
    srv = await startTestServer({ limits: { requestTimeoutMs: 1000, headersTimeoutMs: 500 } });
    const socket = await open(srv.url);
    await closed(socket);
  });

  it('refuses limits that cannot work', async () => {
    await expect(startTestServer({ limits: { requestTimeoutMs: 1000, headersTimeoutMs: 2000 } })).rejects.toThrow(/headersTimeoutMs/);
    await expect(startTestServer({ limits: { maxConnections: 0 } })).rejects.toThrow(/maxConnections/);
  });
});

describe('connection cap', () => {
  it('closes connections beyond maxConnections at once; the ones inside it are served', async () => {
    srv = await startTestServer({ limits: { maxConnections: 2 } });
    const first = await open(srv.url);
    const second = await open(srv.url);
    const third = await open(srv.url);
    const thirdClosed = closed(third);
    third.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await thirdClosed).toBe('');

    // The two held connections still work.
    for (const socket of [first, second]) {
      const answer = new Promise<string>((resolve) => {
        let text = '';
        socket.setEncoding('latin1');
        socket.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes('\r\n\r\n') && text.endsWith('}')) resolve(text);
        });
      });
      socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(await answer).toMatch(/^HTTP\/1\.1 200 /);
    }
  });
});
