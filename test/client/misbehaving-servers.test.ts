import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GovernanceClient } from '../../src/client/governance-client.js';
import { govctl } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

/** Small real servers that misbehave on purpose; each is closed (connections too) after its test. */
const open: Array<{ close(): Promise<void> }> = [];

async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  open.push({
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function tcpServer(onConnection: (socket: Socket) => void): Promise<string> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  open.push({
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Writes `chunk` every `ms` until the client goes away. */
function drip(res: ServerResponse, chunk: string, ms: number): void {
  const timer = setInterval(() => res.write(chunk), ms);
  res.on('close', () => clearInterval(timer));
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe('the client does not trust the server too much', { timeout: 120_000 }, () => {
  it('--timeout bounds the whole request: a server dripping a byte every 500 ms cannot hold health open', async () => {
    const url = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":"ok","pad":"');
      drip(res, 'x', 500);
    });
    const result = await govctl(['health', '--url', url, '--timeout', '2s']);
    expect(result.exitCode).toBe(3);
    // Which of the two 2 s limits (the request's, or the whole command's, which started a moment
    // earlier) is reached first depends on the machine's speed; both must end it, naming the host.
    expect(result.stderr).toMatch(new RegExp(`cannot reach ${url.slice(7).replace(/[.]/g, '\\.')}: timed out: no complete answer within (the command's --timeout of )?2 s`));
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it('--timeout also bounds retries and body reads of admin requests', async () => {
    let requests = 0;
    const url = await httpServer((_req, res) => {
      requests += 1;
      if (requests === 1) {
        res.writeHead(503, { 'content-type': 'application/json' });
        return res.end('{"detail":"busy"}');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      drip(res, ' ', 300);
    });
    const result = await govctl(['keys', 'list', '--url', url, '--timeout', '2s'], { GOVCTL_ADMIN_KEY: 'k' });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('timed out');
    expect(requests).toBe(2);
  });

  it('caps a JSON answer: 200 MB to keys list is refused at 16 MiB (exit 1), not read into memory', async () => {
    let sent = 0;
    const url = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.from(`${'{"name":"x","key_id":"y"},'.repeat(2500)}`);
      res.write('[');
      const pump = () => {
        while (sent < 200 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end('{}]');
      };
      pump();
    });
    const result = await govctl(['keys', 'list', '--url', url, '-o', 'json'], { GOVCTL_ADMIN_KEY: 'k' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('sent more than 16 MiB in answer to GET /api/admin/keys');
    expect(result.stdout).toBe('');
    expect(sent).toBeLessThan(100 * 1024 * 1024);
  });

  it('refuses a declared Content-Length over the cap before reading it', async () => {
    const url = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(300 * 1024 * 1024) });
      res.write('[');
    });
    const result = await govctl(['keys', 'list', '--url', url], { GOVCTL_ADMIN_KEY: 'k' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('sent more than 16 MiB');
  });

  it('says "not an HTTP server" (exit 3) for a port that answers something else', async () => {
    const banner = await tcpServer((socket) => socket.write('SSH-2.0-OpenSSH_9.6\r\n'));
    const result = await govctl(['health', '--url', banner]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain(`cannot reach ${banner.slice(7)}: not an HTTP server`);
    expect(result.stderr).not.toMatch(STACK_FRAME);

    const garbage = await tcpServer((socket) => socket.once('data', () => socket.end(Buffer.from([0, 1, 2, 0xff, 10, 13, 10]))));
    const admin = await govctl(['keys', 'list', '--url', garbage], { GOVCTL_ADMIN_KEY: 'k' });
    expect(admin.exitCode).toBe(3);
    expect(admin.stderr).toContain('not an HTTP server');
  });

  it('maps a connection reset in the middle of a backup download to exit 3 and leaves no file', async () => {
    const bytes = Buffer.alloc(1024 * 1024, 7);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const url = await httpServer((req, res) => {
      if (req.url === '/api/admin/audit/backups') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ backups: [{ id: 'b1', backup_file: 'b1.db', sha256, size_bytes: bytes.length }] }));
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length), 'x-checksum-sha256': sha256 });
      res.write(bytes.subarray(0, 64 * 1024), () => req.socket.resetAndDestroy());
    });
    const dir = await mkdtemp(join(tmpdir(), 'govctl-reset-'));
    try {
      const result = await govctl(['backups', 'download', 'b1', join(dir, 'b1.db'), '--url', url], { GOVCTL_ADMIN_KEY: 'k' });
      expect(result.exitCode).toBe(3);
      expect(result.stderr).toContain(`cannot reach ${url.slice(7)}: connection reset by the server`);
      expect(result.stderr).not.toMatch(STACK_FRAME);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the field variants of /metrics and /v1/check', () => {
  it("reads metrics served as one JSON-quoted string, and records that it was", async () => {
    const url = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify('# TYPE requests_total counter\nrequests_total{endpoint="/v1/check"} 3\nactive_api_keys 2\n'));
    });
    const client = new GovernanceClient({ baseUrl: url, timeoutMs: 5000 });
    try {
      const metrics = await client.metrics();
      expect(metrics.samples).toEqual([
        { name: 'requests_total', labels: { endpoint: '/v1/check' }, value: 3 },
        { name: 'active_api_keys', labels: {}, value: 2 },
      ]);
      expect(client.deviations.map((d) => d.got)).toEqual(['application/json', 'a JSON-quoted string']);
    } finally {
      await client.close();
    }
  });

  it('a check answer without rate-limit headers or a decision_id leaves them null and says so', async () => {
    const url = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"allowed":true,"risk_score":0,"reason":"ok"}');
    });
    const client = new GovernanceClient({ baseUrl: url, timeoutMs: 5000 });
    try {
      const result = await client.check('k.s', { model: 'm', operation: 'o' });
      expect(result).toMatchObject({ allowed: true, decision_id: null, rate_limit: { limit: null, remaining: null, reset: null, retry_after: null } });
      expect(client.deviations.map((d) => d.path)).toEqual(['$.decision_id', 'header X-RateLimit-Limit', 'header X-RateLimit-Remaining', 'header X-RateLimit-Reset']);
    } finally {
      await client.close();
    }
  });
});

describe('credentials in a URL', { timeout: 120_000 }, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('are never printed: not in health output, JSON or errors', async () => {
    const port = new URL(server.url).port;
    const withCreds = `http://alice:s3cret-pw@127.0.0.1:${port}`;
    const outputs: string[] = [];
    const json = await govctl(['health', '--url', withCreds, '-o', 'json']);
    outputs.push(json.stdout, json.stderr);
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ url: `http://127.0.0.1:${port}`, healthy: true });
    const table = await govctl(['health', '--url', withCreds]);
    outputs.push(table.stdout, table.stderr);
    expect(table.exitCode).toBe(0);

    const refused = await govctl(['health', '--verbose', '--url', 'http://alice:s3cret-pw@127.0.0.1:9']);
    outputs.push(refused.stdout, refused.stderr);
    expect(refused.exitCode).toBe(3);
    const invalid = await govctl(['health', '--url', 'http://alice:s3cret-pw@127.0.0.1:notaport']);
    outputs.push(invalid.stdout, invalid.stderr);
    expect(invalid.exitCode).toBe(2);
    for (const text of outputs) expect(text).not.toContain('s3cret-pw');
  });

  it('are never sent: the client drops them from the URL', async () => {
    const seen: Array<string | undefined> = [];
    const url = await httpServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok","version":"1","uptime_s":1}');
    });
    const client = new GovernanceClient({ baseUrl: url.replace('http://', 'http://bob:pw@'), timeoutMs: 5000 });
    try {
      expect(client.url).toBe(url);
      expect((await client.health()).healthy).toBe(true);
    } finally {
      await client.close();
    }
    expect(seen).toEqual([undefined]);
  });
});
