/**
 * The audit writer thread. It owns its own SQLite connection to the state database and does the
 * writes the request thread must not wait on synchronously: group commits of usage-log rows (with
 * key usage counters and policy violation counts in the same transaction) and WAL checkpoints.
 *
 * Batches arrive on a MessagePort; every batch queued while a commit was running is drained with
 * receiveMessageOnPort and written in one transaction (one WAL fsync). Each batch is acknowledged
 * only after COMMIT returned, and the shared counter is bumped so a synchronous flush on the
 * request thread (restore, shutdown) can wait for it with Atomics.wait.
 */
import { closeSync, openSync } from 'node:fs';
import { isMainThread, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { INSERT_USAGE_LOG, PACKED_ROW_LENGTH } from './usage-log.js';

export interface WriterBatch {
  type: 'batch';
  seq: number;
  /** Usage-log rows, packed (usage-log.ts packRow). */
  rows: Array<string | number>;
  /** key_id -> [requests, last_used] */
  keyUsage: Array<[string, number, string]>;
  /** policy key -> violations */
  violations: Array<[string, number]>;
  /** Also commit a health probe row (a real write, for /health). */
  probe: boolean;
}

export interface WriterClose {
  type: 'close';
  seq: number;
}

/** Ends the thread the way a crash would, after the batches sent before it (fault injection). */
export interface WriterExit {
  type: 'exit';
}

export type WriterRequest = WriterBatch | WriterClose | WriterExit;

export type WriterReply =
  | { type: 'ready' }
  | { type: 'done'; seqs: number[]; rows: number }
  | { type: 'failed'; seqs: number[]; message: string; code?: string }
  | { type: 'closed'; seq: number };

export interface WriterData {
  mode: 'writer';
  path: string;
  sync: 'full' | 'normal';
  busyTimeoutMs: number;
  port: MessagePort;
  /** Int32Array over a SharedArrayBuffer: [0] = highest seq answered (done, failed or closed). */
  answered: SharedArrayBuffer;
  /** A PASSIVE checkpoint runs after a commit when the last one is at least this old. */
  checkpointEveryMs: number;
  /** After this long without a commit, a TRUNCATE checkpoint resets the WAL file. */
  truncateWhenIdleMs: number;
  /**
   * The checkpointer thread's port: the checkpoints this thread decides on run there, on a
   * connection of their own, while commits go on here. Without it (or once it is gone) they run
   * here, between commits.
   */
  checkpointer?: MessagePort;
}

export interface CheckpointerData {
  mode: 'checkpointer';
  path: string;
  busyTimeoutMs: number;
  /** Requests from the writer thread: { mode: 'PASSIVE' | 'TRUNCATE' }, answered when done. */
  port: MessagePort;
  /** Any message from the request thread closes the connection and ends the thread. */
  control: MessagePort;
  /** Int32Array: [0] becomes 1 once the connection is closed (waited on with Atomics.wait). */
  closed: SharedArrayBuffer;
}

function main(data: WriterData): void {
  const { port } = data;
  const answered = new Int32Array(data.answered);
  const db = new Database(data.path, { fileMustExist: true });
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${data.sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
  // Checkpoints are ours to drive, between commits, never inside one.
  db.pragma('wal_autocheckpoint = 0');

  const insert = db.prepare(INSERT_USAGE_LOG);
  const touchKey = db.prepare<[number, string, string]>(
    "UPDATE api_keys SET requests_count = requests_count + ?, last_used = max(coalesce(last_used, ''), ?) WHERE key_id = ?",
  );
  const addViolations = db.prepare<[number, string]>('UPDATE policies SET violations_count = violations_count + ? WHERE key = ?');
  const probe = db.prepare<[string]>('UPDATE health_probe SET writes = writes + 1, at = ? WHERE id = 1');

  const commit = db.transaction((batches: WriterBatch[], probing: boolean) => {
    for (const batch of batches) {
      const r = batch.rows;
      for (let i = 0; i < r.length; i += PACKED_ROW_LENGTH) {
        insert.run(r[i], r[i + 1], r[i + 2], r[i + 3], r[i + 4], r[i + 5], r[i + 6], r[i + 7], r[i + 8], r[i + 9], r[i + 10]);
      }
      for (const [keyId, requests, lastUsed] of batch.keyUsage) touchKey.run(requests, lastUsed, keyId);
      for (const [policy, count] of batch.violations) addViolations.run(count, policy);
    }
    if (probing) probe.run(new Date().toISOString());
  });

  let lastCheckpoint = performance.now();
  let idleTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const answer = (reply: WriterReply, highestSeq: number): void => {
    port.postMessage(reply);
    Atomics.store(answered, 0, highestSeq);
    Atomics.notify(answered, 0);
  };

  let checkpointer = data.checkpointer;
  let checkpointing = false;
  checkpointer?.on('message', () => {
    checkpointing = false;
  });
  checkpointer?.on('close', () => {
    checkpointer = undefined;
    checkpointing = false;
  });
  /** On the checkpointer thread when there is one (one at a time), else here between commits. */
  const checkpoint = (mode: 'PASSIVE' | 'TRUNCATE', here = false): void => {
    lastCheckpoint = performance.now();
    if (checkpointer && !here) {
      if (!checkpointing) {
        checkpointing = true;
        checkpointer.postMessage({ mode });
      }
      return;
    }
    try {
      db.pragma(`wal_checkpoint(${mode})`);
    } catch {
      // A failed checkpoint loses nothing (the WAL keeps the frames); the next one retries.
    }
  };

  const handle = (first: WriterRequest): void => {
    if (closed) return;
    // Drain everything queued meanwhile (up to a close or exit): one transaction for all of it.
    const batches: WriterBatch[] = [];
    let last: WriterRequest = first;
    if (first.type === 'batch') {
      batches.push(first);
      for (let next = receiveMessageOnPort(port); next; next = receiveMessageOnPort(port)) {
        last = next.message as WriterRequest;
        if (last.type !== 'batch') break;
        batches.push(last);
      }
    }
    const probing = batches.some((b) => b.probe);
    const closing = last.type === 'close' ? last : undefined;
    const seqs = batches.map((b) => b.seq);
    if (seqs.length > 0) {
      const highest = Math.max(...seqs);
      try {
        commit(batches, probing);
        const rows = batches.reduce((n, b) => n + b.rows.length / PACKED_ROW_LENGTH, 0);
        answer({ type: 'done', seqs, rows }, highest);
      } catch (err) {
        const e = err as Error & { code?: string };
        answer({ type: 'failed', seqs, message: e.message, ...(typeof e.code === 'string' ? { code: e.code } : {}) }, highest);
      }
    }
    if (last.type === 'exit') {
      closed = true;
      db.close();
      process.exit(1);
    }
    if (closing) {
      closed = true;
      if (idleTimer) clearTimeout(idleTimer);
      try {
        checkpointer?.close();
        checkpoint('TRUNCATE', true);
        db.close();
      } finally {
        answer({ type: 'closed', seq: closing.seq }, closing.seq);
        port.close();
      }
      return;
    }
    // Small, frequent checkpoints between commits keep each one short; a long quiet spell resets
    // the WAL file so it does not stay at its high-water mark.
    if (performance.now() - lastCheckpoint >= data.checkpointEveryMs) checkpoint('PASSIVE');
    if (idleTimer) idleTimer.refresh();
    else {
      idleTimer = setTimeout(() => checkpoint('TRUNCATE'), data.truncateWhenIdleMs);
      idleTimer.unref();
    }
  };

  port.on('message', handle);
  port.postMessage({ type: 'ready' } satisfies WriterReply);
}

/**
 * Runs the WAL checkpoints the writer thread asks for, on a connection of its own: copying pages
 * into the database file and fsyncing it then never holds up a commit (a PASSIVE checkpoint
 * does not block writers).
 */
function runCheckpointer(data: CheckpointerData): void {
  const closed = new Int32Array(data.closed);
  const db = new Database(data.path, { fileMustExist: true });
  db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
  db.pragma('wal_autocheckpoint = 0');
  data.port.on('message', (request: { mode: 'PASSIVE' | 'TRUNCATE' }) => {
    if (!db.open) return;
    try {
      db.pragma(`wal_checkpoint(${request.mode === 'TRUNCATE' ? 'TRUNCATE' : 'PASSIVE'})`);
    } catch {
      // Busy or failed: the frames stay in the WAL and the next checkpoint takes them.
    }
    data.port.postMessage({ done: true });
  });
  data.control.on('message', () => {
    try {
      db.close();
    } finally {
      Atomics.store(closed, 0, 1);
      Atomics.notify(closed, 0);
      data.port.close();
      data.control.close();
    }
  });
}

export interface SnapshotData {
  mode: 'snapshot';
  path: string;
  target: string;
  busyTimeoutMs: number;
}

/**
 * A consistent copy of the database (VACUUM INTO reads one snapshot) taken on its own connection
 * and thread: neither the request thread nor the writer thread waits for it. (An online backup
 * API copy from the request thread's connection would restart at every commit the writer thread
 * makes, and never finish under load.)
 */
function snapshot(data: SnapshotData): void {
  // VACUUM INTO takes a missing or empty file; created here first, it is owner-only like the state.
  closeSync(openSync(data.target, 'a', 0o600));
  const db = new Database(data.path, { fileMustExist: true, readonly: true });
  try {
    db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
    db.prepare('VACUUM INTO ?').run(data.target);
  } finally {
    db.close();
  }
}

// Only ever the entry of a worker; the request thread imports nothing but types from here.
if (!isMainThread) {
  const data = workerData as WriterData | CheckpointerData | SnapshotData;
  if (data.mode === 'snapshot') snapshot(data);
  else if (data.mode === 'checkpointer') runCheckpointer(data);
  else main(data);
}
