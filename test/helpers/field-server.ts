import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for governance servers in the field (not our reference server): it answers in the
 * shapes the contract lists as known differences — wrapped lists, policies without keys, list
 * `detail`s, a static admin key, missing and broken admin routes.
 */
export interface FieldServer {
  url: string;
  adminKey: string;
  /** Requests seen, as "METHOD /path". */
  seen: string[];
  /** Status codes to answer before behaving normally, per "METHOD /path". */
  failFirst: Map<string, number[]>;
  close(): Promise<void>;
}

const ADMIN_KEY = 'field-static-admin-key';

/** Answers that vary between tests; each defaults to the field's usual behaviour above. */
export interface FieldServerOptions {
  /** The body of GET /api/admin/keys. */
  keys?: unknown;
  /** The answer to GET /api/admin/logs (default 500). */
  logs?: { status: number; body: unknown };
  /** The answer to GET /health (default 200 {"status":"healthy"}). */
  health?: { status: number; body: string; contentType?: string };
  /** Backups this server lists (`{"backups": [meta...]}`) and serves by meta.id; none: 404 as before. */
  backups?: Array<{ meta: Record<string, unknown>; bytes: Buffer; disposition?: string }>;
}

export async function startFieldServer(options: FieldServerOptions = {}): Promise<FieldServer> {
  const seen: string[] = [];
  const failFirst = new Map<string, number[]>();
  const policies = [
    { id: 1, name: 'Block personal data', enabled: true },
    { id: 2, name: 'Max risk', enabled: true, value: { max: 50 } },
  ];
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage): Promise<any> => {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    return text === '' ? undefined : JSON.parse(text);
  };

  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = `${req.method} ${path}`;
    seen.push(route);
    const queued = failFirst.get(route);
    if (queued && queued.length > 0) return send(res, queued.shift()!, { detail: 'Service Unavailable' });
    if (route === 'GET /health') {
      if (!options.health) return send(res, 200, { status: 'healthy' });
      res.writeHead(options.health.status, { 'content-type': options.health.contentType ?? 'application/json' });
      return res.end(options.health.body);
    }
    if (!path.startsWith('/api/admin/')) return send(res, 404, { detail: 'Not Found' });
    if (req.headers.authorization !== `Bearer ${ADMIN_KEY}`) return send(res, 401, { detail: 'Invalid admin key' });
    if (route === 'GET /api/admin/keys' && options.keys !== undefined) return send(res, 200, options.keys);
    if (route === 'GET /api/admin/keys') {
      return send(res, 200, {
        keys: [
          { id: 'k1', name: 'legacy', is_active: true, created_at: '2025-01-01T00:00:00Z' },
          { id: 'k2', name: 'old', is_active: false, role: 'admin', last_used_at: '2025-02-01T00:00:00Z', usage_count: 7 },
        ],
      });
    }
    if (route === 'POST /api/admin/keys') {
      const body = await readBody(req);
      if (typeof body?.name !== 'string' || body.name.length > 10) {
        return send(res, 422, { detail: [{ loc: ['body', 'name'], msg: 'ensure this value has at most 10 characters', type: 'value_error' }] });
      }
      return send(res, 201, { id: 'k3', name: body.name, api_key: 'k3.field-secret-value' });
    }
    if (route === 'GET /api/admin/policies') return send(res, 200, policies);
    const patch = /^PATCH \/api\/admin\/policies\/(\d+)$/.exec(route);
    if (patch) {
      const policy = policies.find((p) => String(p.id) === patch[1]);
      if (!policy) return send(res, 404, { detail: 'Policy not found' });
      Object.assign(policy, await readBody(req));
      return send(res, 200, policy);
    }
    if (route === 'GET /api/admin/logs') return send(res, options.logs?.status ?? 500, options.logs?.body ?? { detail: 'Internal Server Error' });
    if (options.backups && route === 'GET /api/admin/audit/backups') return send(res, 200, { backups: options.backups.map((b) => b.meta) });
    const backup = options.backups?.find((b) => route === `GET /api/admin/audit/backups/${encodeURIComponent(String(b.meta['id']))}`);
    if (backup) {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'x-checksum-sha256': createHash('sha256').update(backup.bytes).digest('hex'),
        ...(backup.disposition ? { 'content-disposition': backup.disposition } : {}),
      });
      return res.end(backup.bytes);
    }
    if (/^POST \/api\/admin\/keys\/[^/]+\/rotate$/.test(route)) return send(res, 405, { detail: 'Method Not Allowed' });
    if (/^DELETE \/api\/admin\/keys\/[^/]+$/.test(route)) return send(res, 404, { detail: 'API key not found' });
    return send(res, 404, { detail: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    adminKey: ADMIN_KEY,
    seen,
    failFirst,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
