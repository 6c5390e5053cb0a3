import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';

/** Servers with special behaviour for the request-path tests: every one on 127.0.0.1, port 0. */

export interface Listening {
  url: URL;
  /** TCP connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

export interface RawRequest {
  head: string;
  body: string;
  /** 0-based index of this request on its connection. */
  onConnection: number;
  /** 0-based index of the connection on the server. */
  connection: number;
}

/**
 * A raw TCP server that reads requests (head plus content-length body) and hands each with its
 * socket to `onRequest`, which writes whatever bytes the test needs.
 */
export async function startRawServer(onRequest: (socket: Socket, request: RawRequest) => void): Promise<Listening> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    const connection = connections++;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = '';
    let onConnection = 0;
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (;;) {
        const headEnd = pending.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = pending.slice(0, headEnd);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (pending.length < headEnd + 4 + length) return;
        const body = pending.slice(headEnd + 4, headEnd + 4 + length);
        pending = pending.slice(headEnd + 4 + length);
        onRequest(socket, { head, body, onConnection: onConnection++, connection });
      }
    });
  });
  return listen(server, sockets, () => connections);
}

/** A node:http server; `connections` counts TCP connections. */
export async function startHttpServer(handler: http.RequestListener): Promise<Listening> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = http.createServer(handler);
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return listen(server, sockets, () => connections);
}

/** Writes `bytes` one byte per turn of the event loop, so the client reads them split everywhere. */
export async function writeByteByByte(socket: Socket, bytes: string | Buffer): Promise<void> {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  for (let i = 0; i < data.length; i++) {
    if (socket.destroyed) return;
    socket.write(data.subarray(i, i + 1));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** A loopback port nothing listens on: listen, note the port, close. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

async function listen(server: net.Server, sockets: Set<Socket>, count: () => number): Promise<Listening> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}`),
    get connections() {
      return count();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

export interface Outcome {
  error: string | undefined;
  response: { status: number; retryAfter: boolean; body?: Buffer } | undefined;
  sentAt: number;
  /** How many times the callback ran (must be 1). */
  calls: number;
}

/** One request on `conn` as a promise; counts callback runs, to catch a second call. */
export function send(
  conn: { request(bytes: Buffer, wantBody: boolean, cb: (e: any, r: any, s: number) => void): void },
  bytes: Buffer,
  wantBody = false,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = { error: undefined, response: undefined, sentAt: 0, calls: 0 };
    conn.request(bytes, wantBody, (error, response, sentAt) => {
      outcome.calls++;
      if (outcome.calls > 1) throw new Error('callback called twice');
      Object.assign(outcome, { error, response, sentAt });
      resolve(outcome);
    });
  });
}
