import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISO_INSTANT, UUID_V4, check, expectFieldError, keyIdOf } from '../helpers/contract.js';
import { call, createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import type { UsageLogView } from '../../src/server/store/usage-log.js';

const LOG_FIELDS = ['allowed', 'api_key_name', 'id', 'key_id', 'latency_ms', 'model', 'operation', 'reason', 'risk_score', 'timestamp'];

type LogEntry = UsageLogView;

interface Sent {
  id: string;
  model: string;
  allowed: boolean;
  key: string;
  name: string;
}

describe('admin API: usage logs', () => {
  const N = 25;
  let s: TestServer;
  /** The decisions made in beforeAll, oldest first. */
  const sent: Sent[] = [];
  let all: LogEntry[];

  beforeAll(async () => {
    s = await startTestServer({ rateLimit: { limit: 10_000, windowMs: 60_000 } });
    const alice = await createKey(s.url, s.adminToken, 'alice');
    const bob = await createKey(s.url, s.adminToken, 'bob');
    // One at a time, so the order of the log is the order sent.
    for (let i = 0; i < N; i++) {
      const [key, name] = i % 3 === 0 ? [bob, 'bob'] : [alice, 'alice'];
      const model = i % 2 === 0 ? 'model-a' : 'model-b';
      const answer = await check(s.url, key, { contains_personal_data: i % 4 === 0 }, model, `op-${i}`);
      expect(answer.status).toBe(200);
      sent.push({ id: answer.body.decision_id, model, allowed: answer.body.allowed, key, name });
    }
    all = (await logs('page_size=100')).body.logs;
  });
  afterAll(() => s.close());

  const logs = (query = '') => call(s.url, 'GET', `/api/admin/logs${query ? `?${query}` : ''}`, { token: s.adminToken });
  const newestFirst = () => [...sent].reverse();

  it('pages of 20 by default, newest first, with total and total_pages', async () => {
    const answer = await logs();
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ total: N, page: 1, page_size: 20, total_pages: 2 });
    expect(answer.body.logs.map((l: LogEntry) => l.id)).toEqual(newestFirst().slice(0, 20).map((d) => d.id));
  });

  it('each entry has the contract fields, and its id is the decision_id', async () => {
    expect(all).toHaveLength(N);
    for (const [i, entry] of all.entries()) {
      for (const field of LOG_FIELDS) expect(entry, field).toHaveProperty(field);
      const decision = newestFirst()[i]!;
      expect(entry.id).toMatch(UUID_V4);
      expect(entry).toMatchObject({
        id: decision.id,
        model: decision.model,
        allowed: decision.allowed,
        key_id: keyIdOf(decision.key),
        api_key_name: decision.name,
      });
      expect(entry.timestamp).toMatch(ISO_INSTANT);
      expect(typeof entry.latency_ms).toBe('number');
      expect(entry.reason).toBe(decision.allowed ? 'ok' : 'contains_personal_data');
      expect(entry.risk_score).toBe(decision.allowed ? 0 : 70);
    }
  });

  it('timestamps never increase down the list', () => {
    for (let i = 1; i < all.length; i++) expect(Date.parse(all[i - 1]!.timestamp)).toBeGreaterThanOrEqual(Date.parse(all[i]!.timestamp));
  });

  it('pages partition the log: no entry missing, none twice', async () => {
    for (const size of [1, 7, 20, 25, 100]) {
      const pages = Math.ceil(N / size);
      const ids: string[] = [];
      for (let page = 1; page <= pages; page++) {
        const answer = await logs(`page=${page}&page_size=${size}`);
        expect(answer.status).toBe(200);
        expect(answer.body).toMatchObject({ total: N, page, page_size: size, total_pages: pages });
        expect(answer.body.logs.length).toBe(page < pages ? size : N - size * (pages - 1));
        ids.push(...answer.body.logs.map((l: LogEntry) => l.id));
      }
      expect(ids).toEqual(newestFirst().map((d) => d.id));
    }
  });

  it('a page past the end is empty, with the totals intact', async () => {
    const answer = await logs('page=99&page_size=10');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ logs: [], total: N, page: 99, page_size: 10, total_pages: 3 });
  });

  it('filters by model', async () => {
    for (const model of ['model-a', 'model-b']) {
      const answer = await logs(`model=${model}&page_size=100`);
      const expected = newestFirst().filter((d) => d.model === model);
      expect(answer.body.total).toBe(expected.length);
      expect(answer.body.logs.map((l: LogEntry) => l.id)).toEqual(expected.map((d) => d.id));
    }
    expect((await logs('model=no-such-model')).body).toMatchObject({ logs: [], total: 0 });
  });

  it('filters by outcome: operation=allowed|blocked', async () => {
    const allowed = await logs('operation=allowed&page_size=100');
    const blocked = await logs('operation=blocked&page_size=100');
    expect(allowed.body.logs.every((l: LogEntry) => l.allowed)).toBe(true);
    expect(blocked.body.logs.every((l: LogEntry) => !l.allowed)).toBe(true);
    expect(allowed.body.total).toBe(sent.filter((d) => d.allowed).length);
    expect(blocked.body.total).toBe(sent.filter((d) => !d.allowed).length);
    expect(allowed.body.total + blocked.body.total).toBe(N);
    expect(blocked.body.total).toBeGreaterThan(0);
  });

  it('combines filters', async () => {
    const answer = await logs('model=model-a&operation=blocked&page_size=100');
    const expected = newestFirst().filter((d) => d.model === 'model-a' && !d.allowed);
    expect(answer.body.logs.map((l: LogEntry) => l.id)).toEqual(expected.map((d) => d.id));
  });

  it('filters by time: since (inclusive) and until (exclusive), as ISO 8601', async () => {
    const pivot = all[Math.floor(N / 2)]!.timestamp;
    const since = await logs(`since=${encodeURIComponent(pivot)}&page_size=100`);
    const until = await logs(`until=${encodeURIComponent(pivot)}&page_size=100`);
    const at = Date.parse(pivot);
    expect(since.body.logs.map((l: LogEntry) => l.id)).toEqual(all.filter((e) => Date.parse(e.timestamp) >= at).map((e) => e.id));
    expect(until.body.logs.map((l: LogEntry) => l.id)).toEqual(all.filter((e) => Date.parse(e.timestamp) < at).map((e) => e.id));
    expect(since.body.total + until.body.total).toBe(N);

    const window = await logs(`since=${encodeURIComponent(all[N - 1]!.timestamp)}&until=${encodeURIComponent(pivot)}&page_size=100`);
    expect(window.body.total).toBe(until.body.total);
  });

  it('accepts ISO 8601 dates, offsets and fractions', async () => {
    const first = Date.parse(all[N - 1]!.timestamp);
    const local = new Date(first - 60_000 + 2 * 3600_000).toISOString().replace('Z', '+02:00'); // a minute before, as +02:00
    expect((await logs(`since=${encodeURIComponent(local)}&page_size=100`)).body.total).toBe(N);
    expect((await logs('since=2000-01-01')).body.total).toBe(N);
    expect((await logs('until=2000-01-01T00:00:00Z')).body).toMatchObject({ logs: [], total: 0, total_pages: 0 });
    expect((await logs('since=2999-12-31T23:59:59.999Z')).body).toMatchObject({ logs: [], total: 0 });
  });

  it('422 naming the query parameter for page, page_size, operation, since, until', async () => {
    const cases: Array<[string, string]> = [
      ['page=0', 'page'],
      ['page=-1', 'page'],
      ['page=abc', 'page'],
      ['page=1.5', 'page'],
      ['page=', 'page'],
      ['page_size=0', 'page_size'],
      ['page_size=101', 'page_size'],
      ['page_size=-5', 'page_size'],
      ['page_size=ten', 'page_size'],
      ['page_size=1e2', 'page_size'],
      ['operation=denied', 'operation'],
      ['operation=ALLOWED', 'operation'],
      ['since=yesterday', 'since'],
      ['since=2024-13-01', 'since'],
      ['since=2023-02-29', 'since'],
      ['until=12345', 'until'],
      ['until=2024-01-01T25:00:00Z', 'until'],
    ];
    for (const [query, field] of cases) expectFieldError(await logs(query), 'query', field);
    // Every problem is named at once.
    const many = await logs('page=0&page_size=500&operation=x&since=x&until=x');
    for (const field of ['page', 'page_size', 'operation', 'since', 'until']) expectFieldError(many, 'query', field);
  });

  it('page_size 1 and 100 are the bounds', async () => {
    expect((await logs('page_size=1')).body).toMatchObject({ page_size: 1, total_pages: N });
    expect((await logs('page_size=100')).body).toMatchObject({ page_size: 100, total_pages: 1 });
  });

  it('filters by key_id (an extension to the contract), alone and with the others', async () => {
    for (const name of ['alice', 'bob']) {
      const key = sent.find((d) => d.name === name)!.key;
      const expected = newestFirst().filter((d) => d.name === name);
      const answer = await logs(`key_id=${encodeURIComponent(keyIdOf(key))}&page_size=100`);
      expect(answer.status).toBe(200);
      expect(answer.body.total).toBe(expected.length);
      expect(answer.body.logs.map((l: LogEntry) => l.id)).toEqual(expected.map((d) => d.id));
      const blocked = await logs(`key_id=${encodeURIComponent(keyIdOf(key))}&operation=blocked&since=2000-01-01&page_size=1`);
      expect(blocked.body.total).toBe(expected.filter((d) => !d.allowed).length);
    }
    expect((await logs('key_id=no-such-key')).body).toMatchObject({ logs: [], total: 0, total_pages: 0 });
    expectFieldError(await logs(`key_id=${'x'.repeat(101)}`), 'query', 'key_id');
    expectFieldError(await logs('key_id='), 'query', 'key_id');
    expectFieldError(await logs('key_id=a&key_id=b'), 'query', 'key_id');
  });

  it('filters by reason (an extension to the contract), alone and with the others', async () => {
    const byReason = new Map<string, LogEntry[]>();
    for (const entry of all) byReason.set(entry.reason, [...(byReason.get(entry.reason) ?? []), entry]);
    // The sample has both: decisions with personal data and plain ones.
    expect([...byReason.keys()].sort()).toEqual(['contains_personal_data', 'ok']);
    for (const [reason, entries] of byReason) {
      const answer = await logs(`reason=${reason}&page_size=100`);
      expect(answer.status).toBe(200);
      expect(answer.body.total).toBe(entries.length);
      expect(answer.body.logs.map((l: LogEntry) => l.id)).toEqual(entries.map((l) => l.id));
      const model = await logs(`reason=${reason}&model=model-a&page_size=100`);
      expect(model.body.total).toBe(entries.filter((l) => l.model === 'model-a').length);
    }
    expect((await logs('reason=rate_limited')).body).toMatchObject({ logs: [], total: 0, total_pages: 0 });
    for (const bad of ['reason=', 'reason=OK', `reason=${'x'.repeat(65)}`, 'reason=a%20b', "reason=ok'--", 'reason=ok&reason=x']) {
      expectFieldError(await logs(bad), 'query', 'reason');
    }
  });
});
