import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** The file whose lock says "a server runs on this data dir". */
export const LOCK_FILE = 'serve.lock';

/** Another process (a running server) holds the data dir. */
export class DataDirInUseError extends Error {}

export interface DataDirLock {
  release(): void;
}

/**
 * Takes the data dir for this server alone, or throws DataDirInUseError. Two servers on one
 * data dir would each trust caches that only hold while it is the only writer: a key revoked
 * through one would still be accepted by the other.
 *
 * The lock is a small SQLite database of its own in exclusive locking mode (SQLite's file locks,
 * between processes and between connections of one process). The system drops it when the
 * process ends however it ends, SIGKILL included, so there is never a stale lock to clean up.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE);
  closeSync(openSync(path, 'a', 0o600));
  const db = new Database(path);
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    // The first transaction takes the lock, and exclusive mode keeps it until close.
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
      throw new DataDirInUseError(`the data dir ${dataDir} is in use by a running server`);
    }
    throw err;
  }
  return {
    release() {
      if (db.open) db.close();
    },
  };
}
