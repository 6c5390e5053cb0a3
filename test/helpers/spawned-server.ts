import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { newApiToken } from '../../src/core/api-token.js';
import { GOVCTL } from './cli.js';

/**
 * `govctl serve` as a real child process (it runs the built dist/: `npm run build` first), for
 * tests where the crash or the signal is the point. Every child started here is tracked; call
 * `stopSpawnedServers()` in afterEach/afterAll so none outlives its test, even a failing one.
 */
export interface SpawnOptions {
  /** Reuse a data dir (a restart); by default a fresh temp dir, removed by `stopSpawnedServers`. */
  dataDir?: string;
  /** The bootstrap admin token (GOVCTL_BOOTSTRAP_ADMIN_KEY); by default a fresh one. */
  adminToken?: string;
  /** Extra `govctl serve` flags, e.g. ['--rate-limit', '1000000/60s', '--sync', 'normal']. */
  args?: string[];
  /** How long to wait for the listening line. */
  startTimeoutMs?: number;
}

export interface Exit {
  exitCode: number | undefined;
  signal: string | undefined;
}

export interface SpawnedServer {
  url: string;
  pid: number;
  dataDir: string;
  adminToken: string;
  /** Resolves when the child has exited, however it ended. */
  exited: Promise<Exit>;
  /** Everything the child wrote to stderr so far (bounded). */
  stderr(): string;
  /** Resolves once stderr matches `pattern`; rejects after `timeoutMs` or when the child exits first. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends a signal; false when the child is already gone. */
  kill(signal: NodeJS.Signals): boolean;
  /** Sends `signal` and waits for the exit; SIGKILLs when it takes longer than `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

interface Tracked {
  child: ResultPromise;
  exited: Promise<Exit>;
}

const running = new Set<Tracked>();
const ownedDirs = new Set<string>();

// Last resort if the test process itself goes away: no orphaned servers.
process.once('exit', () => {
  for (const t of running) {
    try {
      t.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

const STDERR_LIMIT = 64 * 1024;

export async function spawnServer(options: SpawnOptions = {}): Promise<SpawnedServer> {
  let dataDir = options.dataDir;
  if (dataDir === undefined) {
    dataDir = await mkdtemp(join(tmpdir(), 'govctl-spawned-'));
    ownedDirs.add(dataDir);
  }
  const adminToken = options.adminToken ?? newApiToken().token;
  const child = execa(
    process.execPath,
    [GOVCTL, 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '-o', 'json', '--log-level', 'warn', ...(options.args ?? [])],
    {
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '/tmp',
        NO_COLOR: '1',
        GOVCTL_BOOTSTRAP_ADMIN_KEY: adminToken,
      },
      extendEnv: false,
      stdin: 'ignore',
      buffer: false,
      reject: false,
      forceKillAfterDelay: false,
      cleanup: true,
    },
  );
  const exited: Promise<Exit> = child.then(
    (result) => ({ exitCode: result.exitCode, signal: result.signal }),
    (err: { exitCode?: number; signal?: string }) => ({ exitCode: err.exitCode, signal: err.signal }),
  );
  const tracked: Tracked = { child, exited };
  running.add(tracked);
  void exited.then(() => running.delete(tracked));

  let stderr = '';
  const stderrWaiters = new Set<() => void>();
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += chunk;
    for (const check of [...stderrWaiters]) check();
  });

  const listening = await new Promise<{ url: string; pid: number; data_dir: string }>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`govctl serve did not report listening within ${options.startTimeoutMs ?? 15_000} ms; stderr:\n${stderr}`));
    }, options.startTimeoutMs ?? 15_000);
    const onData = (chunk: string) => {
      buffered += chunk;
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      try {
        resolve(JSON.parse(buffered.slice(0, newline)) as { url: string; pid: number; data_dir: string });
      } catch {
        child.kill('SIGKILL');
        reject(new Error(`govctl serve printed an unexpected first line: ${buffered.slice(0, newline)}`));
      }
    };
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', onData);
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`govctl serve exited before listening (code ${exit.exitCode}, signal ${exit.signal}); stderr:\n${stderr}`));
    });
  });
  // Keep draining stdout so the child never blocks on a full pipe.
  child.stdout!.resume();

  const kill = (signal: NodeJS.Signals): boolean => child.kill(signal);
  return {
    url: listening.url,
    pid: listening.pid,
    dataDir,
    adminToken,
    exited,
    stderr: () => stderr,
    waitForStderr(pattern, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          stderrWaiters.delete(check);
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        };
        const check = () => {
          if (pattern.test(stderr)) done();
        };
        const timer = setTimeout(() => done(new Error(`stderr did not match ${pattern} within ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
        stderrWaiters.add(check);
        void exited.then(() => {
          check();
          if (stderrWaiters.has(check)) done(new Error(`govctl serve exited before stderr matched ${pattern}:\n${stderr}`));
        });
        check();
      });
    },
    kill,
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const first = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (first !== 'timeout') return first;
      kill('SIGKILL');
      await exited;
      throw new Error(`govctl serve did not exit within ${timeoutMs} ms of ${signal}; stderr:\n${stderr}`);
    },
  };
}

/** SIGKILLs every child still running, waits for them, and removes temp data dirs made here. */
export async function stopSpawnedServers(): Promise<void> {
  const all = [...running];
  for (const t of all) t.child.kill('SIGKILL');
  await Promise.all(all.map((t) => t.exited));
  const dirs = [...ownedDirs];
  ownedDirs.clear();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
}
