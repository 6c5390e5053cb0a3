import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkAcknowledgedRecords, MAX_LOST_IDS } from '../../src/chaos/records.js';
import { startTraffic } from '../../src/chaos/traffic.js';
import { GovernanceClient } from '../../src/client/governance-client.js';
import { check, keyIdOf } from '../helpers/contract.js';
import { startForgetfulServer, type ForgetfulServerOptions } from '../helpers/forgetful-server.js';
import { createKey } from '../helpers/http.js';
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

/** Sends `n` checks one after the other; the decisions answered 200, in order. */
async function sendChecks(url: string, token: string, n: number): Promise<Array<{ id: string; t: number }>> {
  const decisions: Array<{ id: string; t: number }> = [];
  for (let i = 0; i < n; i++) {
    const answer = await check(url, token, undefined, 'gpt-test', `op-${i}`);
    expect(answer.status).toBe(200);
    decisions.push({ id: answer.body.decision_id as string, t: Date.now() });
  }
  return decisions;
}

async function reference() {
  const s = await startTestServer({ rateLimit: { limit: 1_000_000, windowMs: 60_000 } });
  cleanups.push(() => s.close());
  return s;
}

describe('acknowledged records against the reference server', () => {
  it('finds every decision the background traffic saw acknowledged; lost 0, by key filter and by window scan', async () => {
    const s = await reference();
    const token = await createKey(s.url, s.adminToken, 'chaos-traffic');
    const other = await createKey(s.url, s.adminToken, 'someone-else');
    const since = new Date();
    await sendChecks(s.url, other, 5);
    let answers = 0;
    let enough!: () => void;
    const reached = new Promise<void>((resolve) => (enough = resolve));
    const traffic = startTraffic({ url: s.url, token, ratePerSecond: 100, timeoutMs: 5_000, onAnswer: (a) => a.status === 200 && ++answers === 30 && enough() });
    cleanups.push(() => traffic.stop());
    await reached;
    const record = await traffic.stop();
    expect(record.acknowledged).toBeGreaterThanOrEqual(30);
    expect(record.decisions).toHaveLength(record.acknowledged);
    await sendChecks(s.url, other, 5);

    const client = clientFor(s.url, s.adminToken);
    const byKey = await checkAcknowledgedRecords(client, { decisions: record.decisions, since, until: new Date(), keyIds: [keyIdOf(token)] });
    expect(byKey).toEqual({ status: 'measured', acknowledged: record.acknowledged, lost: 0, lost_ids: [] });
    const scanned = await checkAcknowledgedRecords(client, { decisions: record.decisions, since, until: new Date() });
    expect(scanned).toEqual(byKey);
  });

  it('a decision id the log does not hold is lost, and named', async () => {
    const s = await reference();
    const token = await createKey(s.url, s.adminToken);
    const since = new Date();
    const decisions = await sendChecks(s.url, token, 12);
    const fabricated = randomUUID();
    const client = clientFor(s.url, s.adminToken);
    const result = await checkAcknowledgedRecords(client, {
      decisions: [...decisions.slice(0, 6), { id: fabricated, t: Date.now() }, ...decisions.slice(6)],
      since,
      until: new Date(),
      keyIds: [keyIdOf(token)],
    });
    expect(result).toEqual({ status: 'measured', acknowledged: 13, lost: 1, lost_ids: [fabricated] });
  });

  it('pages through more than one page of the window', async () => {
    const s = await reference();
    const token = await createKey(s.url, s.adminToken);
    const since = new Date();
    const decisions = await sendChecks(s.url, token, 130);
    const client = clientFor(s.url, s.adminToken);
    // The oldest decision is on the second page (newest first): it must be found.
    const result = await checkAcknowledgedRecords(client, { decisions: decisions.slice(0, 3), since, until: new Date() });
    expect(result).toEqual({ status: 'measured', acknowledged: 3, lost: 0, lost_ids: [] });
    // A page limit that does not cover the window: not measured, never a count of lost.
    const limited = await checkAcknowledgedRecords(client, { decisions: decisions.slice(0, 3), since, until: new Date(), maxPages: 1 });
    expect(limited).toMatchObject({ status: 'not_measured', reason: expect.stringMatching(/more than 1 pages/) });
  });

  it('without an admin key: not measured', async () => {
    const s = await reference();
    const token = await createKey(s.url, s.adminToken);
    const decisions = await sendChecks(s.url, token, 2);
    const result = await checkAcknowledgedRecords(clientFor(s.url), { decisions, since: new Date(Date.now() - 1000), until: new Date() });
    expect(result).toEqual({ status: 'not_measured', reason: expect.stringMatching(/no admin key/) });
  });
});

describe('acknowledged records against servers in the field', () => {
  async function forgetful(options: ForgetfulServerOptions) {
    const s = await startForgetfulServer(options);
    cleanups.push(() => s.close());
    const client = clientFor(s.url, s.adminKey);
    const { api_key: token } = await client.createKey({ name: 'chaos' });
    return { s, client, token, keyId: keyIdOf(token), since: new Date() };
  }

  it('a server that acknowledges without storing: every dropped decision is lost, by id (key filter and window scan)', async () => {
    const run = await forgetful({ dropEvery: 10 });
    const decisions = await sendChecks(run.s.url, run.token, 30);
    const dropped = [decisions[9]!.id, decisions[19]!.id, decisions[29]!.id];
    const byKey = await checkAcknowledgedRecords(run.client, { decisions, since: run.since, until: new Date(), keyIds: [run.keyId] });
    expect(byKey).toEqual({ status: 'measured', acknowledged: 30, lost: 3, lost_ids: expect.arrayContaining(dropped) });
    const scanned = await checkAcknowledgedRecords(run.client, { decisions, since: run.since, until: new Date() });
    expect(scanned).toEqual(byKey);
  });

  it('lists at most 20 lost ids', async () => {
    const run = await forgetful({ dropEvery: 1 });
    const decisions = await sendChecks(run.s.url, run.token, 25);
    const result = await checkAcknowledgedRecords(run.client, { decisions, since: run.since, until: new Date(), keyIds: [run.keyId] });
    expect(result).toMatchObject({ status: 'measured', acknowledged: 25, lost: 25 });
    expect(result.status === 'measured' && result.lost_ids).toHaveLength(MAX_LOST_IDS);
  });

  it('a server that ignores the key filter is scanned by window; other keys do not get in the way', async () => {
    const run = await forgetful({ dropEvery: 0, keyFilter: false });
    const decisions = await sendChecks(run.s.url, run.token, 15);
    run.s.addForeignEntries(150);
    const result = await checkAcknowledgedRecords(run.client, { decisions, since: run.since, until: new Date(), keyIds: [run.keyId] });
    expect(result).toEqual({ status: 'measured', acknowledged: 15, lost: 0, lost_ids: [] });
  });

  it('a server without the logs route: not measured, never 0', async () => {
    const run = await forgetful({ logsRoute: false });
    const decisions = await sendChecks(run.s.url, run.token, 3);
    const result = await checkAcknowledgedRecords(run.client, { decisions, since: run.since, until: new Date(), keyIds: [run.keyId] });
    expect(result).toEqual({ status: 'not_measured', reason: expect.stringMatching(/no admin logs route/) });
  });

  it('acknowledgements without decision ids: not measured (no request needed)', async () => {
    const client = clientFor('http://127.0.0.1:9', 'admin-key');
    const result = await checkAcknowledgedRecords(client, { decisions: [], acknowledgedWithoutId: 7, since: new Date(), until: new Date() });
    expect(result).toEqual({ status: 'not_measured', reason: expect.stringMatching(/7 decisions without a decision_id/) });
  });

  it('log entries without ids: not measured', async () => {
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const logs = [{ timestamp: new Date().toISOString(), key_id: 'k', model: 'm', operation: 'o', allowed: true }];
      res.end(JSON.stringify({ logs, total: 1, page: 1, page_size: 100, total_pages: 1 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const client = clientFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'admin-key');
    const result = await checkAcknowledgedRecords(client, { decisions: [{ id: 'd-1', t: Date.now() }], since: new Date(), until: new Date(), keyIds: ['k'] });
    expect(result).toEqual({ status: 'not_measured', reason: expect.stringMatching(/entries carry no id/) });
  });

  it('an abort while reading: not measured', async () => {
    const run = await forgetful({ dropEvery: 0 });
    const decisions = await sendChecks(run.s.url, run.token, 2);
    const result = await checkAcknowledgedRecords(run.client, { decisions, since: run.since, until: new Date(), signal: AbortSignal.abort() });
    expect(result).toEqual({ status: 'not_measured', reason: expect.stringMatching(/interrupted/) });
  });
});
