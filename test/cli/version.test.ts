import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { govctl } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** A server that is not govctl's: its /health names its own version. */
async function startOtherServer(version: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.url === '/health' ? { status: 'ok', version, uptime_s: 1 } : { detail: 'Not Found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A loopback port nothing listens on (connections are refused). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('govctl version', () => {
  let server: TestServer;
  let other: Awaited<ReturnType<typeof startOtherServer>>;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    [server, other] = await Promise.all([startTestServer(), startOtherServer('9.8.7-field')]);
    dir = await mkdtemp(join(tmpdir(), 'govctl-version-'));
    // No config file: nothing is configured unless a test says so.
    env = { HOME: dir, GOVCTL_CONFIG: join(dir, 'config.json') };
  });
  afterAll(async () => {
    await Promise.all([server.close(), other.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it("prints govctl's, Node's and the server's version", async () => {
    const health = (await (await fetch(`${server.url}/health`)).json()) as { version: string };
    const result = await govctl(['version', '--url', server.url], env);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^govctl +${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
    expect(result.stdout).toMatch(new RegExp(`^node +${process.version.replace(/\./g, '\\.')}$`, 'm'));
    expect(result.stdout).toMatch(new RegExp(`^server +${health.version.replace(/\./g, '\\.')} \\(${server.url}\\)$`, 'm'));

    const field = await govctl(['version'], { ...env, GOVCTL_URL: other.url });
    expect(field.stdout).toContain(`9.8.7-field (${other.url})`);
  });

  it('has a stable -o json shape', async () => {
    const result = await govctl(['version', '--url', other.url, '-o', 'json'], env);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      govctl: pkg.version,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      server: { url: other.url, context: null, version: '9.8.7-field' },
    });
  });

  it("asks a context's server without needing its admin key", async () => {
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ version: 1, current_context: 'field', contexts: { field: { url: other.url, admin_key_env: 'UNSET_FIELD_KEY' } } }),
    );
    try {
      const result = await govctl(['version', '-o', 'json'], env);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout).server).toEqual({ url: other.url, context: 'field', version: '9.8.7-field' });
      const table = await govctl(['version'], env);
      expect(table.stdout).toContain(`9.8.7-field (${other.url}, context field)`);
    } finally {
      await rm(join(dir, 'config.json'), { force: true });
    }
  });

  it('starts no embedded server when no server is configured', async () => {
    const result = await govctl(['version', '-o', 'json'], env);
    expect(result).toMatchObject({ exitCode: 0, stderr: '' });
    expect(JSON.parse(result.stdout).server).toBeNull();
    const table = await govctl(['version'], env);
    expect(table.stdout).toMatch(/^server +not configured/m);
    expect(table.stderr).toBe('');
  });

  it('reports an unreachable server on its line and still exits 0', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await govctl(['version', '--url', url], env);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^govctl +${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
    expect(result.stdout).toMatch(/^server +unreachable \(cannot reach 127\.0\.0\.1:\d+: .*refused/m);
    const json = await govctl(['version', '--url', url, '-o', 'json'], env);
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout).server).toMatchObject({ url, context: null, version: null, error: expect.stringMatching(/^unreachable \(/) });
  });

  it('keeps --version the bare version, for scripts', async () => {
    const result = await govctl(['--version'], env);
    expect(result).toEqual({ exitCode: 0, stdout: pkg.version, stderr: '' });
  });
});
