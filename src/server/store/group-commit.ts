import type { Db } from './database.js';
import type { KeyStore } from './keys.js';
import type { PolicyStore } from './policies.js';
import type { UsageLogRow, UsageLogStore } from './usage-log.js';

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface GroupCommitOptions {
  /** Rows at which a batch is committed at once instead of at the end of the event-loop turn. */
  maxBatch?: number;
  /** Called after each successful commit with the number of log rows it wrote. */
  onCommit?: (rows: number) => void;
}

/**
 * Group commit for the audit trail. Decisions taken in one turn of the event loop are written in
 * one transaction (one WAL fsync), and each request's promise resolves only after the commit
 * that holds its row: a 200 is never sent for a decision that is not durable. Key usage counters
 * and policy violation counts ride along in the same transaction.
 */
export class GroupCommitWriter {
  private rows: UsageLogRow[] = [];
  private waiters: Waiter[] = [];
  private keyUsage = new Map<string, { requests: number; lastUsed: string }>();
  private violations = new Map<string, number>();
  private scheduled = false;
  private lastError: Error | undefined;
  private readonly maxBatch: number;
  private readonly commit: () => void;

  constructor(
    db: Db,
    private readonly logs: UsageLogStore,
    private readonly keys: KeyStore,
    private readonly policies: PolicyStore,
    private readonly options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 2000;
    this.commit = db.transaction(() => {
      for (const row of this.rows) this.logs.append(row);
      for (const [keyId, usage] of this.keyUsage) this.keys.recordUsage(keyId, usage.requests, usage.lastUsed);
      for (const [policy, count] of this.violations) this.policies.recordViolations(policy, count);
    });
  }

  /** Rows waiting for their commit. */
  get pending(): number {
    return this.rows.length;
  }

  /** The error of the last failed commit, cleared by the next successful one. */
  get failure(): Error | undefined {
    return this.lastError;
  }

  /** Queues a decision's log row; resolves once it is committed. */
  append(row: UsageLogRow, violated: readonly string[]): Promise<void> {
    for (const policy of violated) this.violations.set(policy, (this.violations.get(policy) ?? 0) + 1);
    return new Promise<void>((resolve, reject) => {
      this.rows.push(row);
      this.waiters.push({ resolve, reject });
      if (this.rows.length >= this.maxBatch) this.flush();
      else this.schedule();
    });
  }

  /** Counts an authenticated request against its key (written with the next commit). */
  recordKeyUse(keyId: string, at: string): void {
    const usage = this.keyUsage.get(keyId);
    if (usage) {
      usage.requests += 1;
      usage.lastUsed = at;
    } else {
      this.keyUsage.set(keyId, { requests: 1, lastUsed: at });
    }
    this.schedule();
  }

  /** Commits everything queued now, synchronously. Throws if the commit fails. */
  flush(): void {
    this.scheduled = false;
    if (this.rows.length === 0 && this.keyUsage.size === 0 && this.violations.size === 0) return;
    const waiters = this.waiters;
    const written = this.rows.length;
    try {
      this.commit();
    } catch (err) {
      this.lastError = err instanceof Error ? err : new Error(String(err));
      this.reset();
      for (const w of waiters) w.reject(this.lastError);
      throw this.lastError;
    }
    this.lastError = undefined;
    this.reset();
    this.options.onCommit?.(written);
    for (const w of waiters) w.resolve();
  }

  private reset(): void {
    this.rows = [];
    this.waiters = [];
    this.keyUsage = new Map();
    this.violations = new Map();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      try {
        this.flush();
      } catch {
        // Waiters were rejected with the error; health reports it through `failure`.
      }
    });
  }
}
