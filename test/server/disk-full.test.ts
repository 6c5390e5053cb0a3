import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { fillFilesystem, type Ballast } from '../../src/chaos/ballast-file.js';
import { call, createKey } from '../helpers/http.js';
import { mountSmallFs, type SmallFs } from '../helpers/small-fs.js';
import { spawnServer, stopSpawnedServers, type SpawnedServer } from '../helpers/spawned-server.js';

/**
 * The reference server on a really full disk: its data dir on a 24 MiB tmpfs, filled to ENOSPC
 * by a ballast file. It must keep answering /health (503) and reads, refuse decisions with 503 +
 * Retry-After (never a 200 whose row was not stored), not crash, not corrupt the database, and
 * come back by itself once the ballast is gone. A real `govctl serve` child (dist/), --sync full.
 */

const CHECK = { model: 'gpt-4', operation: 'chat' };
/** Bounds on how many requests a phase may send while waiting for the server to get there. */
const MAX_TRIES = 400;

let small: SmallFs | undefined;
let ballast: Ballast | undefined;
let srv: SpawnedServer | undefined;

afterEach(async () => {
  await ballast?.remove();
  ballast = undefined;
  await stopSpawnedServers();
  srv = undefined;
  await small?.unmount();
  small = undefined;
});

describe('govctl serve on a full disk', () => {
  it('refuses decisions with 503 + Retry-After, keeps health and reads answering, loses nothing, recovers', async (ctx) => {
    const mounted = await mountSmallFs({ sizeMiB: 24 });
    if (!mounted.fs) {
      console.warn(`skipped: ${mounted.reason}`);
      ctx.skip(mounted.reason);
      return;
    }
    small = mounted.fs;
    const dataDir = join(small.dir, 'data');
    srv = await spawnServer({ dataDir, args: ['--rate-limit', '1000000/60s', '--sync', 'full'] });
    const base = srv.url;
    const user = await createKey(base, srv.adminToken, 'disk-full');
    const acknowledged: string[] = [];
    const decide = async () => {
      const answer = await call(base, 'POST', '/v1/check', { token: user, body: CHECK });
      if (answer.status === 200) acknowledged.push(answer.body.decision_id as string);
      return answer;
    };
    for (let i = 0; i < 20; i++) expect((await decide()).status).toBe(200);

    ballast = await fillFilesystem(small.dir, { maxBytes: small.sizeBytes, keepFreeBytes: 0, createdFs: true });
    expect(ballast.reachedEnospc).toBe(true);

    // Whatever slack the WAL file still had is used up within a few commits; then every
    // decision is refused, and each refusal is a 503 with Retry-After.
    const refusals: Array<{ status: number; retryAfter: unknown; code: unknown }> = [];
    for (let i = 0; i < MAX_TRIES && refusals.length < 10; i++) {
      const answer = await decide();
      if (answer.status !== 200) refusals.push({ status: answer.status, retryAfter: answer.headers['retry-after'], code: answer.body.code });
    }
    expect(refusals.length).toBe(10);
    for (const r of refusals) {
      expect(r.status).toBe(503);
      expect(r.code).toBe('audit_log_unavailable');
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }

    // Health answers, degraded; reads answer from the database as usual.
    let health = await call(base, 'GET', '/health');
    for (let i = 0; i < MAX_TRIES && health.status === 200; i++) {
      await delay(50);
      health = await call(base, 'GET', '/health');
    }
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'degraded' });
    expect((await call(base, 'GET', '/api/admin/keys', { token: srv.adminToken })).status).toBe(200);
    expect((await call(base, 'GET', '/api/admin/policies', { token: srv.adminToken })).status).toBe(200);
    expect((await call(base, 'GET', '/api/admin/logs?page_size=5', { token: srv.adminToken })).status).toBe(200);
    // Admin writes are refused the same way: 503 + Retry-After and nothing changed, never a 500.
    // A small write can still fit where a batch of decisions does not (a checkpoint freed a few
    // WAL pages): then it must really be stored, so each answer is checked against the state.
    const admin = { token: srv.adminToken };
    const outcomes: Record<string, number> = {};
    for (const [method, path, body] of [
      ['POST', '/api/admin/keys', { name: 'while-full', role: 'user' }],
      ['PATCH', '/api/admin/policies/max_risk_score', { value: { max: 55 } }],
      ['POST', '/api/admin/audit/backup', undefined],
    ] as const) {
      const answer = await call(base, method, path, { ...admin, ...(body ? { body } : {}) });
      outcomes[`${method} ${path}`] = answer.status;
      if (answer.status === 503) {
        expect(answer.body.code).toBe('storage_full');
        expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      } else {
        expect([200, 201], `${method} ${path}: ${answer.text}`).toContain(answer.status);
      }
    }
    expect(Object.values(outcomes)).toContain(503);
    const keys = await call(base, 'GET', '/api/admin/keys', admin);
    expect(keys.body.map((k: { name: string }) => k.name).includes('while-full')).toBe(outcomes['POST /api/admin/keys'] === 201);
    expect(srv.server.running).toBe(true);

    // Space comes back: the server recovers by itself (no restart), health first or decisions.
    await ballast.remove();
    ballast = undefined;
    let recovered = await decide();
    for (let i = 0; i < MAX_TRIES && recovered.status !== 200; i++) {
      await delay(50);
      recovered = await decide();
    }
    expect(recovered.status, recovered.text).toBe(200);
    for (let i = 0; i < 10; i++) expect((await decide()).status).toBe(200);
    let healthy = await call(base, 'GET', '/health');
    for (let i = 0; i < MAX_TRIES && healthy.status !== 200; i++) {
      await delay(50);
      healthy = await call(base, 'GET', '/health');
    }
    expect(healthy.status).toBe(200);
    // Admin writes work again too, and a refused policy change had changed nothing.
    expect((await call(base, 'POST', '/api/admin/keys', { ...admin, body: { name: 'after-full', role: 'user' } })).status).toBe(201);
    const policies = await call(base, 'GET', '/api/admin/policies', admin);
    const maxRisk = (policies.body as Array<{ key: string; value: unknown }>).find((p) => p.key === 'max_risk_score');
    expect(maxRisk).toBeDefined();
    if (outcomes['PATCH /api/admin/policies/max_risk_score'] === 503) expect(maxRisk!.value).not.toEqual({ max: 55 });
    else expect(maxRisk!.value).toEqual({ max: 55 });
    expect((await call(base, 'PATCH', '/api/admin/policies/max_risk_score', { ...admin, body: { value: { max: 55 } } })).status).toBe(200);
    expect(srv.pid).toBe(srv.server.pid);
    // Refusals are logged once per change of state, not once per request (a flood on a full disk).
    expect(srv.stderr()).toMatch(/audit log commit failed/);
    expect(srv.stderr()).not.toMatch(/"msg":"request failed"[^\n]*audit_log_unavailable|audit_log_unavailable[^\n]*"msg":"request failed"/);

    // Stopped cleanly, the database is intact and holds every decision that was answered 200.
    expect((await srv.stop('SIGTERM')).exitCode).toBe(0);
    const db = new Database(join(dataDir, 'govctl.db'), { readonly: true, fileMustExist: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const stored = new Set((db.prepare('SELECT id FROM usage_logs').all() as Array<{ id: string }>).map((r) => r.id));
      const lost = acknowledged.filter((id) => !stored.has(id));
      expect(lost).toEqual([]);
    } finally {
      db.close();
    }
  });
});
