import { afterEach, describe, expect, it } from 'vitest';
import { GovernanceClient } from '../../src/client/governance-client.js';
import { auditAccounting, countLoggedDecisions } from '../../src/load/audit-accounting.js';
import { provisionKeys, type ProvisionedKeys } from '../../src/load/keys.js';
import { check } from '../helpers/contract.js';
import { startForgetfulServer, type ForgetfulServerOptions } from '../helpers/forgetful-server.js';
import { createKey } from '../helpers/http.js';
import { startFieldServer } from '../helpers/field-server.js';
import { startTestServer } from '../helpers/server.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function clientFor(url: string, adminKey?: string): GovernanceClient {
  const client = new GovernanceClient({ baseUrl: url, timeoutMs: 5_000, ...(adminKey !== undefined ? { adminKey } : {}) });
  cleanups.push(() => client.close());
  return client;
}

/** Sends `n` checks spread over the keys, a few at a time; returns how many were answered 200. */
async function sendChecks(url: string, tokens: string[], n: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i += 5) {
    const batch = Array.from({ length: Math.min(5, n - i) }, (_, j) =>
      check(url, tokens[(i + j) % tokens.length]!, { contains_personal_data: (i + j) % 4 === 0 }, 'gpt-test', `op-${i + j}`),
    );
    for (const answer of await Promise.all(batch)) if (answer.status === 200) ok++;
  }
  return ok;
}

async function forgetfulRun(options: ForgetfulServerOptions, n: number) {
  const s = await startForgetfulServer(options);
  cleanups.push(() => s.close());
  const client = clientFor(s.url, s.adminKey);
  const since = new Date();
  const keys = await provisionKeys(client, { count: 3, runId: 'audit' });
  const acknowledged = await sendChecks(s.url, keys.tokens, n);
  return { s, client, keys, since, acknowledged, until: new Date() };
}

describe('audit accounting against the reference server', () => {
  it('counts every acknowledged decision of the run by key: 0 lost, other keys not counted', async () => {
    const s = await startTestServer({ rateLimit: { limit: 10_000, windowMs: 60_000 } });
    cleanups.push(() => s.close());
    const client = clientFor(s.url, s.adminToken);
    const other = await createKey(s.url, s.adminToken, 'someone-else');
    await sendChecks(s.url, [other], 7);
    const since = new Date();
    const keys: ProvisionedKeys = await provisionKeys(client, { count: 3, runId: 'audit' });
    const N = 40;
    const acknowledged = await sendChecks(s.url, keys.tokens, N);
    await sendChecks(s.url, [other], 6);
    expect(acknowledged).toBe(N);

    const counted = await countLoggedDecisions(client, { keyIds: keys.keyIds, since, until: new Date() });
    expect(counted).toEqual({ status: 'measured', logged: N, method: 'key_filter' });
    expect(auditAccounting(acknowledged, counted)).toEqual({ status: 'measured', acknowledged: N, logged: N, lost: 0, method: 'key_filter' });
    await keys.revoke();
  });
});

describe('audit accounting against a server that acknowledges without storing', () => {
  it('reports the lost records (key filter)', async () => {
    const run = await forgetfulRun({ dropEvery: 10 }, 30);
    const counted = await countLoggedDecisions(run.client, { keyIds: run.keys.keyIds, since: run.since, until: run.until });
    expect(counted).toEqual({ status: 'measured', logged: 27, method: 'key_filter' });
    expect(auditAccounting(run.acknowledged, counted)).toMatchObject({ status: 'measured', acknowledged: 30, logged: 27, lost: 3 });
  });

  it('detects a server that ignores key_id and scans the window instead, counting only our keys', async () => {
    const run = await forgetfulRun({ dropEvery: 10, keyFilter: false }, 30);
    run.s.addForeignEntries(12);
    const counted = await countLoggedDecisions(run.client, { keyIds: run.keys.keyIds, since: run.since, until: run.until });
    expect(counted).toEqual({ status: 'measured', logged: 27, method: 'window_scan' });
    expect(auditAccounting(run.acknowledged, counted)).toMatchObject({ lost: 3, method: 'window_scan' });
  });

  it('a window scan that would read more than maxPages is not measured, with the reason', async () => {
    const run = await forgetfulRun({ dropEvery: 0, keyFilter: false }, 5);
    run.s.addForeignEntries(250);
    const counted = await countLoggedDecisions(run.client, { keyIds: run.keys.keyIds, since: run.since, until: run.until, maxPages: 2 });
    expect(counted.status).toBe('not_measured');
    expect(counted.status === 'not_measured' && counted.reason).toMatch(/more than 2 pages/);
    const all = await countLoggedDecisions(run.client, { keyIds: run.keys.keyIds, since: run.since, until: run.until, maxPages: 3 });
    expect(all).toEqual({ status: 'measured', logged: 5, method: 'window_scan' });
  });
});

describe('where the server gives no way to count: not measured, never 0', () => {
  it('no admin logs route', async () => {
    const run = await forgetfulRun({ logsRoute: false }, 5);
    const counted = await countLoggedDecisions(run.client, { keyIds: run.keys.keyIds, since: run.since, until: run.until });
    expect(counted.status).toBe('not_measured');
    expect(counted.status === 'not_measured' && counted.reason).toMatch(/offers no way to count: it has no admin logs route/);
    expect(auditAccounting(5, counted)).toEqual(counted);
  });

  it('log entries without key_id', async () => {
    const run = await forgetfulRun({ keyIdInEntries: false }, 5);
    const counted = await countLoggedDecisions(run.client, { keyIds: run.keys.keyIds, since: run.since, until: run.until });
    expect(counted.status === 'not_measured' && counted.reason).toMatch(/entries carry no key_id/);
  });

  it('no admin key, a refused admin key, a logs route that fails', async () => {
    const run = await forgetfulRun({}, 3);
    const window = { keyIds: run.keys.keyIds, since: run.since, until: run.until };
    const none = await countLoggedDecisions(clientFor(run.s.url), window);
    expect(none.status === 'not_measured' && none.reason).toMatch(/no admin key/);
    const refused = await countLoggedDecisions(clientFor(run.s.url, 'not.the-admin-key'), window);
    expect(refused.status === 'not_measured' && refused.reason).toMatch(/admin key was refused \(HTTP 401\)/);
    expect(refused.status === 'not_measured' && refused.reason).not.toContain('the-admin-key');

    const field = await startFieldServer();
    cleanups.push(() => field.close());
    const failing = await countLoggedDecisions(clientFor(field.url, field.adminKey), { ...window, keyIds: ['k1'] });
    expect(failing.status === 'not_measured' && failing.reason).toMatch(/could not be read/);
  });

  it('an aborted signal ends the count as not measured', async () => {
    const run = await forgetfulRun({}, 3);
    const controller = new AbortController();
    controller.abort();
    const counted = await countLoggedDecisions(run.client, { keyIds: run.keys.keyIds, since: run.since, until: run.until, signal: controller.signal });
    expect(counted).toEqual({ status: 'not_measured', reason: 'interrupted while counting the usage log' });
  });
});
