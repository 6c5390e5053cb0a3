import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthProbe } from '../../src/server/health-probe.js';
import { DATABASE_FILE } from '../../src/server/store/state.js';
import { expectError } from '../helpers/contract.js';
import { call, createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * /health reflects whether the database can be written now (a real probe write), so a node that
 * failed a commit comes back by itself, with no decision traffic; and a flood of /health costs
 * at most one write per probe interval.
 */

let srv: TestServer | undefined;
let blocker: Database.Database | undefined;

afterEach(async () => {
  if (blocker?.inTransaction) blocker.exec('ROLLBACK');
  blocker?.close();
  blocker = undefined;
  await srv?.close();
  srv = undefined;
});

/** The probe's write counter, read through a connection of its own. */
function probeWrites(dataDir: string): number {
  const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT writes FROM health_probe').get() as { writes: number }).writes;
  } finally {
    db.close();
  }
}

describe('/health after a failed commit', () => {
  it('turns 503 while the database cannot be written and back to 200 by itself, with no decision traffic', async () => {
    srv = await startTestServer({ healthProbeMaxAgeMs: 0 });
    const user = await createKey(srv.url, srv.adminToken, 'user');
    expect((await call(srv.url, 'GET', '/health')).status).toBe(200);

    // Another connection holds the write lock longer than the server's busy timeout: a real
    // SQLITE_BUSY for the commit.
    blocker = new Database(join(srv.dataDir, DATABASE_FILE));
    blocker.exec('BEGIN IMMEDIATE');
    const refused = await call(srv.url, 'POST', '/v1/check', { token: user, body: { model: 'm', operation: 'o' } });
    expectError(refused, 503);
    expect(refused.body.code).toBe('audit_log_unavailable');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    const degraded = await call(srv.url, 'GET', '/health');
    expect(degraded.status).toBe(503);
    expect(degraded.body).toMatchObject({ status: 'degraded' });
    expect((await call(srv.url, 'GET', '/health/detailed')).body).toMatchObject({ components: { database: 'error' } });

    // The lock goes away; no decision is sent, only /health.
    blocker.exec('ROLLBACK');
    const healthy = await call(srv.url, 'GET', '/health');
    expect(healthy.status, healthy.text).toBe(200);
    expect(healthy.body).toMatchObject({ status: 'ok' });
    expect((await call(srv.url, 'GET', '/health/detailed')).status).toBe(200);
    expect((await call(srv.url, 'POST', '/v1/check', { token: user, body: { model: 'm', operation: 'o' } })).status).toBe(200);
  });

  it('the probe is a real committed write', async () => {
    srv = await startTestServer({ healthProbeMaxAgeMs: 0 });
    const before = probeWrites(srv.dataDir);
    for (let i = 0; i < 3; i++) expect((await call(srv.url, 'GET', '/health')).status).toBe(200);
    expect(probeWrites(srv.dataDir)).toBe(before + 3);
  });
});

describe('/health under a flood', () => {
  it('200 concurrent /health requests share one probe write', async () => {
    srv = await startTestServer({ healthProbeMaxAgeMs: 60_000 });
    const base = srv.url;
    const before = probeWrites(srv.dataDir);
    const answers = await Promise.all(Array.from({ length: 200 }, () => call(base, 'GET', '/health')));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(probeWrites(srv.dataDir)).toBe(before + 1);
  });
});

describe('HealthProbe', () => {
  it('reuses a result for maxAgeMs, shares one probe among concurrent callers, then probes again', async () => {
    let now = 0;
    let writes = 0;
    let failing = false;
    const probe = new HealthProbe(
      {
        probeWrite: async () => {
          writes++;
          if (failing) throw new Error('disk full');
        },
      },
      { maxAgeMs: 1000, now: () => now },
    );
    const first = await Promise.all([probe.check(), probe.check(), probe.check()]);
    expect(first.map((r) => r.writable)).toEqual([true, true, true]);
    expect(writes).toBe(1);
    failing = true;
    now = 999;
    expect((await probe.check()).writable).toBe(true);
    expect(writes).toBe(1);
    now = 1000;
    const failed = await probe.check();
    expect(failed).toMatchObject({ writable: false });
    expect(failed.error?.message).toBe('disk full');
    expect(writes).toBe(2);
    failing = false;
    now = 2000;
    expect((await probe.check()).writable).toBe(true);
    expect(writes).toBe(3);
  });
});
