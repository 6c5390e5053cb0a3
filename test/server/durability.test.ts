import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, createKey } from '../helpers/http.js';
import { spawnServer, stopSpawnedServers, type SpawnedServer } from '../helpers/spawned-server.js';

/**
 * The audit-trail promise of the contract: a 200 from /v1/check is sent only after its log row is
 * durably committed. Real `govctl serve` children, real SQLite (default --sync full), real HTTP:
 * the child is killed (SIGKILL) or stopped (SIGTERM) while 32 decisions are in flight, then
 * restarted on the same data dir, and every decision a client saw must be in the usage log.
 */

const SERVE_ARGS = ['--rate-limit', '1000000/60s'];
const CONCURRENCY = 32;
const MAX_REQUESTS = 3000;
const STOP_AFTER_OK = 400;
const EXIT_WITHIN_MS = 8_000;

interface LoadResult {
  okIds: string[];
  /** Requests that got another status (503 while closing) or no answer (connection reset/refused). */
  failed: number;
  statuses: Map<number, number>;
  /** Requests in flight when `onThreshold` ran. */
  inFlightAtThreshold: number;
}

/**
 * Sends /v1/check decisions, `CONCURRENCY` at a time, at most `MAX_REQUESTS`. When `STOP_AFTER_OK`
 * have been answered 200 it calls `onThreshold` (the kill) while the rest are still in flight.
 * A worker stops at its first non-200 answer or transport error: the server is going away.
 */
async function decisionsUntilKilled(base: string, token: string, onThreshold: () => void): Promise<LoadResult> {
  const result: LoadResult = { okIds: [], failed: 0, statuses: new Map(), inFlightAtThreshold: -1 };
  // Its own connection pool, closed when the load is over (see the SIGTERM tests).
  const agent = new Agent({ connections: CONCURRENCY });
  const check = async (body: unknown): Promise<{ status: number; body: { decision_id?: string } }> => {
    const response = await request(`${base}/v1/check`, {
      method: 'POST',
      dispatcher: agent,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.body.text();
    return { status: response.statusCode, body: response.statusCode === 200 ? (JSON.parse(text) as { decision_id: string }) : {} };
  };
  let issued = 0;
  let inFlight = 0;
  let fired = false;
  const worker = async (w: number): Promise<void> => {
    while (issued < MAX_REQUESTS) {
      const n = issued++;
      const metadata = n % 3 === 0 ? { contains_personal_data: true } : n % 3 === 1 ? { is_external_model: true } : {};
      inFlight++;
      let answer;
      try {
        answer = await check({ model: `model-${w}`, operation: `op-${n}`, metadata });
      } catch {
        result.failed++;
        return;
      } finally {
        inFlight--;
      }
      result.statuses.set(answer.status, (result.statuses.get(answer.status) ?? 0) + 1);
      if (answer.status !== 200) {
        result.failed++;
        return;
      }
      result.okIds.push(answer.body.decision_id as string);
      if (!fired && result.okIds.length >= STOP_AFTER_OK) {
        fired = true;
        result.inFlightAtThreshold = inFlight;
        onThreshold();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  } finally {
    await agent.destroy();
  }
  return result;
}

/** Every usage-log id, paging through the admin API (100 a page). */
async function allLogIds(base: string, adminToken: string): Promise<{ ids: Set<string>; total: number }> {
  const ids = new Set<string>();
  let total = 0;
  for (let page = 1; ; page++) {
    const answer = await call(base, 'GET', `/api/admin/logs?page=${page}&page_size=100`, { token: adminToken });
    expect(answer.status).toBe(200);
    total = answer.body.total as number;
    for (const entry of answer.body.logs as Array<{ id: string }>) ids.add(entry.id);
    if (page >= (answer.body.total_pages as number)) break;
  }
  return { ids, total };
}

async function exitWithin(server: SpawnedServer, ms: number): Promise<Awaited<SpawnedServer['exited']> | 'still running'> {
  return Promise.race([server.exited, delay(ms).then(() => 'still running' as const)]);
}

/** Collects what a raw socket receives; `until` resolves once the text so far satisfies `done`. */
function reader(socket: Socket): { text: () => string; until: (done: (text: string) => boolean, what: string) => Promise<void> } {
  let text = '';
  const waiters = new Set<() => void>();
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    text += chunk;
    for (const w of [...waiters]) w();
  });
  socket.on('close', () => {
    for (const w of [...waiters]) w();
  });
  return {
    text: () => text,
    until: (done, what) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}; received:\n${text}`)), 10_000);
        const finish = (err?: Error) => {
          waiters.delete(check);
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        };
        const check = () => {
          if (done(text)) finish();
          else if (socket.destroyed) finish(new Error(`socket closed while waiting for ${what}; received:\n${text}`));
        };
        waiters.add(check);
        check();
      }),
  };
}

interface Prepared {
  server: SpawnedServer;
  userToken: string;
  revokedToken: string;
  keysBefore: Array<{ key_id: string; name: string; role: string; active: boolean }>;
}

/** A server with a user key, a revoked key, and two patched policies. */
async function prepare(): Promise<Prepared> {
  const server = await spawnServer({ args: SERVE_ARGS });
  const admin = server.adminToken;
  const userToken = await createKey(server.url, admin, 'load-user');
  const revokedToken = await createKey(server.url, admin, 'revoked-user');
  const revokedId = revokedToken.slice(0, revokedToken.lastIndexOf('.'));
  expect((await call(server.url, 'DELETE', `/api/admin/keys/${revokedId}`, { token: admin })).status).toBe(200);
  const patchedMax = await call(server.url, 'PATCH', '/api/admin/policies/max_risk_score', { token: admin, body: { value: { max: 80 } } });
  expect(patchedMax.status).toBe(200);
  const patchedExt = await call(server.url, 'PATCH', '/api/admin/policies/block_external_models', { token: admin, body: { enabled: false } });
  expect(patchedExt.status).toBe(200);
  const keys = await call(server.url, 'GET', '/api/admin/keys', { token: admin });
  const keysBefore = (keys.body as Array<{ key_id: string; name: string; role: string; active: boolean }>).map(
    ({ key_id, name, role, active }) => ({ key_id, name, role, active }),
  );
  return { server, userToken, revokedToken, keysBefore };
}

/** After a restart: every acknowledged decision is logged, keys and policies are as they were. */
async function expectIntactAfterRestart(prepared: Prepared, load: LoadResult): Promise<void> {
  const restarted = await spawnServer({ dataDir: prepared.server.dataDir, adminToken: prepared.server.adminToken, args: SERVE_ARGS });
  const { url } = restarted;
  const admin = prepared.server.adminToken;

  const { ids, total } = await allLogIds(url, admin);
  const missing = load.okIds.filter((id) => !ids.has(id));
  expect(missing, `${missing.length} acknowledged decisions missing from the usage log`).toEqual([]);
  expect(total).toBeGreaterThanOrEqual(load.okIds.length);
  expect(ids.size).toBe(total);

  const keys = await call(url, 'GET', '/api/admin/keys', { token: admin });
  expect(keys.status).toBe(200);
  const keysAfter = keys.body as Array<{ key_id: string; name: string; role: string; active: boolean; requests_count: number }>;
  expect(keysAfter.map(({ key_id, name, role, active }) => ({ key_id, name, role, active }))).toEqual(prepared.keysBefore);
  // Key usage counters commit in the same transaction as the rows they count.
  const user = keysAfter.find((k) => k.name === 'load-user')!;
  expect(user.requests_count).toBeGreaterThanOrEqual(load.okIds.length);

  const policies = await call(url, 'GET', '/api/admin/policies', { token: admin });
  const byKey = new Map((policies.body as Array<{ key: string; enabled: boolean; value: unknown; violations_count: number }>).map((p) => [p.key, p]));
  expect(byKey.get('max_risk_score')).toMatchObject({ enabled: true, value: { max: 80 } });
  expect(byKey.get('block_external_models')).toMatchObject({ enabled: false });
  expect(byKey.get('block_personal_data')).toMatchObject({ enabled: true });

  expect((await call(url, 'POST', '/api/evaluate', { token: prepared.userToken })).status).toBe(200);
  const revoked = await call(url, 'POST', '/api/evaluate', { token: prepared.revokedToken });
  expect(revoked.status).toBe(403);
  expect(revoked.body.detail).toBe('API key inactive');

  // The patched policies are in force: 70 < max 80, and external models no longer count.
  const personal = await call(url, 'POST', '/v1/check', {
    token: prepared.userToken,
    body: { model: 'm', operation: 'after-restart', metadata: { contains_personal_data: true, is_external_model: true } },
  });
  expect(personal.status).toBe(200);
  expect(personal.body).toMatchObject({ allowed: true, risk_score: 70, reason: 'contains_personal_data' });

  expect(await restarted.stop('SIGTERM')).toEqual({ exitCode: 0, signal: undefined });
}

describe('govctl serve: durability of the audit trail (child process, --sync full)', () => {
  beforeAll(() => {
    const built = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
    if (!existsSync(built)) throw new Error('dist/ is missing: run `npm run build` before these tests');
  });
  afterEach(stopSpawnedServers);
  afterAll(stopSpawnedServers);

  it('keeps every acknowledged decision, keys and policies across a SIGKILL mid-stream', async () => {
    const prepared = await prepare();
    const { server } = prepared;
    const load = await decisionsUntilKilled(server.url, prepared.userToken, () => server.kill('SIGKILL'));
    expect(await server.exited).toMatchObject({ signal: 'SIGKILL' });

    // The kill landed mid-stream: requests were in flight, and some never got an answer.
    expect(load.inFlightAtThreshold).toBeGreaterThan(0);
    expect(load.okIds.length).toBeGreaterThanOrEqual(STOP_AFTER_OK);
    expect(load.failed).toBeGreaterThan(0);
    expect(new Set(load.okIds).size).toBe(load.okIds.length);

    await expectIntactAfterRestart(prepared, load);
  }, 20_000);

  it('stops gracefully on SIGTERM under load: exit 0, every acknowledged decision logged', async () => {
    const prepared = await prepare();
    const { server } = prepared;
    // The load's connections are closed once it is over; keep-alive connections a client keeps
    // open after the signal are the next test's subject.
    const load = await decisionsUntilKilled(server.url, prepared.userToken, () => server.kill('SIGTERM'));
    const exit = await exitWithin(server, EXIT_WITHIN_MS);
    expect(exit, `govctl serve did not exit within ${EXIT_WITHIN_MS} ms of SIGTERM; stderr:\n${server.stderr()}`).toEqual({
      exitCode: 0,
      signal: undefined,
    });

    expect(load.inFlightAtThreshold).toBeGreaterThan(0);
    expect(load.okIds.length).toBeGreaterThanOrEqual(STOP_AFTER_OK);
    // Whatever was refused while closing was refused cleanly: 503, never a 5xx of another kind.
    for (const status of load.statuses.keys()) expect([200, 503]).toContain(status);

    await expectIntactAfterRestart(prepared, load);
  }, 25_000);

  it('on SIGTERM answers the request in flight, and its keep-alive connection does not hold the exit open', async () => {
    const prepared = await prepare();
    const { server } = prepared;
    const { hostname, port } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    await once(socket, 'connect');
    const replies = reader(socket);
    const body = JSON.stringify({ model: 'm', operation: 'in-flight-at-sigterm' });
    // "Expect: 100-continue": the interim response proves the server has taken the request in
    // before the signal; the body follows once the server is stopping.
    socket.write(
      [
        'POST /v1/check HTTP/1.1',
        `Host: ${hostname}:${port}`,
        `Authorization: Bearer ${prepared.userToken}`,
        'Content-Type: application/json',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Expect: 100-continue',
        'Connection: keep-alive',
        '',
        '',
      ].join('\r\n'),
    );
    await replies.until((text) => text.includes('100 Continue'), 'HTTP/1.1 100 Continue');
    server.kill('SIGTERM');
    await server.waitForStderr(/stopping/);
    socket.write(body);
    await replies.until((text) => /\r\n\r\n\{[^]*\}\s*$/.test(text.slice(text.indexOf('\r\n\r\n') + 4)), 'the final response');
    const final = replies.text().slice(replies.text().indexOf('\r\n\r\n') + 4);
    expect(final).toMatch(/^HTTP\/1\.1 200 /);
    const decisionId = (JSON.parse(final.slice(final.indexOf('\r\n\r\n') + 4)) as { decision_id: string }).decision_id;

    // The client keeps its connection open, as pooling clients do. The server must still exit
    // promptly instead of waiting out the keep-alive timeout (72 s in Fastify).
    const exit = await exitWithin(server, EXIT_WITHIN_MS);
    socket.destroy();
    expect
      .soft(exit, `govctl serve was still running ${EXIT_WITHIN_MS} ms after SIGTERM, held open by an idle keep-alive connection`)
      .toEqual({ exitCode: 0, signal: undefined });
    if (exit === 'still running') await server.stop('SIGKILL');

    const restarted = await spawnServer({ dataDir: server.dataDir, adminToken: server.adminToken, args: SERVE_ARGS });
    const { ids } = await allLogIds(restarted.url, server.adminToken);
    expect(ids.has(decisionId)).toBe(true);
  }, 25_000);
});
