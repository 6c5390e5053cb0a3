import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GovernanceClient } from '../../src/client/governance-client.js';
import { readLoadReport } from '../../src/load/report-schema.js';
import type { LoadReport } from '../../src/load/types.js';
import { GOVCTL, govctl } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// govctl load as a user runs it: the built CLI in a child process, against real servers.
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'govctl-load-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function referenceServer(): Promise<TestServer> {
  const server = await startTestServer({ rateLimit: { limit: 1_000_000, windowMs: 1000 } });
  cleanups.push(() => server.close());
  return server;
}

async function runsIn(out: string): Promise<string[]> {
  return readdir(out).catch(() => []);
}

async function onlyReport(out: string): Promise<LoadReport> {
  const runs = await runsIn(out);
  expect(runs).toHaveLength(1);
  return readLoadReport(join(out, runs[0]!, 'load.json'));
}

describe('govctl load', () => {
  it.each([
    ['normal', '3s'],
    ['stress', '4s'],
    ['soak', '3s'],
  ])('profile %s (shortened to %s) against the embedded server writes a valid report, md and html', async (profile, duration) => {
    const out = join(dir, `profile-${profile}`);
    const result = await govctl(['load', '--profile', profile, '--duration', duration, '--out', out, '--seed', '7', '--embedded']);
    expect(result.stderr).toContain('starting a temporary embedded reference server');
    const report = await onlyReport(out);
    expect(result.exitCode, result.stderr).toBe(report.run.status === 'passed' ? 0 : 1);
    expect(report.target).toMatchObject({ kind: 'embedded' });
    expect(report.data.profile.name).toBe(profile);
    expect(report.data.options.seed).toBe(7);
    expect(report.data.totals.requests).toBeGreaterThan(0);
    expect(report.data.keys).toMatchObject({ source: 'provisioned', revoked: true });
    expect(report.data.audit).toMatchObject({ status: 'measured', lost: 0 });
    const files = await readdir(join(out, report.run.id));
    expect(files.sort()).toEqual(['load.html', 'load.json', 'load.md']);
    expect(result.stderr).toContain(`report: ${join(out, report.run.id, 'load.html')}`);
    if (profile === 'stress') expect(report.data.stages).toHaveLength(4);
    if (profile === 'soak') expect(report.data.memory).not.toBeNull();
  });

  it('burst (shortened) against the embedded server: throttled, no errors, healthy after, exit 0', async () => {
    const out = join(dir, 'burst');
    const result = await govctl(['load', '--profile', 'burst', '--duration', '3s', '--out', out, '--embedded', '-o', 'json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as { status: string; throttling: { throttled: number; server_errors: number; healthy_after: boolean } };
    expect(printed.status).toBe('passed');
    expect(printed.throttling.throttled).toBeGreaterThan(0);
    expect(printed.throttling.server_errors).toBe(0);
    expect(printed.throttling.healthy_after).toBe(true);
    const report = await onlyReport(out);
    expect(report.data.keys.count).toBe(1);
    expect(report.data.totals.errors).toBe(0);
  });

  it('open model with --rate against a configured server, through worker threads', async () => {
    const server = await referenceServer();
    const out = join(dir, 'open-workers');
    const result = await govctl(['load', '--rate', '200/s', '--duration', '2s', '--workers', '2', '--out', out, '--seed', '3'], {
      GOVCTL_URL: server.url,
      GOVCTL_ADMIN_KEY: server.adminToken,
    });
    expect(result.exitCode, result.stderr).toBe(0);
    const report = await onlyReport(out);
    expect(report.target).toMatchObject({ kind: 'remote', url: server.url });
    expect(report.data.profile.model).toBe('open');
    expect(report.data.options.workers).toBe(2);
    // Two shards of 100/s each add up to the whole schedule.
    expect(report.data.totals.requests + report.data.totals.dropped).toBeGreaterThan(300);
    expect(report.data.audit).toMatchObject({ status: 'measured', lost: 0 });
  });

  it('Ctrl-C: stops, revokes its keys, writes a partial report marked interrupted, exits 130', async () => {
    const server = await referenceServer();
    const out = join(dir, 'interrupted');
    const child = execa(process.execPath, [GOVCTL, 'load', '--profile', 'normal', '--duration', '60s', '--out', out], {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, GOVCTL_URL: server.url, GOVCTL_ADMIN_KEY: server.adminToken },
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });
    cleanups.push(async () => {
      child.kill('SIGKILL');
    });
    // Interrupt once the run is under way (its first progress line).
    await new Promise<void>((resolve) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('warm-up') || chunk.toString().includes('req/s')) resolve();
      });
    });
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, String(result.stderr)).toBe(130);
    const report = await onlyReport(out);
    expect(report.run.status).toBe('interrupted');
    expect(report.data.keys.revoked).toBe(true);
    const keys = await new GovernanceClient({ baseUrl: server.url, adminKey: server.adminToken }).listKeys();
    expect(keys.filter((k) => k.name?.startsWith('govctl-load-') && k.active)).toEqual([]);
  });

  it('--save-baseline then --baseline auto: a slower server is a regression, exit 1 with the deltas', async () => {
    let delayMs = 0;
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/health') return res.end('{"status":"ok"}');
        setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), delayMs);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const work = join(dir, 'baseline');
    await mkdir(work, { recursive: true });
    await writeFile(join(work, 'mix.json'), JSON.stringify({ name: 'plain', requests: [{ name: 'get', weight: 1, method: 'GET', path: '/work', auth: 'none' }] }));
    await writeFile(join(work, 'steady.json'), JSON.stringify({ name: 'steady', scenario: 'mix.json', model: 'closed', stages: [{ duration: '2s', vus: 4 }] }));
    const run = (args: string[]) => execa(process.execPath, [GOVCTL, 'load', '--profile', 'steady.json', '--url', url, '--seed', '1', ...args], { cwd: work, reject: false, env: { PATH: process.env['PATH'] ?? '', HOME: dir }, extendEnv: false, stdin: 'ignore' });

    const first = await run(['--save-baseline']);
    expect(first.exitCode, String(first.stderr)).toBe(0);
    expect(String(first.stderr)).toContain(join(work, 'baselines', 'steady.json'));
    delayMs = 20;
    const second = await run(['--baseline', 'auto']);
    expect(second.exitCode, String(second.stderr)).toBe(1);
    expect(String(second.stdout)).toMatch(/Baseline/);
    expect(String(second.stderr)).toMatch(/regression against the baseline: p95/);
  });

  describe('bad input: clear errors, the right exit codes, nothing started', () => {
    it.each([
      [['--rate', '0'], 2, /rate/],
      [['--duration', '-1'], 2, /duration/],
      [['--duration', '0s'], 2, /duration/],
      [['--vus', 'many'], 2, /--vus/],
      [['--profile', 'nosuch'], 2, /nosuch/],
      [['--segment', '3/2'], 2, /segment/],
      [['--workers', '0'], 2, /--workers/],
    ])('govctl load %j exits %i', async (args, code, message) => {
      const out = join(dir, `bad-${String(args).replace(/\W/g, '_')}`);
      const result = await govctl(['load', ...(args as string[]), '--out', out, '--url', 'http://127.0.0.1:9']);
      expect(result.exitCode, result.stderr).toBe(code);
      expect(result.stderr).toMatch(message as RegExp);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(await runsIn(out)).toEqual([]);
    });

    it('an invalid profile file names the file, the JSON path and what was expected', async () => {
      const file = join(dir, 'bad-profile.json');
      await writeFile(file, JSON.stringify({ name: 'bad', model: 'closed', stages: [{ duration: '10s', vus: 'fifty' }] }));
      const result = await govctl(['load', '--profile', file, '--url', 'http://127.0.0.1:9']);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(file);
      expect(result.stderr).toMatch(/\$\.stages\[0\]\.vus/);
    });

    it('an invalid scenario file names the file and the JSON path', async () => {
      const file = join(dir, 'bad-scenario.json');
      await writeFile(file, JSON.stringify({ name: 'bad', requests: [{ name: 'x', weight: -1, method: 'GET', path: '/', auth: 'none' }] }));
      const result = await govctl(['load', '--scenario', file, '--url', 'http://127.0.0.1:9']);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(file);
      expect(result.stderr).toMatch(/\$\.requests\[0\]\.weight/);
    });

    it('an unreachable URL exits 3 naming the host', async () => {
      // A port that was free a moment ago: nothing listens there.
      const probe: Server = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const { port } = probe.address() as { port: number };
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const out = join(dir, 'unreachable');
      const result = await govctl(['load', '--duration', '2s', '--out', out, '--url', `http://127.0.0.1:${port}`]);
      expect(result.exitCode, result.stderr).toBe(3);
      expect(result.stderr).toContain(`127.0.0.1:${port}`);
      expect(await runsIn(out)).toEqual([]);
    });

    it('a wrong admin key exits 4 before any load is sent', async () => {
      const server = await referenceServer();
      const out = join(dir, 'wrong-key');
      const result = await govctl(['load', '--duration', '2s', '--out', out], {
        GOVCTL_URL: server.url,
        GOVCTL_ADMIN_KEY: '00000000-0000-4000-8000-000000000000.not-the-key-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      });
      expect(result.exitCode, result.stderr).toBe(4);
      expect(result.stderr).toMatch(/GOVCTL_ADMIN_KEY|--api-key/);
      expect(await runsIn(out)).toEqual([]);
    });

    it('no admin key and no --api-key against a configured server exits 2 with what to pass', async () => {
      const server = await referenceServer();
      const result = await govctl(['load', '--duration', '2s', '--out', join(dir, 'no-key')], { GOVCTL_URL: server.url });
      expect(result.exitCode, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/--api-key|GOVCTL_API_KEYS/);
    });
  });
});
