import Database from 'better-sqlite3';
import { MIGRATIONS } from './schema.js';

export type Db = Database.Database;

export type SyncMode = 'full' | 'normal';

/** How long a write waits for a lock another process holds (only this process should write). */
export const BUSY_TIMEOUT_MS = 2000;

/**
 * Opens (creating if needed) a state database in WAL mode and brings its schema up to date.
 * synchronous=FULL fsyncs the WAL at every commit, so a committed decision survives a power
 * loss, not only a process kill; the group-commit writer makes that one fsync per batch.
 */
export function openDatabase(path: string, sync: SyncMode = 'full'): Db {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Checkpoints run on the audit writer thread (group-commit.ts), never on the request thread.
    db.pragma('wal_autocheckpoint = 0');
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

export class SchemaTooNewError extends Error {
  constructor(found: number) {
    super(`database schema version ${found} is newer than this govctl understands (${MIGRATIONS.length})`);
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export function migrate(db: Db): void {
  const current = schemaVersion(db);
  if (current > MIGRATIONS.length) throw new SchemaTooNewError(current);
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
