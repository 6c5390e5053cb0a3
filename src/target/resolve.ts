import type { ResolvedConnection } from '../config/resolve.js';
import { startEmbeddedServer } from './embedded.js';
import type { ManagedServer } from './managed-server.js';

export interface Target {
  url: string;
  adminKey?: string;
  kind: 'embedded' | 'remote';
  /** The embedded server's process (pid, sample(), restart()); absent for a remote target. */
  server?: ManagedServer;
  /** Releases the target: stops an embedded server; nothing for a remote one. */
  release(): Promise<void>;
}

export interface ResolveTargetOptions {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Called before an embedded server starts, so the cli can say so. */
  onEmbeddedStart?: () => void;
  serveArgs?: string[];
}

/** The configured server, or, when none is configured, a fresh embedded reference server. */
export async function resolveTarget(connection: ResolvedConnection, options: ResolveTargetOptions): Promise<Target> {
  if (connection.url !== undefined) {
    return {
      url: connection.url,
      ...(connection.adminKey !== undefined ? { adminKey: connection.adminKey } : {}),
      kind: 'remote',
      release: async () => {},
    };
  }
  options.onEmbeddedStart?.();
  const server = await startEmbeddedServer({
    env: options.env,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.serveArgs ? { serveArgs: options.serveArgs } : {}),
  });
  return { url: server.url, adminKey: server.adminKey, kind: 'embedded', server: server.server, release: server.stop };
}
