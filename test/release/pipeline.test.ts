import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { releaseRunStatus, type ReleaseStepResult } from '../../src/release/release-report.js';
import { lastErrorLine, runChildStep, statusOfExit } from '../../src/release/steps/child.js';

/**
 * The child-step runner of release-check with a stand-in for bin/govctl.js (a real node process):
 * exit codes as step statuses, the child's own error line as the reason, Ctrl-C forwarded once and
 * the child's whole process group ended (a grandchild it leaves behind too), and the time bound.
 */

const STAND_IN = `
import { connect } from 'node:net';
import { spawn } from 'node:child_process';
const [mode, port] = process.argv.slice(2);
if (mode === 'ok') { console.log('all good'); process.exit(0); }
if (mode === 'fail') { console.error('warning: a finding'); console.error('error: the check failed'); process.exit(1); }
if (mode === 'usage') { console.error('error: invalid --profile "x"'); process.exit(2); }
// wait: a grandchild in the same process group, then report ready and wait for SIGINT.
const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
const socket = connect(Number(port), '127.0.0.1', () => socket.write('ready ' + grandchild.pid + '\\n'));
process.on('SIGINT', () => socket.end('SIGINT\\n', () => process.exit(130)));
setInterval(() => {}, 1000);
`;

let dir: string;
let script: string;
let server: Server | undefined;
const pids: number[] = [];
const sockets: Socket[] = [];

/** A loopback listener the stand-in reports to; its sockets are destroyed after each test. */
function listen(onConnection: (socket: Socket) => void = () => {}): Server {
  server = createServer((socket) => {
    sockets.push(socket);
    onConnection(socket);
  });
  return server.listen(0, '127.0.0.1');
}

/** Running: it exists and is not a zombie waiting for whoever adopted it to reap it (Linux /proc). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'govctl-pipeline-'));
  script = join(dir, 'stand-in.mjs');
  await writeFile(script, STAND_IN);
});

afterEach(async () => {
  for (const pid of pids.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const socket of sockets.splice(0)) socket.destroy();
  if (server) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

function step(mode: string, options: { args?: string[]; signal?: AbortSignal; timeoutMs?: number } = {}) {
  return runChildStep({
    node: process.execPath,
    govctlBin: script,
    args: [mode, ...(options.args ?? [])],
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '' },
    logFile: join(dir, `${mode}.log`),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
}

describe('runChildStep', () => {
  it('maps govctl exit codes to step statuses and keeps the output in the log', async () => {
    const ok = await step('ok');
    expect(ok).toMatchObject({ status: 'passed', exitCode: 0 });
    expect(ok.reason).toBeUndefined();
    expect(await readFile(join(dir, 'ok.log'), 'utf8')).toBe('all good\n');

    const failed = await step('fail');
    expect(failed).toMatchObject({ status: 'failed', exitCode: 1, reason: 'error: the check failed' });
    const usage = await step('usage');
    expect(usage).toMatchObject({ status: 'error', exitCode: 2, reason: 'error: invalid --profile "x"' });
  });

  it('forwards one SIGINT on abort, reports the step interrupted and ends what the child left running', async () => {
    let connect: (socket: Socket) => void = () => {};
    const connected = new Promise<Socket>((resolve) => (connect = resolve));
    const listener = listen((socket) => connect(socket));
    await once(listener, 'listening');
    const port = (listener.address() as { port: number }).port;
    const controller = new AbortController();
    const running = step('wait', { args: [String(port)], signal: controller.signal });
    const socket = await connected;
    socket.setEncoding('utf8');
    const closed = once(socket, 'close');
    const [ready] = (await once(socket, 'data')) as [string];
    let received = ready;
    socket.on('data', (chunk: string) => (received += chunk));
    const grandchild = Number(/ready (\d+)/.exec(ready)![1]);
    pids.push(grandchild);
    controller.abort();
    const result = await running;
    expect(result.status).toBe('interrupted');
    expect(result.exitCode).toBe(130);
    await closed;
    expect(received.match(/SIGINT/g)).toHaveLength(1);
    // The group was killed after the child exited; the orphan is reaped by init shortly after.
    for (let i = 0; i < 100 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive(grandchild)).toBe(false);
  });

  it('interrupts a child that overruns its time bound and says so', async () => {
    const listener = listen();
    await once(listener, 'listening');
    const port = (listener.address() as { port: number }).port;
    const result = await step('wait', { args: [String(port)], timeoutMs: 300 });
    expect(result.status).toBe('error');
    expect(result.timedOut).toBe(true);
    expect(result.reason).toContain('did not finish within');
  });
});

describe('step statuses', () => {
  it('statusOfExit: 0 passed, 1 failed, 130/143 interrupted, anything else an error', () => {
    expect([0, 1, 2, 3, 70, 130, 143, null].map(statusOfExit)).toEqual(['passed', 'failed', 'error', 'error', 'error', 'interrupted', 'interrupted', 'error']);
  });

  it('lastErrorLine: the error line, else a step not run, else a warning, else the last line; undefined for a missing log', async () => {
    const log = join(dir, 'x.log');
    await writeFile(log, 'progress\nwarning: slow\nerror: cannot reach 127.0.0.1:1: connection refused\nhint: start it\n');
    expect(await lastErrorLine(log)).toBe('error: cannot reach 127.0.0.1:1: connection refused');
    await writeFile(log, 'sbom: reading\nwarning: slow\nsbom: not run: no lockfile in /p\naudit incomplete\n');
    expect(await lastErrorLine(log)).toBe('sbom: not run: no lockfile in /p');
    await writeFile(log, 'progress\nwarning: only this\nreport: x.html\n');
    expect(await lastErrorLine(log)).toBe('warning: only this');
    await writeFile(log, 'STEP STATUS\n3 findings at or above high\n');
    expect(await lastErrorLine(log)).toBe('3 findings at or above high');
    expect(await lastErrorLine(join(dir, 'none.log'))).toBeUndefined();
  });

  it('releaseRunStatus: an error outranks a failure; skipped steps do not fail the run', () => {
    const s = (status: ReleaseStepResult['status']): ReleaseStepResult => ({ name: status, status, duration_ms: 1 });
    expect(releaseRunStatus([s('passed'), s('skipped')], false)).toBe('passed');
    expect(releaseRunStatus([s('passed'), s('failed')], false)).toBe('failed');
    expect(releaseRunStatus([s('failed'), s('error')], false)).toBe('error');
    expect(releaseRunStatus([s('passed')], true)).toBe('interrupted');
  });
});
