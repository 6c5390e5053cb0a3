import { once } from 'node:events';
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT } from '../../src/server/app.js';
import { call, createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * POST /v1/check is served by the fast path (src/server/fast-check.ts) ahead of fastify. The same
 * requests sent to a server with it and to one without it (fastPath: false, fastify's route)
 * must get the same answers: status, body and headers.
 */

interface Side {
  server: TestServer;
  user: string;
  admin: string;
  revoked: string;
  lines: Array<Record<string, unknown>>;
}

interface Probe {
  name: string;
  body?: string | Buffer;
  /** Authorization header; defaults to the side's user key. `null` sends none. */
  auth?: (side: Side) => string | null;
  headers?: Record<string, string>;
  path?: string;
}

const json = (value: unknown) => JSON.stringify(value);
const valid = { model: 'gpt-4', operation: 'chat' };
const bearer = (token: string) => `Bearer ${token}`;

const PROBES: Probe[] = [
  { name: 'a clean decision', body: json(valid) },
  { name: 'personal data', body: json({ ...valid, metadata: { contains_personal_data: true } }) },
  { name: 'an external model', body: json({ ...valid, metadata: { is_external_model: true, team: 'x' } }) },
  { name: 'both flags', body: json({ ...valid, metadata: { contains_personal_data: true, uses_external_model: true } }) },
  { name: 'null metadata', body: json({ ...valid, metadata: null }) },
  { name: 'a query string', body: json(valid), path: '/v1/check?debug=1' },
  { name: 'charset parameter', body: json(valid), headers: { 'content-type': 'application/json; charset=utf-8' } },
  { name: 'upper-case media type', body: json(valid), headers: { 'content-type': 'APPLICATION/JSON' } },
  { name: 'a byte-order mark', body: `\uFEFF${json(valid)}` },
  { name: 'unicode names at the limit', body: json({ model: '😀'.repeat(200), operation: 'é'.repeat(200) }) },
  { name: 'unicode names over the limit', body: json({ model: '😀'.repeat(201), operation: 'o' }) },
  { name: 'no operation', body: json({ model: 'm' }) },
  { name: 'empty model', body: json({ model: '', operation: 'o' }) },
  { name: 'wrong types', body: json({ model: 1, operation: ['o'], metadata: 'x' }) },
  { name: 'metadata array', body: json({ ...valid, metadata: [] }) },
  { name: 'an array body', body: '[]' },
  { name: 'a string body', body: '"check"' },
  { name: 'a null body', body: 'null' },
  { name: 'a number body', body: '12' },
  { name: 'broken JSON', body: '{"model":' },
  { name: 'trailing garbage', body: `${json(valid)}x` },
  { name: 'a __proto__ key', body: '{"model":"m","operation":"o","__proto__":{"x":1}}' },
  { name: 'constructor.prototype', body: '{"model":"m","operation":"o","constructor":{"prototype":{"x":1}}}' },
  { name: 'a forbidden field', body: json({ ...valid, prompt: 'secret' }) },
  { name: 'a forbidden field in metadata', body: json({ ...valid, metadata: { Messages: [] } }) },
  { name: 'forbidden fields deep down', body: json({ ...valid, metadata: { a: [{ b: { content: 1, TEXT: 2 } }] } }) },
  { name: 'forbidden field and bad schema', body: json({ model: 1, input: 'x' }) },
  { name: 'no key', body: json(valid), auth: () => null },
  { name: 'an empty header', body: json(valid), auth: () => '  ' },
  { name: 'not Bearer', body: json(valid), auth: (s) => `Basic ${s.user}` },
  { name: 'no dot in the token', body: json(valid), auth: () => bearer('abc') },
  { name: 'a wrong secret', body: json(valid), auth: (s) => bearer(`${s.user.split('.')[0]}.${'A'.repeat(43)}`) },
  { name: 'an unknown key id', body: json(valid), auth: () => bearer(`00000000-0000-4000-8000-000000000000.${'A'.repeat(43)}`) },
  { name: 'a revoked key', body: json(valid), auth: (s) => bearer(s.revoked) },
  { name: 'an admin key', body: json(valid), auth: (s) => bearer(s.admin) },
  { name: 'no key and broken JSON', body: '{', auth: () => null },
  // Handed on to fastify by the fast path: both servers answer through the fastify route.
  { name: 'text/plain', body: json(valid), headers: { 'content-type': 'text/plain' } },
  { name: 'no content type', body: json(valid), headers: { 'content-type': '' } },
  { name: 'an empty body', body: '' },
  { name: 'a body over the limit', body: Buffer.alloc(BODY_LIMIT + 1, 0x20) },
];

/** Headers that differ between any two answers (time) are left out. */
const VOLATILE = new Set(['date', 'x-ratelimit-reset', 'keep-alive']);

async function send(side: Side, probe: Probe) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...probe.headers };
  if (headers['content-type'] === '') delete headers['content-type'];
  const auth = probe.auth ? probe.auth(side) : bearer(side.user);
  if (auth !== null) headers['authorization'] = auth;
  const response = await request(`${side.server.url}${probe.path ?? '/v1/check'}`, { method: 'POST', headers, body: probe.body ?? null });
  const text = await response.body.text();
  const shown = Object.fromEntries(Object.entries(response.headers).filter(([name]) => !VOLATILE.has(name)));
  // The one value two servers cannot share; its shape is checked.
  const body = text.replace(/"decision_id":"[0-9a-f-]{36}"/, '"decision_id":"<uuid>"');
  return { status: response.statusCode, headers: shown, body, reset: Number(response.headers['x-ratelimit-reset']) };
}

async function startSide(fastPath: boolean, rateLimit = { limit: 10_000, windowMs: 60_000 }): Promise<Side> {
  const stream = new PassThrough();
  const lines: Array<Record<string, unknown>> = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const server = await startTestServer({ fastPath, rateLimit, logger: { level: 'info', stream } });
  const user = await createKey(server.url, server.adminToken, 'user');
  const revoked = await createKey(server.url, server.adminToken, 'revoked');
  const revokedId = revoked.split('.')[0]!;
  const answer = await call(server.url, 'DELETE', `/api/admin/keys/${revokedId}`, { token: server.adminToken });
  if (answer.status !== 200 && answer.status !== 204) throw new Error(`revoking failed: ${answer.status} ${answer.text}`);
  return { server, user, admin: server.adminToken, revoked, lines };
}

describe('the POST /v1/check fast path', () => {
  let fast: Side;
  let routed: Side;

  beforeAll(async () => {
    [fast, routed] = await Promise.all([startSide(true), startSide(false)]);
  });
  afterAll(async () => {
    await Promise.all([fast?.server.close(), routed?.server.close()]);
  });

  it('answers every request as fastify route does', async () => {
    for (const probe of PROBES) {
      const [a, b] = [await send(fast, probe), await send(routed, probe)];
      expect({ status: a.status, body: a.body, headers: a.headers }, probe.name).toEqual({ status: b.status, body: b.body, headers: b.headers });
      if (Number.isFinite(b.reset)) expect(Math.abs(a.reset - b.reset), probe.name).toBeLessThanOrEqual(2);
    }
  });

  it('serves the decisions itself, with the same access lines, and hands the rest to fastify', async () => {
    const accessOf = (side: Side) => side.lines.filter((l) => l['route'] === '/v1/check');
    const before = accessOf(fast).length;
    // Both sides get them, so the metrics compared next still match.
    for (const side of [fast, routed]) {
      await send(side, PROBES[0]!);
      await send(side, PROBES.find((p) => p.name === 'text/plain')!);
    }
    const [served, handedOn] = accessOf(fast).slice(before);
    // Fastify's request ids are req-<n>; the fast path's check-<n>.
    expect(served).toMatchObject({
      reqId: expect.stringMatching(/^check-[0-9a-z]+$/),
      msg: expect.stringMatching(/^POST \/v1\/check 200 /),
      method: 'POST',
      status: 200,
      key_id: fast.user.split('.')[0],
    });
    expect(handedOn).toMatchObject({ status: 415, reqId: expect.stringMatching(/^req-/) });
    for (const line of accessOf(routed)) expect(line['reqId']).toMatch(/^req-/);
  });

  it('counts its requests and decisions in /metrics like the route does', async () => {
    const metrics = async (side: Side) => (await call(side.server.url, 'GET', '/metrics')).text;
    const pick = (text: string) =>
      text
        .split('\n')
        .filter((l) => /^(requests_total\{method="POST",endpoint="\/v1\/check"|governance_(allowed|blocked)_total\{)/.test(l))
        .sort();
    expect(pick(await metrics(fast))).toEqual(pick(await metrics(routed)));
    expect(pick(await metrics(fast)).length).toBeGreaterThan(5);
  });

  it('refuses over the rate limit with the same 429 and headers', async () => {
    const sides = await Promise.all([startSide(true, { limit: 2, windowMs: 60_000 }), startSide(false, { limit: 2, windowMs: 60_000 })]);
    try {
      for (let i = 0; i < 4; i++) {
        const [a, b] = [await send(sides[0], PROBES[0]!), await send(sides[1], PROBES[0]!)];
        expect({ status: a.status, body: a.body, headers: a.headers }, `request ${i + 1}`).toEqual({ status: b.status, body: b.body, headers: b.headers });
      }
      const last = await send(sides[0], PROBES[0]!);
      expect(last.status).toBe(429);
      expect(last.headers['retry-after']).toMatch(/^\d+$/);
    } finally {
      await Promise.all(sides.map((s) => s.server.close()));
    }
  });
});

describe('clients that go away', () => {
  let side: Side;
  beforeAll(async () => {
    side = await startSide(true);
  });
  afterAll(() => side?.server.close());

  async function logTotal(): Promise<number> {
    return (await call(side.server.url, 'GET', '/api/admin/logs?page_size=1', { token: side.admin })).body.total as number;
  }

  /** Sends `head` + `body` on a raw socket, then closes it without reading an answer. */
  async function sendAndLeave(head: string, body: string): Promise<void> {
    const { port } = new URL(side.server.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write(head + body);
    socket.destroy();
  }

  it('cost nothing: a decision taken is still committed, a half-sent body is dropped, and the server serves on', async () => {
    const before = await logTotal();
    const body = json(valid);
    const head = (length: number) =>
      `POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer ${side.user}\r\nContent-Length: ${length}\r\n\r\n`;
    await sendAndLeave(head(body.length), body);
    await sendAndLeave(head(body.length + 50), body);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const answer = await send(side, PROBES[0]!);
    expect(answer.status).toBe(200);
    // The whole request's decision (the answer to it could not be delivered) and the last one.
    expect(await logTotal()).toBe(before + 2);
  });
});
