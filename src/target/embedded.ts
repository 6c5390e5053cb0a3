import { startManagedServer, type ManagedServer } from './managed-server.js';

export { GOVCTL_BIN } from './managed-server.js';

export interface EmbeddedServer {
  url: string;
  /** The admin key the server was bootstrapped with (never printed). */
  adminKey: string;
  pid: number;
  dataDir: string;
  /** The managed process underneath, for callers that sample or restart it. */
  server: ManagedServer;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period) and removes its data. */
  stop(): Promise<void>;
}

export interface EmbeddedServerOptions {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Extra `govctl serve` flags, e.g. ['--rate-limit', '100000/1s']. */
  serveArgs?: string[];
  startTimeoutMs?: number;
}

/**
 * Starts the reference server as a child process (`govctl serve`) on a free loopback port with a
 * temporary data dir and a fresh admin key. The child also exits when our end of its stdin
 * closes, so it cannot outlive a parent that was killed.
 */
export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const server = await startManagedServer({
    env: options.env,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.serveArgs ? { serveArgs: options.serveArgs } : {}),
    ...(options.startTimeoutMs !== undefined ? { startTimeoutMs: options.startTimeoutMs } : {}),
  });
  return {
    url: server.url,
    adminKey: server.adminKey!,
    pid: server.pid,
    dataDir: server.dataDir!,
    server,
    stop: async () => {
      await server.dispose('SIGTERM', 5_000);
    },
  };
}
