import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection } from '../../src/load/http/connection.js';
import { serializeRequest } from '../../src/load/http/request-bytes.js';
import { send } from '../load/http-servers.js';
import { runInProcess } from '../helpers/run-in-process.js';

// Real TLS servers on loopback with certificates made at test time by the openssl CLI.

const openssl = ['/usr/bin/openssl', '/usr/local/bin/openssl', '/bin/openssl'].find((path) => existsSync(path));
const OPENSSL_INTERNALS = /SSL routines|ssl3_|deps\/openssl|:error:|DEPTH_ZERO|ERR_SSL|ERR_TLS|altnames/;

interface Listening {
  url: string;
  host: string;
  /** TCP connections accepted so far (retries would show as more). */
  connections: () => number;
  close(): Promise<void>;
}

async function listen(server: http.Server | https.Server, scheme: 'http' | 'https'): Promise<Listening> {
  const sockets = new Set<Socket>();
  let connections = 0;
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${scheme}://${host}`,
    host,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

const answer: http.RequestListener = (req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(req.url === '/health' ? '{"status":"ok","version":"1.0.0","uptime_s":1}' : '{"keys":[]}');
};

describe.skipIf(openssl === undefined)('TLS failures are one plain line, exit 3 (skipped: no openssl CLI)', { timeout: 60_000 }, () => {
  let dir: string;
  const pem: Record<string, string> = {};
  const servers: Record<string, Listening> = {};

  const run = (args: string[]) => runInProcess([...args, '--timeout', '5s'], { env: { GOVCTL_ADMIN_KEY: 'k', GOVCTL_CONFIG: join(dir, 'config.json') } });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-tls-errors-'));
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    const selfSigned = (name: string, subject: string, san: string) =>
      execa(openssl!, ['req', '-x509', ...ec, '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`), '-days', '1', '-subj', subject, '-addext', `subjectAltName=${san}`]);
    await selfSigned('self', '/CN=localhost', 'IP:127.0.0.1,DNS:localhost');
    await selfSigned('other', '/CN=other.test', 'DNS:other.test');
    // An expired certificate needs explicit dates, which only `openssl ca` takes.
    await mkdir(join(dir, 'ca'));
    await writeFile(join(dir, 'ca', 'index.txt'), '');
    await writeFile(join(dir, 'ca', 'serial'), '01\n');
    await writeFile(
      join(dir, 'ca.cnf'),
      `[ca]\ndefault_ca = d\n[d]\ndatabase = ${dir}/ca/index.txt\nnew_certs_dir = ${dir}/ca\nserial = ${dir}/ca/serial\ndefault_md = sha256\npolicy = p\ncopy_extensions = copy\n[p]\ncommonName = supplied\n`,
    );
    await execa(openssl!, ['req', '-new', ...ec, '-keyout', join(dir, 'expired.key'), '-out', join(dir, 'expired.csr'), '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1']);
    await execa(openssl!, [
      'ca', '-batch', '-config', join(dir, 'ca.cnf'), '-selfsign', '-keyfile', join(dir, 'expired.key'), '-in', join(dir, 'expired.csr'),
      '-out', join(dir, 'expired.pem'), '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-notext',
    ]);
    for (const name of ['self', 'other', 'expired']) {
      pem[name] = await readFile(join(dir, `${name}.pem`), 'utf8');
      servers[name] = await listen(https.createServer({ key: await readFile(join(dir, `${name}.key`)), cert: pem[name] }, answer), 'https');
    }
    servers['plain'] = await listen(http.createServer(answer), 'http');
  });

  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function expectOneLine(stderr: string, line: string): void {
    const errors = stderr.split('\n').filter((l) => l.startsWith('govctl: error:'));
    expect(errors, stderr).toEqual([`govctl: error: ${line}`]);
    expect(stderr).not.toMatch(OPENSSL_INTERNALS);
  }

  it('says a self-signed certificate is not trusted, names --ca-cert, and does not retry', async () => {
    const { host, url, connections } = servers['self']!;
    const before = connections();
    const result = await run(['keys', 'list', '--url', url]);
    expect(result.exitCode).toBe(3);
    expectOneLine(result.stderr, `certificate for ${host} not trusted: it is self-signed (pass --ca-cert FILE)`);
    expect(connections() - before).toBe(1);
  });

  it('connects once the certificate is trusted with --ca-cert', async () => {
    const result = await run(['health', '--url', servers['self']!.url, '--ca-cert', join(dir, 'self.pem'), '-o', 'json']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ healthy: true });
  });

  it('says when the certificate is for another name, and which', async () => {
    const { host, url } = servers['other']!;
    const result = await run(['keys', 'list', '--url', url, '--ca-cert', join(dir, 'other.pem')]);
    expect(result.exitCode).toBe(3);
    expectOneLine(result.stderr, `certificate for ${host} does not match the name (it is for other.test)`);
  });

  it('says when the certificate has expired', async () => {
    const { host, url } = servers['expired']!;
    const result = await run(['keys', 'list', '--url', url, '--ca-cert', join(dir, 'expired.pem')]);
    expect(result.exitCode).toBe(3);
    expectOneLine(result.stderr, `certificate for ${host} has expired (renew it on the server, or check this machine's clock)`);
  });

  it('says an https URL to a plain-HTTP port is one, with health too', async () => {
    const { host } = servers['plain']!;
    const url = `https://${host}`;
    for (const args of [['keys', 'list', '--url', url], ['health', '--url', url]]) {
      const result = await run(args);
      expect(result.exitCode).toBe(3);
      expectOneLine(result.stderr, `TLS handshake with ${host} failed: the server does not speak TLS (try http://)`);
    }
  });

  it("the load engine's request path says the same (what chaos and load reports show)", async () => {
    const { host } = servers['plain']!;
    const conn = createConnection({ url: new URL(`https://${host}`), timeoutMs: 5_000 });
    try {
      const outcome = await send(conn, serializeRequest({ method: 'GET', path: '/health', host, headers: {} }));
      expect(outcome.error).toBe('other');
      expect(conn.lastError).toBe(`TLS handshake with ${host} failed: the server does not speak TLS (try http://)`);
    } finally {
      conn.close();
    }
  });
});
