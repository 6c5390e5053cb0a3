import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { newApiToken } from '../../src/core/api-token.js';
import { isLoopback } from '../../src/server/logging.js';
import { call, createKey } from '../helpers/http.js';

/** `govctl serve` in this process on a free port, stopped by closing its stdin. */
interface Serving {
  url: string;
  adminToken: string;
  /** Stops the server; resolves with its exit code. */
  stop(): Promise<number>;
  stderr(): string;
}

const running: Serving[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function serve(args: string[], options: { tty: boolean; env?: Record<string, string> }): Promise<Serving> {
  const dir = await mkdtemp(join(tmpdir(), 'govctl-serve-logs-'));
  dirs.push(dir);
  const adminToken = newApiToken().token;
  let out = '';
  let err = '';
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = run(['node', 'govctl', 'serve', '--port', '0', '--data-dir', dir, '--exit-with-stdin', '-o', 'json', ...args], {
    stdout,
    stderr,
    stdin,
    env: { HOME: dir, GOVCTL_BOOTSTRAP_ADMIN_KEY: adminToken, ...options.env },
    cwd: dir,
    stdoutIsTTY: false,
    stdinIsTTY: false,
    stderrIsTTY: options.tty,
  });
  let stopped: Promise<number> | undefined;
  const serving: Serving = {
    url: '',
    adminToken,
    stop: () => (stopped ??= (stdin.end(), exit)),
    stderr: () => err,
  };
  running.push(serving);
  // The first stdout line is {"url": ...}; an early exit is a failure to start.
  while (!out.includes('\n')) {
    const ended = await Promise.race([once(stdout, 'data').then(() => false), exit.then(() => true)]);
    if (ended && !out.includes('\n')) throw new Error(`serve exited: ${err}`);
  }
  serving.url = (JSON.parse(out.split('\n')[0]!) as { url: string }).url;
  return serving;
}

/** The server's log lines: stderr without the cli's own notes ("govctl serve: stopping ..."). */
function logLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '' && !line.startsWith('govctl serve:'));
}

/** Requests whose logging is checked: a query with a secret-looking value, a body with a marker. */
async function traffic(server: Serving): Promise<string[]> {
  const token = await createKey(server.url, server.adminToken, 'logged');
  await call(server.url, 'GET', '/health');
  await call(server.url, 'GET', '/api/admin/logs?key_id=QUERY-MARKER&limit=5', { token: server.adminToken });
  await call(server.url, 'POST', '/v1/check', { token, body: { model: 'm', operation: 'o', metadata: { marker: 'BODY-MARKER' } } });
  return [server.adminToken.split('.')[1]!, token.split('.')[1]!, 'QUERY-MARKER', 'BODY-MARKER'];
}

describe('govctl serve logs', { timeout: 60_000 }, () => {
  it('are JSON lines when stderr is not a terminal, with one access line per request at info', async () => {
    const server = await serve([], { tty: false });
    const secrets = await traffic(server);
    expect(await server.stop()).toBe(0);
    const lines = logLines(server.stderr());
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const access = records.filter((r) => r['msg'] !== undefined && typeof r['status'] === 'number');
    expect(access).toContainEqual(expect.objectContaining({ level: 30, method: 'GET', path: '/health', route: '/health', status: 200, ms: expect.any(Number) }));
    expect(access).toContainEqual(expect.objectContaining({ method: 'GET', path: '/api/admin/logs', status: 200 }));
    expect(access).toContainEqual(expect.objectContaining({ method: 'POST', path: '/v1/check', status: 200 }));
    for (const secret of secrets) expect(server.stderr()).not.toContain(secret);
    expect(server.stderr()).not.toMatch(/authorization|bearer/i);
    expect(server.stderr()).not.toContain('warning:');
  });

  it('are human lines on a terminal, and JSON again when asked for', async () => {
    const pretty = await serve([], { tty: true, env: { NO_COLOR: '1' } });
    const secrets = await traffic(pretty);
    expect(await pretty.stop()).toBe(0);
    const lines = logLines(pretty.stderr());
    for (const line of lines) expect(() => JSON.parse(line)).toThrow();
    expect(lines).toContainEqual(expect.stringMatching(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: GET \/health 200 \d+(\.\d)? ms$/));
    expect(lines).toContainEqual(expect.stringMatching(/INFO: GET \/api\/admin\/logs 200 /));
    expect(pretty.stderr()).not.toContain('\u001b[');
    for (const secret of secrets) expect(pretty.stderr()).not.toContain(secret);

    const json = await serve(['--log-format', 'json'], { tty: true });
    await call(json.url, 'GET', '/health');
    expect(await json.stop()).toBe(0);
    for (const line of logLines(json.stderr())) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('warns when listening on a non-loopback address without TLS', async () => {
    const server = await serve(['--host', '0.0.0.0', '--log-level', 'warn'], { tty: false });
    const port = new URL(server.url).port;
    expect(await server.stop()).toBe(0);
    expect(server.stderr()).toContain(`warning: listening on 0.0.0.0:${port} without TLS: put a TLS-terminating proxy in front, or bind 127.0.0.1`);
  });

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com']) expect(isLoopback(host), host).toBe(false);
  });
});
