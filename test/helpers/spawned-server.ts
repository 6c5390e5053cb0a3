import { startManagedServer, stopManagedServers, type ManagedServer, type ServerExit } from '../../src/target/managed-server.js';

/**
 * `govctl serve` as a real child process (it runs the built dist/: `npm run build` first), for
 * tests where the crash or the signal is the point. A thin wrapper over the managed server
 * process (src/target/managed-server.ts); call `stopSpawnedServers()` in afterEach/afterAll so
 * none outlives its test, even a failing one.
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

export type Exit = ServerExit;

export interface SpawnedServer {
  url: string;
  pid: number;
  dataDir: string;
  adminToken: string;
  /** Resolves when the child has exited, however it ended. */
  exited: Promise<Exit>;
  /** Everything the child wrote to stderr so far (the last 64 KiB). */
  stderr(): string;
  /** Resolves once stderr matches `pattern`; rejects after `timeoutMs` or when the child exits first. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends a signal; false when the child is already gone. */
  kill(signal: NodeJS.Signals): boolean;
  /** Sends `signal` and waits for the exit; SIGKILLs and throws when it takes longer than `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
  /** The managed process underneath (restart, sample, cleanup). */
  server: ManagedServer;
}

export async function spawnServer(options: SpawnOptions = {}): Promise<SpawnedServer> {
  const server = await startManagedServer({
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' },
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    ...(options.adminToken !== undefined ? { adminKey: options.adminToken } : {}),
    ...(options.args ? { serveArgs: options.args } : {}),
    startTimeoutMs: options.startTimeoutMs ?? 15_000,
  });
  return {
    url: server.url,
    pid: server.pid,
    dataDir: server.dataDir!,
    adminToken: server.adminKey!,
    exited: server.exited,
    stderr: () => server.stderr(),
    waitForStderr: (pattern, timeoutMs) => server.waitForStderr(pattern, timeoutMs),
    kill: (signal) => server.kill(signal),
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      const { forced, ...exit } = await server.stop(signal, timeoutMs);
      if (forced) throw new Error(`govctl serve did not exit within ${timeoutMs} ms of ${signal}; stderr:\n${server.stderr()}`);
      return exit;
    },
    server,
  };
}

/** SIGKILLs every server still running, waits for them, and removes the temp data dirs they made. */
export async function stopSpawnedServers(): Promise<void> {
  await stopManagedServers('SIGKILL');
}
