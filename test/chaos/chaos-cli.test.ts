import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChaosReport } from '../../src/chaos/types.js';
import { connect } from 'node:net';
import { GOVCTL, govctl } from '../helpers/cli.js';
import { startTestServer } from '../helpers/server.js';

/**
 * `govctl chaos` as a user runs it (the built dist/: `npm run build` first): exit codes, the
 * journal on disk, and the rollbacks after Ctrl-C, checked on the real processes.
 */

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'govctl-chaos-cli-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

const ENV = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' };

/** The one journal under `dir`. */
function journalIn(dir: string): ChaosReport {
  const runs = readdirSync(dir).filter((d) => existsSync(join(dir, d, 'chaos.json')));
  expect(runs).toHaveLength(1);
  expect(existsSync(join(dir, runs[0]!, 'chaos.md'))).toBe(true);
  return JSON.parse(readFileSync(join(dir, runs[0]!, 'chaos.json'), 'utf8')) as ChaosReport;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether something accepts TCP connections on host:port right now. */
function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves with the first match of `pattern` on the child's stderr. */
function stderrMatch(child: ResultPromise, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = pattern.exec(seen);
      if (match) resolve(match);
    });
    void child.then(() => reject(new Error(`exited before stderr matched ${pattern}:\n${seen}`)), reject);
  });
}

describe('govctl chaos: bad input', () => {
  it('an unknown probe exits 2 and names the probes', async () => {
    const r = await govctl(['chaos', '--probe', 'restart,flood', '--out', out], ENV);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown probe "flood".*restart, network, disk, memory/);
  });

  it('--interval 0 exits 2', async () => {
    const r = await govctl(['chaos', '--interval', '0', '--out', out], ENV);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--interval "0": must be at least 1ms/);
  });

  it('--dependency needs --server-cmd, and {proxy} where the command takes its dependency (exit 2)', async () => {
    const alone = await govctl(['chaos', '--probe', 'network', '--dependency', '127.0.0.1:5432', '--out', out], ENV);
    expect(alone.exitCode).toBe(2);
    expect(alone.stderr).toMatch(/--dependency goes with --server-cmd/);
    const unused = await govctl(['chaos', '--probe', 'network', '--server-cmd', 'server --port {port}', '--dependency', '127.0.0.1:5432', '--out', out], ENV);
    expect(unused.exitCode).toBe(2);
    expect(unused.stderr).toMatch(/needs \{proxy\}/);
    const bad = await govctl(['chaos', '--probe', 'network', '--server-cmd', 'server --port {port} --db {proxy}', '--dependency', 'nowhere', '--out', out], ENV);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/invalid --dependency "nowhere"/);
  });

  it('a server command that does not exist exits 2', async () => {
    const r = await govctl(['chaos', '--probe', 'restart', '--server-cmd', 'no-such-server-xyz --port {port}', '--out', out], ENV);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/command not found: no-such-server-xyz/);
  });

  it('a probe asked for that does not apply to the target exits 2 with the reason, before contacting it', async () => {
    const r = await govctl(['chaos', '--probe', 'restart', '--url', 'http://127.0.0.1:9', '--out', out], { ...ENV, GOVCTL_ADMIN_KEY: 'k.s' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/the restart probe does not apply: restart needs a server govctl manages/);
  });

  it('a server that never becomes healthy is a clear error', async () => {
    const r = await govctl(['chaos', '--probe', 'restart', '--server-cmd', `${process.execPath} -e "process.exit(3)" {port}`, '--out', out], ENV);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/did not become healthy/);
    expect(r.stderr).not.toMatch(/internal error/);
  });
});

describe('govctl chaos: runs', () => {
  it('restart against the embedded reference server: passes, 0 acknowledged decisions lost, journal written', async () => {
    const dir = await mkdtemp(join(out, 'restart-'));
    const r = await govctl(['chaos', '--probe', 'restart', '--healthy-samples', '3', '--budget', '30s', '--out', dir, '-o', 'json'], ENV);
    expect(r.stderr).toMatch(/chaos restart: before/);
    expect(r.exitCode, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout) as ChaosReport;
    const journal = journalIn(dir);
    expect(printed).toEqual(journal);
    expect(journal.schema).toBe('govctl.chaos/v1');
    expect(journal.run.status).toBe('passed');
    expect(journal.target?.kind).toBe('embedded');
    const [restart] = journal.data.probes;
    expect(restart).toMatchObject({ probe: 'restart', status: 'passed', records: { status: 'measured', lost: 0 }, records_lost: 0 });
    expect(restart!.records_acknowledged).toBeGreaterThan(0);
    expect(restart!.recovery_s).not.toBeNull();
  });

  it('Ctrl-C during a fault: exit 130, the partial journal marked interrupted, the ballast child and the server gone', async () => {
    const dir = await mkdtemp(join(out, 'interrupt-'));
    const child = execa(
      process.execPath,
      [GOVCTL, 'chaos', '--probe', 'memory', '--max-ballast', '32MiB', '--keep-free', '0', '--fault-duration', '60s', '--healthy-samples', '3', '--out', dir],
      { env: ENV, extendEnv: false, reject: false, stdin: 'ignore', timeout: 60_000 },
    );
    try {
      const [, serverPid] = await stderrMatch(child, /\(embedded, pid (\d+)\)/);
      const [, ballastPid] = await stderrMatch(child, /chaos memory: inject: .*pid=(\d+)/);
      expect(alive(Number(ballastPid))).toBe(true);
      child.kill('SIGINT');
      const result = await child;
      expect(result.exitCode, String(result.stderr)).toBe(130);
      const journal = journalIn(dir);
      expect(journal.run.status).toBe('interrupted');
      expect(journal.data.probes[0]).toMatchObject({ probe: 'memory', status: 'interrupted' });
      expect(journal.data.probes[0]!.reasons[0]).toMatch(/interrupted during the during phase/);
      expect(journal.data.probes[0]!.fault?.params['pid']).toBe(Number(ballastPid));
      expect(journal.data.probes[0]!.samples.length).toBeGreaterThan(0);
      expect(journal.data.probes[0]!.fault?.removed_at).not.toBeNull();
      // The rollback ended the ballast child; the temporary embedded server was stopped at exit.
      expect(alive(Number(ballastPid))).toBe(false);
      expect(alive(Number(serverPid))).toBe(false);
    } finally {
      child.kill('SIGKILL');
      await child.catch(() => undefined);
    }
  });

  it('Ctrl-C during a network fault against a server on loopback: exit 130, the proxy closed, the server still serving', async () => {
    const server = await startTestServer({ rateLimit: { limit: 1_000_000, windowMs: 1_000 } });
    const dir = await mkdtemp(join(out, 'network-'));
    const child = execa(
      process.execPath,
      [GOVCTL, 'chaos', '--probe', 'network', '--toxic', 'blackhole', '--fault-duration', '60s', '--healthy-samples', '3', '--url', server.url, '--out', dir],
      { env: { ...ENV, GOVCTL_ADMIN_KEY: server.adminToken }, extendEnv: false, reject: false, stdin: 'ignore', timeout: 60_000 },
    );
    try {
      const [, host, port] = await stderrMatch(child, /chaos network: inject: .*proxy=([\d.]+):(\d+)/);
      expect(await listening(host!, Number(port))).toBe(true);
      child.kill('SIGINT');
      const result = await child;
      expect(result.exitCode, String(result.stderr)).toBe(130);
      const journal = journalIn(dir);
      expect(journal.data.probes[0]).toMatchObject({ probe: 'network', status: 'interrupted' });
      expect(await listening(host!, Number(port))).toBe(false);
      const health = await fetch(`${server.url}/health`);
      expect(health.status).toBe(200);
    } finally {
      child.kill('SIGKILL');
      await child.catch(() => undefined);
      await server.close();
    }
  });
});
