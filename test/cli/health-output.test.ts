import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/run-in-process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** A loopback port with nothing listening on it: bound, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('health output for every outcome', { timeout: 60_000 }, () => {
  let server: TestServer;
  let home: string;
  let wrongKey: string;
  /** Plain HTTP answering /health with 503 degraded: a degraded server, and no TLS for https://. */
  let degraded: Server;
  let degradedHost: string;

  beforeAll(async () => {
    server = await startTestServer();
    home = await mkdtemp(join(tmpdir(), 'govctl-health-'));
    wrongKey = `${server.adminToken.split('.')[0]}.${'A'.repeat(43)}`;
    degraded = createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"status":"degraded","version":"1.2.3","uptime_s":7384}');
    });
    degradedHost = await listen(degraded);
  });
  afterAll(async () => {
    degraded.closeAllConnections();
    await new Promise<void>((resolve) => degraded.close(() => resolve()));
    await server.close();
    await rm(home, { recursive: true, force: true });
  });

  it('writes JSON with healthy:false and the error when nothing listens (exit 3)', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await runInProcess(['health', '--url', url, '-o', 'json'], { env: { HOME: home } });
    expect(result.exitCode).toBe(3);
    const report = JSON.parse(result.stdout) as Record<string, any>;
    expect(report).toMatchObject({ context: null, url, target: 'remote', healthy: false, http_status: null, admin_key: 'not configured' });
    expect(report['error']).toMatchObject({ code: 'GOVCTL_UNREACHABLE' });
    expect(report['error'].message).toContain('cannot reach 127.0.0.1');
    // The error line still goes to stderr, for people.
    expect(result.stderr).toContain('govctl: error: cannot reach 127.0.0.1');
  });

  it('writes JSON for a TLS failure too (https:// to a plain HTTP port)', async () => {
    const url = `https://${degradedHost}`;
    const result = await runInProcess(['health', '--url', url, '-o', 'json', '--timeout', '5s'], { env: { HOME: home } });
    expect(result.exitCode).toBe(3);
    const report = JSON.parse(result.stdout) as Record<string, any>;
    expect(report).toMatchObject({ url, healthy: false, status: null, error: { code: 'GOVCTL_UNREACHABLE' } });
    expect(report['error'].message).toContain('TLS');
    expect(result.stderr).toContain('govctl: error:');
  });

  it('writes JSON for a refused admin key (exit 4), the key never shown', async () => {
    const result = await runInProcess(['health', '--url', server.url, '-o', 'json'], { env: { HOME: home, GOVCTL_ADMIN_KEY: wrongKey } });
    expect(result.exitCode).toBe(4);
    const report = JSON.parse(result.stdout) as Record<string, any>;
    expect(report).toMatchObject({ url: server.url, status: 'ok', http_status: 200, healthy: false, admin_key: 'refused' });
    expect(report['error']).toMatchObject({ code: 'GOVCTL_UNAUTHORIZED' });
    expect(result.stderr).toContain('refused the credentials');
    expect(result.stdout + result.stderr).not.toContain(wrongKey);
  });

  it('shows the table with the refused admin key in its own row, still exit 4', async () => {
    const result = await runInProcess(['health', '--url', server.url], { env: { HOME: home, GOVCTL_ADMIN_KEY: wrongKey } });
    expect(result.exitCode).toBe(4);
    expect(result.stdout).toMatch(/^status +ok \(HTTP 200\)$/m);
    expect(result.stdout).toMatch(/^admin key +refused \(HTTP 401: Invalid API key\)$/m);
    expect(result.stdout).toMatch(/^url +http:\/\/127\.0\.0\.1:\d+$/m);
    expect(result.stderr).toContain('refused the credentials');
    expect(result.stdout + result.stderr).not.toContain(wrongKey);
  });

  it('writes JSON for a degraded server (exit 1) and shows its uptime and latency in units', async () => {
    const url = `http://${degradedHost}`;
    const json = await runInProcess(['health', '--url', url, '-o', 'json'], { env: { HOME: home } });
    expect(json.exitCode).toBe(1);
    const report = JSON.parse(json.stdout) as Record<string, any>;
    expect(report).toMatchObject({ url, status: 'degraded', http_status: 503, healthy: false, uptime_s: 7384, error: { code: 'GOVCTL_UNHEALTHY' } });
    expect(report['error'].message).toContain('degraded');

    const table = await runInProcess(['health', '--url', url], { env: { HOME: home } });
    expect(table.exitCode).toBe(1);
    expect(table.stdout).toMatch(/^uptime +2h03m$/m);
    expect(table.stdout).toMatch(/^latency +\d+\.\d (ms|s)$/m);
  });

  it('names the context and URL it used, in the table and in JSON', async () => {
    const env = { HOME: home, GOVCTL_CONFIG: join(home, 'config.json'), LOCAL_ADMIN: server.adminToken };
    const set = await runInProcess(['config', 'set-context', 'local', '--url', server.url, '--admin-key-env', 'LOCAL_ADMIN'], { env });
    expect(set.exitCode, set.stderr).toBe(0);

    const table = await runInProcess(['health', '--detailed'], { env });
    expect(table.exitCode, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^context +local$/m);
    expect(table.stdout).toContain(server.url);
    // Components as key=value, never raw JSON.
    expect(table.stdout).toMatch(/^ {2}audit_log +pending=0$/m);
    expect(table.stdout).not.toMatch(/[{}]/);

    const json = await runInProcess(['health', '-o', 'json'], { env });
    expect(JSON.parse(json.stdout)).toMatchObject({ context: 'local', url: server.url, healthy: true, admin_key: 'ok', error: null });
  });
});
