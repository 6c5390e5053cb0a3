import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { BUSY_TIMEOUT_MS, openDatabase, type Db, type SyncMode } from './database.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { GroupCommitWriter, type GroupCommitOptions } from './group-commit.js';
import { KeyStore } from './keys.js';
import { PolicyStore } from './policies.js';
import { UsageLogStore } from './usage-log.js';

export const DATABASE_FILE = 'govctl.db';

/**
 * How long a commit of decisions that failed for lack of space keeps /health degraded after the
 * last such failure, however the probe's own small write fares; a successful commit of
 * decisions ends it at once.
 */
export const FULL_DEGRADES_HEALTH_MS = 5000;

/** The server's whole persistent state: one SQLite database and the stores over it. */
export class ServerState {
  readonly db: Db;
  readonly keys: KeyStore;
  readonly policies: PolicyStore;
  readonly logs: UsageLogStore;
  readonly writer: GroupCommitWriter;
  private readonly lock: DataDirLock;

  /** Throws DataDirInUseError when another server has the data dir. */
  constructor(readonly dataDir: string, sync: SyncMode, writerOptions: GroupCommitOptions = {}) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.lock = lockDataDir(dataDir);
    let db: Db | undefined;
    try {
      const path = join(dataDir, DATABASE_FILE);
      restrictDatabaseFiles(path);
      this.db = db = openDatabase(path, sync);
      this.keys = new KeyStore(this.db);
      this.policies = new PolicyStore(this.db);
      this.logs = new UsageLogStore(this.db);
      // The audit writer thread has its own connection; commits and checkpoints run there.
      this.writer = new GroupCommitWriter(path, sync, {
        busyTimeoutMs: BUSY_TIMEOUT_MS,
        ...writerOptions,
      });
    } catch (err) {
      if (db?.open) db.close();
      this.lock.release();
      throw err;
    }
  }

  /**
   * One small real write, committed like a decision's (WAL append, fsync under --sync full):
   * what /health means by "can be written". Rejects when it cannot be. Rate-limited by its
   * caller (health-probe.ts).
   */
  probeWrite(): Promise<void> {
    if (!this.db.open) return Promise.reject(new Error('the database is closed'));
    // Made by the audit writer thread, on the connection that commits decisions: under load it
    // holds the write lock, so a probe on this connection would fail (or block the event loop).
    return this.writer.probe().then(() => {
      // The probe fitted, but decisions did not (a full disk): not writable for what matters.
      const full = this.writer.recentlyFull(FULL_DEGRADES_HEALTH_MS);
      if (full) throw full;
    });
  }

  /** Drops every cache after a restore replaced the tables underneath. */
  reloadAfterRestore(): void {
    this.keys.reload();
    this.policies.invalidate();
  }

  close(): void {
    try {
      this.writer.close();
    } finally {
      try {
        this.db.close();
      } finally {
        this.lock.release();
      }
    }
  }
}

/**
 * The database holds key hashes and the audit trail: owner-only. SQLite creates the -wal and
 * -shm files with the database file's mode, so creating it 0600 first covers them too; files a
 * previous version created with a wider mode are narrowed.
 */
function restrictDatabaseFiles(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      chmodSync(`${path}${suffix}`, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
