import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { measureBootstrap, stderrTail } from '../../src/release/bootstrap.js';

/**
 * A real measurement packs this project and compiles better-sqlite3: minutes. `npm test` runs the
 * mechanics against a tiny package with no dependencies (its own `govctl` bin, whose behaviour
 * FAKE_MODE picks), and the real end-to-end measurement only with GOVCTL_TEST_BOOTSTRAP=1.
 */
const FAKE_BIN = `#!/usr/bin/env node
const { spawn } = require('node:child_process');
const { connect } = require('node:net');
const mode = process.env.FAKE_MODE;
if (mode === 'healthy') {
  console.log(JSON.stringify({ healthy: true, status: 'ok', args: process.argv.slice(2) }));
} else if (mode === 'fail') {
  console.log(JSON.stringify({ healthy: false, error: { code: 'GOVCTL_UNREACHABLE', message: 'the embedded server did not start: better-sqlite3 could not load' } }));
  console.error('govctl: error: the embedded server did not start');
  process.exitCode = 3;
} else {
  // Hangs, with a grandchild in its process group; tells the test both pids.
  const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const socket = connect(Number(process.env.FAKE_PORT), '127.0.0.1', () => socket.write(process.pid + ' ' + grandchild.pid + '\\n'));
  setInterval(() => {}, 1000);
}
`;

/** True while the process exists and is not a zombie. */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return false;
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

describe('measureBootstrap', () => {
  let root: string;
  let fakeProject: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'govctl-bootstrap-test-'));
    fakeProject = join(root, 'fake');
    await mkdir(fakeProject);
    await writeFile(join(fakeProject, 'package.json'), JSON.stringify({ name: 'govctl', version: '0.0.1', bin: { govctl: 'bin.js' }, files: ['bin.js'] }));
    await writeFile(join(fakeProject, 'bin.js'), FAKE_BIN, { mode: 0o755 });
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  const workDir = async (): Promise<string> => mkdtemp(join(root, 'work-'));

  it('fails at npm pack, with its reason, when the project is not an npm package; leaves nothing behind', async () => {
    const project = join(root, 'not-a-package');
    await mkdir(project);
    const work = await workDir();
    const result = await measureBootstrap({ projectDir: project, workDir: work, env: process.env });
    expect(result.seconds).toBeNull();
    expect(result.reason).toMatch(/^npm pack failed \(exit \d+\): npm error/);
    expect(result.reason).toMatch(/package\.json/);
    expect(result.steps).toEqual([{ name: 'npm pack', seconds: expect.any(Number), ok: false }]);
    expect(await readdir(work)).toEqual([]);
  });

  it('packs, installs into a fresh directory and runs the installed bin: three timed steps', async () => {
    const events: string[] = [];
    const result = await measureBootstrap({ projectDir: fakeProject, workDir: await workDir(), env: { ...process.env, FAKE_MODE: 'healthy' }, onEvent: (e) => events.push(e.message) });
    expect(result.reason).toBeUndefined();
    expect(result.seconds).toBeGreaterThan(0);
    expect(result.steps.map((s) => [s.name, s.ok])).toEqual([
      ['npm pack', true],
      ['npm install', true],
      ['first run', true],
    ]);
    expect(result.seconds!).toBeGreaterThanOrEqual(result.steps.reduce((n, s) => n + s.seconds, 0) - 0.01);
    expect(events.at(-1)).toMatch(/first run healthy; bootstrap took/);
  });

  it('fails when the first run does not answer healthy, with what it said', async () => {
    const result = await measureBootstrap({ projectDir: fakeProject, workDir: await workDir(), env: { ...process.env, FAKE_MODE: 'fail' } });
    expect(result.seconds).toBeNull();
    expect(result.reason).toBe('first run: govctl health --embedded -o json failed (exit 3): the embedded server did not start: better-sqlite3 could not load');
    expect(result.steps.at(-1)).toMatchObject({ name: 'first run', ok: false });
  });

  it('on abort, kills the running step and what it started, and removes its directory', async () => {
    // The hanging bin reports its pid and its grandchild's over TCP: an event to await, not a poll.
    const server: Server = createServer();
    const pids = new Promise<number[]>((resolvePids) => server.once('connection', (socket) => socket.once('data', (d) => resolvePids(String(d).trim().split(' ').map(Number)))));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const controller = new AbortController();
      const work = await workDir();
      const pending = measureBootstrap({
        projectDir: fakeProject,
        workDir: work,
        env: { ...process.env, FAKE_MODE: 'hang', FAKE_PORT: String(port) },
        signal: controller.signal,
      });
      const [child, grandchild] = await pids;
      expect(await alive(child!)).toBe(true);
      expect(await alive(grandchild!)).toBe(true);
      controller.abort();
      const result = await pending;
      expect(result).toMatchObject({ seconds: null, reason: 'interrupted during the first run' });
      await vi.waitFor(async () => expect((await alive(child!)) || (await alive(grandchild!))).toBe(false), { timeout: 5000 });
      expect(await readdir(work)).toEqual([]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('is bounded by its timeout', async () => {
    const result = await measureBootstrap({ projectDir: fakeProject, workDir: await workDir(), env: process.env, timeoutMs: 1 });
    expect(result.seconds).toBeNull();
    expect(result.reason).toMatch(/^npm pack timed out \(the bootstrap is bounded by 0 s\)$/);
  });

  it('masks credentials in the stderr tail it reports', () => {
    const tail = stderrTail('npm warn x\nnpm error 401 GET https://bob:hunter2@registry.example.com/pkg\nnpm error //registry/:_authToken=npm_abcdef123 Bearer abc.def\n');
    expect(tail).toBe('npm error 401 GET https://***@registry.example.com/pkg\nnpm error //registry/:_authToken=*** Bearer ***');
  });

  it('measures this project for real (set GOVCTL_TEST_BOOTSTRAP=1: packs, installs with a native build, starts the embedded server)', async (ctx) => {
    if (process.env['GOVCTL_TEST_BOOTSTRAP'] !== '1') ctx.skip('minutes long: set GOVCTL_TEST_BOOTSTRAP=1 to run it (needs the project built: npm run build)');
    const events: string[] = [];
    const result = await measureBootstrap({ projectDir: resolve('.'), workDir: await workDir(), env: process.env, onEvent: (e) => events.push(e.message) });
    console.log(`bootstrap: ${JSON.stringify(result)}`);
    expect(result.reason).toBeUndefined();
    expect(result.seconds).toBeGreaterThan(0);
    expect(result.steps.every((s) => s.ok)).toBe(true);
  }, 16 * 60_000);
});
