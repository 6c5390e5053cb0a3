import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServerCommand } from '../../src/chaos/server-command.js';
import type { ManagedServer } from '../../src/target/managed-server.js';

/**
 * A governance server that acknowledges decisions before writing them: it answers /v1/check 200
 * with a decision_id at once but keeps the usage-log entry in memory, flushing to a file only
 * every `flushMs` (lying-server-child.mjs). A SIGKILL therefore loses acknowledged decisions.
 * Health, the admin keys API, policies and /api/admin/logs (from the flushed file) behave. It
 * runs as a child process through `--server-cmd`'s own path (startServerCommand, a fixed port),
 * so the restart probe can kill it and start it again on the same data dir.
 */
export const LYING_SERVER_SCRIPT = fileURLToPath(new URL('./lying-server-child.mjs', import.meta.url));

export interface LyingServer {
  url: string;
  adminKey: string;
  dataDir: string;
  /** The managed process: kill, restart (same port and data dir). */
  server: ManagedServer;
  /** Stops the process and removes the data dir. */
  close(): Promise<void>;
}

export async function startLyingServer(options: { flushMs?: number } = {}): Promise<LyingServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'govctl-lying-'));
  const adminKey = `admin.${randomBytes(16).toString('hex')}`;
  let server: ManagedServer;
  try {
    server = await startServerCommand({
      argv: [process.execPath, LYING_SERVER_SCRIPT, '--port', '{port}', '--data-dir', dataDir, '--flush-ms', String(options.flushMs ?? 3_000)],
      env: { LYING_ADMIN_KEY: adminKey },
      startTimeoutMs: 10_000,
    });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: server.url,
    adminKey,
    dataDir,
    server,
    async close() {
      await server.dispose('SIGKILL', 5_000);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
