import { afterEach, describe, expect, it } from 'vitest';
import { createConnection, type LeanHttpConnection } from '../../src/load/http/connection.js';
import { serializeRequest } from '../../src/load/http/request-bytes.js';
import { createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { send } from './http-servers.js';

// The request path against the real reference server (fastify) on loopback.

let server: TestServer | undefined;
let conn: LeanHttpConnection | undefined;
afterEach(async () => {
  conn?.close();
  await server?.close();
  server = undefined;
});

describe('against the reference server', () => {
  it('sends POST /v1/check with an API key and reads the decision', async () => {
    server = await startTestServer();
    const key = await createKey(server.url, server.adminToken, 'load-http');
    const url = new URL(server.url);
    conn = createConnection({ url, timeoutMs: 5_000 });
    const bytes = serializeRequest({
      method: 'POST',
      path: '/v1/check',
      host: url.host,
      headers: { authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'gpt-4', operation: 'chat', metadata: { contains_personal_data: false } }),
    });
    for (let i = 0; i < 3; i++) {
      const outcome = await send(conn, bytes, true);
      expect(outcome.error).toBeUndefined();
      expect(outcome.response?.status).toBe(200);
      const decision = JSON.parse(outcome.response!.body!.toString());
      expect(decision).toMatchObject({ allowed: true, reason: 'ok' });
      expect(typeof decision.decision_id).toBe('string');
    }
    expect(conn.connects).toBe(1);

    const health = await send(conn, serializeRequest({ method: 'GET', path: '/health', host: url.host, headers: {} }), false);
    expect(health.response).toEqual({ status: 200, retryAfter: false });
  });

  it('sees the rate limiter answer 429 with Retry-After', async () => {
    server = await startTestServer({ rateLimit: { limit: 2, windowMs: 60_000 } });
    const key = await createKey(server.url, server.adminToken, 'load-http-burst');
    const url = new URL(server.url);
    conn = createConnection({ url, timeoutMs: 5_000 });
    const bytes = serializeRequest({
      method: 'POST',
      path: '/v1/check',
      host: url.host,
      headers: { authorization: `Bearer ${key}` },
      body: '{"model":"m","operation":"o"}',
    });
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await send(conn, bytes);
      statuses.push(last.response?.status ?? 0);
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(last?.response?.retryAfter).toBe(true);
  });
});
