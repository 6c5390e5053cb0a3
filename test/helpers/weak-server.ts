import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A deliberately weak governance server for `audit --api`: it has exactly the weaknesses the
 * acceptance lists, and is correct everywhere else (auth, 403 for user keys, forbidden fields):
 * - the documented default admin key is accepted (static ADMIN_API_KEY style);
 * - no rate limit (and no X-RateLimit-* headers);
 * - malformed input crashes with a 500 whose body is a Python traceback with file paths;
 * - wildcard CORS with credentials;
 * - /metrics as one JSON-quoted string;
 * - no security headers at all.
 */
export interface WeakServer {
  url: string;
  adminKey: string;
  /** Keys created through the admin API, by key id. */
  keys: Map<string, { token: string; active: boolean }>;
  /** Requests received (every one, so the audit's count can be checked against it). */
  requests: number;
  close(): Promise<void>;
}

export const WEAK_ADMIN_KEY = 'admin-secret-key-change-in-prod';

const TRACEBACK = `Traceback (most recent call last):
  File "/app/governance/api.py", line 87, in check
    payload = json.loads(body)
  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads
    return _default_decoder.decode(s)
json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)
`;

const FORBIDDEN = new Set(['prompt', 'text', 'input', 'message', 'messages', 'content']);

function forbiddenIn(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(forbiddenIn);
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([k, v]) => FORBIDDEN.has(k.toLowerCase()) || forbiddenIn(v));
}

export async function startWeakServer(): Promise<WeakServer> {
  const keys = new Map<string, { token: string; active: boolean }>();
  const state = { requests: 0 };
  const cors = { 'access-control-allow-origin': '*', 'access-control-allow-credentials': 'true' };
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...cors, ...headers });
    res.end(JSON.stringify(body));
  };
  const crash = (res: ServerResponse) => {
    res.writeHead(500, { 'content-type': 'text/plain', ...cors });
    res.end(TRACEBACK);
  };
  const readBody = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const userKey = (req: IncomingMessage): string | undefined => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const token = m?.[1];
    const dot = token?.lastIndexOf('.') ?? -1;
    if (!token || dot <= 0) return undefined;
    const key = keys.get(token.slice(0, dot));
    return key?.active && key.token === token ? token : undefined;
  };
  const unauthorized = (res: ServerResponse) => send(res, 401, { detail: 'Invalid API key' }, { 'www-authenticate': 'Bearer' });

  const server: Server = createServer(async (req, res) => {
    state.requests += 1;
    const path = (req.url ?? '/').split('?')[0]!;
    const body = await readBody(req);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST, DELETE', 'access-control-allow-headers': '*' });
      return res.end();
    }
    if (req.method === 'GET' && path === '/health') return send(res, 200, { status: 'ok', version: '0.9.0', uptime_s: 1.5 });
    if (req.method === 'GET' && path === '/metrics') {
      return send(res, 200, '# HELP requests_total Requests.\n# TYPE requests_total counter\nrequests_total 1\n');
    }
    if (path.startsWith('/api/admin/')) {
      if (req.headers.authorization !== `Bearer ${WEAK_ADMIN_KEY}`) {
        return userKey(req) ? send(res, 403, { detail: 'Admin access required' }) : unauthorized(res);
      }
      if (req.method === 'GET' && path === '/api/admin/keys') {
        return send(res, 200, [...keys.entries()].map(([id, k]) => ({ id, key_id: id, name: 'key', role: 'user', active: k.active })));
      }
      if (req.method === 'POST' && path === '/api/admin/keys') {
        const keyId = randomUUID();
        const token = `${keyId}.${randomBytes(32).toString('base64url')}`;
        keys.set(keyId, { token, active: true });
        const name = (JSON.parse(body) as { name: string }).name;
        return send(res, 201, { id: keyId, key_id: keyId, name, role: 'user', created_at: new Date().toISOString(), api_key: token });
      }
      const del = /^\/api\/admin\/keys\/([^/]+)$/.exec(path);
      if (req.method === 'DELETE' && del) {
        const key = keys.get(decodeURIComponent(del[1]!));
        if (!key) return send(res, 404, { detail: 'API key not found' });
        key.active = false;
        return send(res, 200, { status: 'deleted', key_id: del[1] });
      }
      return send(res, 404, { detail: 'Not Found' });
    }
    if (req.method === 'POST' && (path === '/v1/check' || path === '/api/evaluate')) {
      if (!userKey(req)) return unauthorized(res);
      if (path === '/api/evaluate') return send(res, 200, { status: 'ok', message: 'API key verified successfully' });
      if (body.length > 1024 * 1024) return send(res, 413, { detail: 'Request body too large' });
      let payload: { model?: unknown; operation?: unknown };
      try {
        payload = JSON.parse(body) as typeof payload;
      } catch {
        return crash(res);
      }
      if (forbiddenIn(payload)) return send(res, 400, { detail: 'Request contains forbidden content fields' });
      if (typeof payload?.model !== 'string' || typeof payload.operation !== 'string') return crash(res);
      return send(res, 200, { allowed: true, risk_score: 0, reason: 'ok', decision_id: randomUUID() });
    }
    return send(res, 404, { detail: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    adminKey: WEAK_ADMIN_KEY,
    keys,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
