import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A governance server that acknowledges decisions without storing them all: `/v1/check` answers
 * 200 with a decision_id every time, but only some decisions reach its usage log. It also has
 * the admin keys API and `/api/admin/logs`, each with switches for the ways servers in the field
 * differ (no logs route, no key_id filter, entries without key_id), and no /metrics.
 */
export interface ForgetfulServerOptions {
  /** Drop every n-th decision from the log (0: keep all). Default 10. */
  dropEvery?: number;
  /** Serve GET /api/admin/logs (default true; false answers 404 Not Found). */
  logsRoute?: boolean;
  /** Honour the key_id query filter (default true). */
  keyFilter?: boolean;
  /** Put key_id into log entries (default true). */
  keyIdInEntries?: boolean;
  /** POST /api/admin/keys answers 500 after this many keys were created. */
  failCreateAfter?: number;
}

export interface ForgetfulServer {
  url: string;
  adminKey: string;
  /** Decisions answered with 200. */
  acknowledged(): number;
  /** Entries in the usage log. */
  logged(): number;
  /** Key ids that are active. */
  activeKeys(): string[];
  /** Deletes a key behind the client's back (as another admin would). */
  deleteKey(keyId: string): void;
  /** Adds `n` log entries of a key that is not the caller's (someone else's traffic). */
  addForeignEntries(n: number): void;
  close(): Promise<void>;
}

interface Entry {
  id: string;
  timestamp: string;
  key_id: string;
  api_key_name: string;
  model: string;
  operation: string;
  allowed: boolean;
  risk_score: number;
  reason: string;
  latency_ms: number;
}

export async function startForgetfulServer(options: ForgetfulServerOptions = {}): Promise<ForgetfulServer> {
  const dropEvery = options.dropEvery ?? 10;
  const adminKey = `admin.${randomBytes(16).toString('hex')}`;
  const keys = new Map<string, { name: string; token: string; active: boolean }>();
  const log: Entry[] = [];
  let acknowledged = 0;
  let created = 0;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage): Promise<any> => {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    return text === '' ? undefined : JSON.parse(text);
  };
  const append = (keyId: string, name: string, model: string, operation: string) => {
    const entry: Entry = { id: randomUUID(), timestamp: new Date().toISOString(), key_id: keyId, api_key_name: name, model, operation, allowed: true, risk_score: 0, reason: 'ok', latency_ms: 0.1 };
    if (options.keyIdInEntries === false) delete (entry as Partial<Entry>).key_id;
    log.push(entry);
    return entry.id;
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const route = `${req.method} ${url.pathname}`;
    const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (route === 'POST /v1/check') {
      const keyId = bearer.slice(0, bearer.lastIndexOf('.'));
      const key = keys.get(keyId);
      if (!key || !key.active || key.token !== bearer) return send(res, 401, { detail: 'Invalid API key' });
      const body = await readBody(req);
      acknowledged++;
      // The bug under test: the answer does not wait for (or even attempt) every write.
      const id = dropEvery > 0 && acknowledged % dropEvery === 0 ? randomUUID() : append(keyId, key.name, body.model, body.operation);
      return send(res, 200, { allowed: true, risk_score: 0, reason: 'ok', decision_id: id });
    }
    if (!url.pathname.startsWith('/api/admin/')) return send(res, 404, { detail: 'Not Found' });
    if (bearer !== adminKey) return send(res, 401, { detail: 'Invalid admin key' });
    if (route === 'POST /api/admin/keys') {
      const body = await readBody(req);
      if (options.failCreateAfter !== undefined && created >= options.failCreateAfter) return send(res, 500, { detail: 'Internal Server Error' });
      created++;
      const keyId = randomUUID();
      const token = `${keyId}.${randomBytes(16).toString('hex')}`;
      keys.set(keyId, { name: body.name, token, active: true });
      return send(res, 201, { id: created, key_id: keyId, name: body.name, role: 'user', created_at: new Date().toISOString(), api_key: token });
    }
    const del = /^DELETE \/api\/admin\/keys\/([^/]+)$/.exec(route);
    if (del) {
      const key = keys.get(decodeURIComponent(del[1]!));
      if (!key || !key.active) return send(res, 404, { detail: 'API key not found' });
      key.active = false;
      return send(res, 200, { status: 'deleted', key_id: del[1] });
    }
    if (route === 'GET /api/admin/logs' && options.logsRoute !== false) {
      const q = url.searchParams;
      const page = Number(q.get('page') ?? 1);
      const size = Number(q.get('page_size') ?? 20);
      const since = q.get('since');
      const until = q.get('until');
      const keyId = options.keyFilter === false ? null : q.get('key_id');
      const matching = log
        .filter((e) => (since === null || e.timestamp >= since) && (until === null || e.timestamp < until))
        .filter((e) => keyId === null || e.key_id === keyId)
        .reverse();
      return send(res, 200, {
        logs: matching.slice((page - 1) * size, page * size),
        total: matching.length,
        page,
        page_size: size,
        total_pages: Math.ceil(matching.length / size),
      });
    }
    return send(res, 404, { detail: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    adminKey,
    acknowledged: () => acknowledged,
    logged: () => log.length,
    activeKeys: () => [...keys].filter(([, k]) => k.active).map(([id]) => id),
    deleteKey: (keyId) => {
      const key = keys.get(keyId);
      if (key) key.active = false;
    },
    addForeignEntries: (n) => {
      for (let i = 0; i < n; i++) append('someone-else', 'other', 'm', 'op');
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
