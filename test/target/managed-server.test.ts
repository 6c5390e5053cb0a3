import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { InterruptedError, OperationFailedError } from '../../src/core/errors.js';
import { startManagedServer, stopManagedServers, type ManagedServerOptions } from '../../src/target/managed-server.js';
import { parseStatCpu } from '../../src/target/proc-sample.js';
import { call, createKey } from '../helpers/http.js';

// These run the built govctl (dist/): `npm run build` first.
const env = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' };
const fast: ManagedServerOptions = { env, serveArgs: ['--sync', 'normal'] };

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  // A zombie nobody has reaped yet (e.g. PID 1 in a container) no longer runs.
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Polls (no event exists for a process that is not our child) until `pid` is gone or the deadline passes. */
async function goneWithin(pid: number, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await delay(50)) if (gone(pid)) return true;
  return gone(pid);
}

const DIST_MODULE = fileURLToPath(new URL('../../dist/target/managed-server.js', import.meta.url));

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function occupy(port: number): Promise<Server> {
  const squatter = createServer();
  await new Promise<void>((resolve, reject) => {
    squatter.once('error', reject);
    squatter.listen(port, '127.0.0.1', resolve);
  });
  return squatter;
}

// A foreign server (chaos's --server-cmd): plain node, ready only after a short delay.
const FOREIGN = `
const port = Number(process.argv[1]);
setTimeout(() => require('node:http').createServer((q, s) => s.end(q.url === '/health' ? 'ok' : 'hello')).listen(port, '127.0.0.1'), 200);
`;

afterEach(() => stopManagedServers());
afterAll(() => stopManagedServers());

describe('managed server process (govctl serve)', () => {
  it('survives kill -9: restart on the same data dir keeps state and the URL', async () => {
    const server = await startManagedServer(fast);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const firstPid = server.pid;
    const key = await createKey(server.url, server.adminKey!, 'before-kill');
    const decision = { model: 'gpt-4o', operation: 'chat' };
    expect((await call(server.url, 'POST', '/v1/check', { token: key, body: decision })).status).toBe(200);

    expect(server.kill('SIGKILL')).toBe(true);
    expect(await server.exited).toEqual({ exitCode: undefined, signal: 'SIGKILL' });
    expect(server.running).toBe(false);
    expect(gone(firstPid)).toBe(true);

    const restarted = await server.restart();
    expect(restarted).toEqual({ url: restarted.previousUrl, previousUrl: restarted.previousUrl, portChanged: false });
    expect(server.url).toBe(restarted.previousUrl);
    expect(server.pid).not.toBe(firstPid);
    const keys = await call(server.url, 'GET', '/api/admin/keys', { token: server.adminKey! });
    expect(keys.status).toBe(200);
    const list = Array.isArray(keys.body) ? keys.body : keys.body.keys;
    expect(list.map((k: { name: string }) => k.name)).toContain('before-kill');
    expect((await call(server.url, 'POST', '/v1/check', { token: key, body: decision })).status).toBe(200);
    const logs = await call(server.url, 'GET', '/api/admin/logs?page_size=1', { token: server.adminKey! });
    expect(logs.body.total).toBe(2);
  });

  it('restart falls back to a new port when the old one was taken, and says so', async () => {
    const server = await startManagedServer(fast);
    const port = Number(new URL(server.url).port);
    await server.stop('SIGKILL');
    const squatter = await occupy(port);
    try {
      const restarted = await server.restart();
      expect(restarted.portChanged).toBe(true);
      expect(restarted.previousUrl).toBe(`http://127.0.0.1:${port}`);
      expect(restarted.url).not.toBe(restarted.previousUrl);
      expect(server.url).toBe(restarted.url);
      expect((await call(server.url, 'GET', '/health')).status).toBe(200);
    } finally {
      squatter.close();
    }
  });

  it('restart of a running server stops it gracefully first', async () => {
    const server = await startManagedServer(fast);
    const before = server.exited;
    await server.restart();
    expect(await before).toEqual({ exitCode: 0, signal: undefined });
    expect((await call(server.url, 'GET', '/health')).status).toBe(200);
  });

  it('graceful stop exits 0, exited resolves, and the process is gone', async () => {
    const server = await startManagedServer(fast);
    const result = await server.stop();
    expect(result).toEqual({ exitCode: 0, signal: undefined, forced: false });
    expect(await server.exited).toEqual({ exitCode: 0, signal: undefined });
    expect(gone(server.pid)).toBe(true);
    expect(server.kill()).toBe(false);
    // Stopping again is harmless.
    expect((await server.stop()).exitCode).toBe(0);
  });

  it('keeps a bounded stderr tail and can wait for a line in it', async () => {
    const server = await startManagedServer({ ...fast, logLevel: 'info', stderrLimit: 300 });
    for (let i = 0; i < 20; i++) await call(server.url, 'GET', '/health');
    expect(server.stderr().length).toBeLessThanOrEqual(300);
    expect(server.stderr()).not.toBe('');
    const stopping = server.waitForStderr(/stopping/);
    server.kill('SIGTERM');
    await stopping;
    await expect(server.waitForStderr(/never printed/, 5_000)).rejects.toThrow(/exited before stderr matched/);
  });

  it('sample() reads RSS and CPU of the live process from /proc, undefined once it has exited', async () => {
    const server = await startManagedServer(fast);
    for (let i = 0; i < 50; i++) await call(server.url, 'GET', '/health');
    const sample = server.sample();
    if (process.platform !== 'linux') {
      expect(sample).toBeUndefined();
      return;
    }
    expect(sample).toBeDefined();
    expect(sample!.pid).toBe(server.pid);
    // A Node server: tens of MiB, well under a few GiB.
    expect(sample!.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(sample!.rssBytes).toBeLessThan(4 * 1024 * 1024 * 1024);
    expect(sample!.peakRssBytes).toBeGreaterThanOrEqual(sample!.rssBytes);
    // Starting node and opening SQLite costs CPU; it cannot exceed wall time times the cores.
    expect(sample!.cpuSeconds).toBeGreaterThan(0);
    expect(sample!.cpuSeconds).toBeCloseTo(sample!.userCpuSeconds + sample!.systemCpuSeconds, 6);
    expect(sample!.cpuSeconds).toBeLessThan(120);
    await server.stop();
    expect(server.sample()).toBeUndefined();
  });

  it('cleanup removes the temp data dir it made, after stopping and only then', async () => {
    const server = await startManagedServer(fast);
    const dir = server.dataDir!;
    await expect(server.cleanup()).rejects.toThrow(/still running/);
    await server.stop();
    expect(existsSync(dir)).toBe(true);
    await server.cleanup();
    expect(existsSync(dir)).toBe(false);
  });

  it('never removes a data dir the caller supplied', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'govctl-caller-'));
    try {
      const server = await startManagedServer({ ...fast, dataDir: dir });
      expect(server.dataDir).toBe(dir);
      await server.dispose();
      await stopManagedServers();
      expect(existsSync(dir)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an abort while starting stops the child, removes its temp dir and throws InterruptedError', async () => {
    const controller = new AbortController();
    let pid = 0;
    let dataDir = '';
    const started = startManagedServer({
      ...fast,
      signal: controller.signal,
      onSpawn: (p) => {
        pid = p;
        const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        dataDir = argv[argv.indexOf('--data-dir') + 1]!;
        controller.abort();
      },
    });
    await expect(started).rejects.toBeInstanceOf(InterruptedError);
    expect(pid).toBeGreaterThan(0);
    expect(gone(pid)).toBe(true);
    expect(dataDir).toMatch(/govctl-server-/);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('a server that cannot start is reported with its stderr, and leaves nothing running', async () => {
    let pid = 0;
    const started = startManagedServer({ ...fast, serveArgs: ['--rate-limit', 'not-a-rate'], onSpawn: (p) => (pid = p) });
    await expect(started).rejects.toBeInstanceOf(OperationFailedError);
    await expect(started).rejects.toThrow(/exited before it was ready: .*rate/);
    expect(gone(pid)).toBe(true);
  });

  it('leaves no orphan when the parent is killed: the server exits when its stdin pipe closes', async () => {
    const script = `
      import { startManagedServer } from ${JSON.stringify(DIST_MODULE)};
      const server = await startManagedServer({ env: { PATH: process.env.PATH } });
      console.log(JSON.stringify({ pid: server.pid, dataDir: server.dataDir }));
      setInterval(() => {}, 1000);`;
    const parent = execa(process.execPath, ['--input-type=module', '-e', script], { reject: false, buffer: false, cleanup: true });
    const line = await new Promise<string>((resolve) => parent.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    const { pid, dataDir } = JSON.parse(line) as { pid: number; dataDir: string };
    try {
      expect(gone(pid)).toBe(false);
      parent.kill('SIGKILL');
      await parent;
      expect(await goneWithin(pid, 10_000)).toBe(true);
    } finally {
      if (!gone(pid)) process.kill(pid, 'SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('stopManagedServers stops every server and removes their temp dirs', async () => {
    const a = await startManagedServer(fast);
    const b = await startManagedServer(fast);
    await stopManagedServers();
    expect(await a.exited).toEqual({ exitCode: undefined, signal: 'SIGKILL' });
    expect(await b.exited).toEqual({ exitCode: undefined, signal: 'SIGKILL' });
    expect(existsSync(a.dataDir!)).toBe(false);
    expect(existsSync(b.dataDir!)).toBe(false);
  });
});

describe('managed server process (a foreign server command)', () => {
  it('starts any argv command, is ready once its health URL answers, and restarts on the same URL', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = await startManagedServer({ env, command: { file: process.execPath, args: ['-e', FOREIGN, String(port)], url } });
    expect(server.url).toBe(url);
    expect(server.dataDir).toBeUndefined();
    expect(server.adminKey).toBeUndefined();
    expect((await call(url, 'GET', '/')).text).toBe('hello');
    server.kill('SIGKILL');
    expect((await server.exited).signal).toBe('SIGKILL');
    expect(await server.restart()).toEqual({ url, previousUrl: url, portChanged: false });
    expect((await call(url, 'GET', '/')).text).toBe('hello');
    expect((await server.stop('SIGTERM')).signal).toBe('SIGTERM');
  });

  it('a command that does not exist, or exits, fails the start with a clear error', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    await expect(startManagedServer({ env, command: { file: '/nonexistent/server', args: [], url } })).rejects.toThrow(/exited before it was ready: .*ENOENT/);
    await expect(
      startManagedServer({ env, command: { file: process.execPath, args: ['-e', 'console.error("boom"); process.exit(3)'], url } }),
    ).rejects.toThrow(/exited before it was ready: boom/);
  });

  it('a command that never becomes ready times out and is stopped', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    let pid = 0;
    const started = startManagedServer({
      env,
      command: { file: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], url },
      startTimeoutMs: 500,
      onSpawn: (p) => (pid = p),
    });
    await expect(started).rejects.toThrow(/did not become ready within 500 ms/);
    expect(gone(pid)).toBe(true);
  });
});

describe('parseStatCpu', () => {
  it('reads utime and stime even when the command name holds spaces and parentheses', () => {
    const stat = '4242 (my (odd) srv) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0 1000 1000000 5000';
    expect(parseStatCpu(stat)).toEqual({ user: 2.5, system: 0.75 });
    expect(parseStatCpu('garbage')).toBeUndefined();
  });
});
