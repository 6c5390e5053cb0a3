import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './store/database.js';
import { DataDirInUseError } from './store/data-dir-lock.js';
import { KeyStore } from './store/keys.js';
import { DATABASE_FILE } from './store/state.js';

/** The data dir holds no server state (a typo in --data-dir should not create one). */
export class NoServerStateError extends Error {}

export { DataDirInUseError };

export interface ResetAdminKeyOptions {
  /** Also deactivate every other active admin key (a lost key may be in someone else's hands). */
  revokeExisting?: boolean;
}

export interface ResetAdminKeyResult {
  keyId: string;
  /** The new admin token: shown once, never stored. */
  token: string;
  /** Key ids of the admin keys deactivated (with revokeExisting). */
  revoked: string[];
}

/**
 * Offline recovery of a lost admin key, as Grafana's reset-admin-password: with the server
 * stopped, adds a new admin key to the data dir's state. The database is opened in exclusive
 * locking mode; a running server holds it open, so the lock is refused and so is the reset.
 */
export function resetAdminKey(dataDir: string, options: ResetAdminKeyOptions = {}): ResetAdminKeyResult {
  const path = join(dataDir, DATABASE_FILE);
  if (!existsSync(path)) throw new NoServerStateError(`no server state in ${dataDir} (no ${DATABASE_FILE})`);
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    try {
      // The first transaction takes the lock, and exclusive mode keeps it until close.
      db.exec('BEGIN EXCLUSIVE; COMMIT');
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
        throw new DataDirInUseError(`the data dir ${dataDir} is in use by a running server: stop it first`);
      }
      throw err;
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    const keys = new KeyStore(db);
    return db.transaction(() => {
      const revoked: string[] = [];
      if (options.revokeExisting) {
        for (const key of keys.activeAdmins()) {
          keys.revoke(key.key_id);
          revoked.push(key.key_id);
        }
      }
      const issued = keys.create(`admin-reset-${new Date().toISOString().slice(0, 10)}`, 'admin', 'default');
      return { keyId: issued.key.key_id, token: issued.token, revoked };
    })();
  } finally {
    db.close();
  }
}
