import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BUSY_TIMEOUT_MS, openDatabase, type Db, type SyncMode } from './database.js';
import { GroupCommitWriter, type GroupCommitOptions } from './group-commit.js';
import { KeyStore } from './keys.js';
import { PolicyStore } from './policies.js';
import { UsageLogStore } from './usage-log.js';

export const DATABASE_FILE = 'govctl.db';

/** The server's whole persistent state: one SQLite database and the stores over it. */
export class ServerState {
  readonly db: Db;
  readonly keys: KeyStore;
  readonly policies: PolicyStore;
  readonly logs: UsageLogStore;
  readonly writer: GroupCommitWriter;

  constructor(readonly dataDir: string, sync: SyncMode, writerOptions: GroupCommitOptions = {}) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.db = openDatabase(join(dataDir, DATABASE_FILE), sync);
    this.keys = new KeyStore(this.db);
    this.policies = new PolicyStore(this.db);
    this.logs = new UsageLogStore(this.db);
    this.writer = new GroupCommitWriter(this.db, this.logs, this.keys, this.policies, writerOptions);
  }

  /** True when the database takes a write lock: what /health means by "can be written". */
  writable(): boolean {
    if (!this.db.open) return false;
    // Do not wait for a lock held elsewhere: a health check must answer at once.
    this.db.pragma('busy_timeout = 0');
    try {
      this.db.exec('BEGIN IMMEDIATE; ROLLBACK');
      return this.writer.failure === undefined;
    } catch {
      return false;
    } finally {
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  /** Drops every cache after a restore replaced the tables underneath. */
  reloadAfterRestore(): void {
    this.keys.reload();
    this.policies.invalidate();
  }

  close(): void {
    try {
      this.writer.flush();
    } finally {
      this.db.close();
    }
  }
}
