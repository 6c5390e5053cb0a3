import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection, type LeanHttpConnection } from '../../src/load/http/connection.js';
import { serializeRequest } from '../../src/load/http/request-bytes.js';
import { send } from './http-servers.js';

// https through node:tls against a real server with a certificate made at test time by openssl.

const openssl = ['/usr/bin/openssl', '/usr/local/bin/openssl', '/bin/openssl'].find((path) => existsSync(path));

describe.skipIf(openssl === undefined)('https (skipped: the openssl CLI is not installed to make a test certificate)', () => {
  let dir: string;
  let cert: string;
  let server: https.Server;
  let url: URL;
  let connections = 0;
  const sockets = new Set<Socket>();
  const opened: LeanHttpConnection[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-tls-'));
    await execa(openssl!, [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
    cert = await readFile(join(dir, 'cert.pem'), 'utf8');
    server = https.createServer({ key: await readFile(join(dir, 'key.pem')), cert }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ path: req.url }));
    });
    server.on('connection', (socket: Socket) => {
      connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  afterAll(async () => {
    for (const conn of opened) conn.close();
    for (const socket of sockets) socket.destroy();
    if (server?.listening) {
      server.close();
      await once(server, 'close');
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function connect(options: { ca?: string; rejectUnauthorized?: boolean }): LeanHttpConnection {
    const conn = createConnection({ url, timeoutMs: 5_000, ...options });
    opened.push(conn);
    return conn;
  }

  const request = (path: string) => serializeRequest({ method: 'GET', path, host: url.host, headers: {} });

  it('verifies the server against the given CA and keeps the connection alive', async () => {
    const before = connections;
    const conn = connect({ ca: cert });
    for (let i = 0; i < 20; i++) {
      const outcome = await send(conn, request(`/n${i}`), true);
      expect(outcome.error).toBeUndefined();
      expect(JSON.parse(outcome.response!.body!.toString())).toEqual({ path: `/n${i}` });
    }
    expect(connections - before).toBe(1);
  });

  it('rejects a certificate it cannot verify', async () => {
    const conn = connect({});
    const outcome = await send(conn, request('/'));
    expect(outcome.error).toBe('other');
    expect(conn.lastError).toMatch(/self[- ]signed/i);
  });

  it('accepts any certificate when verification is off', async () => {
    const outcome = await send(connect({ rejectUnauthorized: false }), request('/insecure'), true);
    expect(outcome.response?.status).toBe(200);
  });
});
