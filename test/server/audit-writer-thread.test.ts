import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DATABASE_FILE } from '../../src/server/store/state.js';
import { call, createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The audit trail is written by a thread of its own (defect 14: group commits and WAL checkpoints
 * on the request thread stalled every request behind them). Real server in this process, real
 * SQLite; a second connection holding the write lock stands in for a slow commit or a stuck disk.
 */

const servers: TestServer[] = [];
const locks: Database.Database[] = [];

afterEach(async () => {
  for (const db of locks.splice(0)) if (db.open) db.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(): Promise<{ s: TestServer; user: string }> {
  const s = await startTestServer({ rateLimit: { limit: 1_000_000, windowMs: 60_000 } });
  servers.push(s);
  return { s, user: await createKey(s.url, s.adminToken, 'writer-test') };
}

/** Another connection to the state database holding its write lock until released. */
function holdWriteLock(s: TestServer): { release: () => void } {
  const db = new Database(join(s.dataDir, DATABASE_FILE));
  locks.push(db);
  db.exec('BEGIN IMMEDIATE');
  return { release: () => db.exec('ROLLBACK') };
}

const decide = (s: TestServer, user: string, operation: string) =>
  call(s.url, 'POST', '/v1/check', { token: user, body: { model: 'm', operation } });

/** Resolves once the decision's row has reached the writer and waits for its commit. */
const rowPending = (s: TestServer) =>
  vi.waitFor(() => expect(s.server.state.writer.pending).toBeGreaterThan(0), { timeout: 5_000, interval: 5 });

describe('audit writer thread', () => {
  it('keeps the request thread serving while a commit waits, and answers 200 only once the row is committed', async () => {
    const { s, user } = await server();
    const lock = holdWriteLock(s);
    let answered = false;
    const decision = decide(s, user, 'waits-for-commit').finally(() => {
      answered = true;
    });
    // Before: the commit ran on the request thread and blocked it for the whole busy timeout,
    // so the row never showed as pending and nothing else was served meanwhile.
    await rowPending(s);
    // (Quick: the writer thread gives up on the lock after the 2 s busy timeout.)
    const metrics = await call(s.url, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(answered, 'the decision was answered before its row could be committed').toBe(false);

    lock.release();
    const answer = await decision;
    expect(answer.status).toBe(200);
    const logs = await call(s.url, 'GET', '/api/admin/logs?page_size=100', { token: s.adminToken });
    expect((logs.body.logs as Array<{ id: string }>).map((l) => l.id)).toContain(answer.body.decision_id);
  });

  it('refuses the decision with 503 and Retry-After when its row cannot be committed, then recovers', async () => {
    const { s, user } = await server();
    const lock = holdWriteLock(s);
    const refused = await decide(s, user, 'cannot-commit');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.body.code).toBeTypeOf('string');
    lock.release();
    const after = await decide(s, user, 'after-release');
    expect(after.status).toBe(200);
    const logs = await call(s.url, 'GET', '/api/admin/logs?page_size=100', { token: s.adminToken });
    expect(logs.body.logs.map((l: { operation: string }) => l.operation)).toEqual(['after-release']);
  });

  it('fails the decisions sent to a writer thread that dies with 503 (never 200, never a hang), and restarts it', async () => {
    const { s, user } = await server();
    const lock = holdWriteLock(s);
    const before = decide(s, user, 'before-crash');
    await rowPending(s);
    // The thread is stuck in the first commit; it exits right after it, with the second batch sent.
    const exited = s.server.state.writer.stopThread();
    const lost = decide(s, user, 'sent-to-dying-thread');
    await vi.waitFor(() => expect(s.server.state.writer.pending).toBe(2), { timeout: 5_000, interval: 5 });
    lock.release();
    expect((await before).status).toBe(200);
    const refused = await lost;
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    await exited;
    // A new thread takes the next decisions (restarts are spaced by a second).
    await vi.waitFor(async () => expect((await decide(s, user, 'after-restart')).status).toBe(200), { timeout: 10_000, interval: 200 });
    const logs = await call(s.url, 'GET', '/api/admin/logs?page_size=100', { token: s.adminToken });
    const operations = logs.body.logs.map((l: { operation: string }) => l.operation);
    expect(operations).toContain('before-crash');
    expect(operations).toContain('after-restart');
    expect(operations).not.toContain('sent-to-dying-thread');
  });

  it('leaves WAL checkpoints to the writer thread: none on the request connection, and the WAL is truncated once idle', async () => {
    const { s, user } = await server();
    expect(s.server.state.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => decide(s, user, `burst-${i}`)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const wal = join(s.dataDir, `${DATABASE_FILE}-wal`);
    // Before: only PASSIVE autocheckpoints on the request thread, and the WAL file kept its size.
    await vi.waitFor(() => expect(statSync(wal).size).toBe(0), { timeout: 10_000, interval: 50 });
    const logs = await call(s.url, 'GET', '/api/admin/logs?page_size=1', { token: s.adminToken });
    expect(logs.body.total).toBe(200);
  });

  it('admin writes on the request connection succeed while the writer thread commits (no SQLITE_BUSY_SNAPSHOT)', async () => {
    const { s, user } = await server();
    let stop = false;
    // Key usage commits from the writer thread, all the time.
    const traffic = Array.from({ length: 8 }, async () => {
      while (!stop) expect((await call(s.url, 'POST', '/api/evaluate', { token: user })).status).toBe(200);
    });
    try {
      for (let i = 0; i < 30; i++) {
        const key = await createKey(s.url, s.adminToken, `rotate-${i}`);
        await call(s.url, 'POST', '/api/evaluate', { token: key });
        const rotated = await call(s.url, 'POST', `/api/admin/keys/${key.slice(0, key.lastIndexOf('.'))}/rotate`, { token: s.adminToken });
        expect(rotated.status, rotated.text).toBe(200);
      }
    } finally {
      stop = true;
      await Promise.all(traffic);
    }
  });

  it('keeps per-key counters exact: every authenticated request counted, last_used set', async () => {
    const { s, user } = await server();
    const keyId = user.slice(0, user.lastIndexOf('.'));
    await Promise.all(Array.from({ length: 60 }, (_, i) => decide(s, user, `count-${i}`)));
    await Promise.all(Array.from({ length: 15 }, () => call(s.url, 'POST', '/api/evaluate', { token: user })));
    // /api/evaluate commits nothing of its own: its counts ride with the next batch.
    await vi.waitFor(async () => {
      const keys = await call(s.url, 'GET', '/api/admin/keys', { token: s.adminToken });
      const row = (keys.body as Array<{ key_id: string; requests_count: number; last_used: string | null }>).find((k) => k.key_id === keyId)!;
      expect(row.requests_count).toBe(75);
      expect(row.last_used).not.toBeNull();
    }, { timeout: 5_000, interval: 20 });
  });
});
