// A governance server that acknowledges decisions before writing them (see lying-server.ts).
// Run as: node lying-server-child.mjs --port N --data-dir DIR [--flush-ms MS]; admin key in
// LYING_ADMIN_KEY. Keys are written at once (keys.json); usage-log entries are buffered in
// memory and appended to log.jsonl only every flush interval (and on SIGTERM), so a SIGKILL
// loses the decisions of the last interval although each was answered 200 with its decision_id.
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, 'data-dir': { type: 'string' }, 'flush-ms': { type: 'string', default: '3000' } } });
const dataDir = values['data-dir'];
const adminKey = process.env.LYING_ADMIN_KEY;
if (!values.port || !dataDir || !adminKey) {
  process.stderr.write('usage: --port N --data-dir DIR (LYING_ADMIN_KEY set)\n');
  process.exit(2);
}
const keysFile = join(dataDir, 'keys.json');
const logFile = join(dataDir, 'log.jsonl');
const keys = new Map(existsSync(keysFile) ? JSON.parse(readFileSync(keysFile, 'utf8')) : []);
const saveKeys = () => writeFileSync(keysFile, JSON.stringify([...keys]));
const policies = [
  { id: 1, key: 'block_personal_data', name: 'Block personal data', description: '', enabled: true, value: null, violations_count: 0 },
  { id: 2, key: 'block_external_models', name: 'Block external models', description: '', enabled: true, value: null, violations_count: 0 },
  { id: 3, key: 'max_risk_score', name: 'Maximum risk score', description: '', enabled: true, value: { max: 50 }, violations_count: 0 },
];

let buffer = [];
const flush = () => {
  if (buffer.length === 0) return;
  appendFileSync(logFile, buffer.map((e) => `${JSON.stringify(e)}\n`).join(''));
  buffer = [];
};
setInterval(flush, Number(values['flush-ms']));
process.on('SIGTERM', () => {
  flush();
  process.exit(0);
});

const send = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const readBody = async (req) => {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text === '' ? {} : JSON.parse(text);
};
const flushed = () =>
  existsSync(logFile)
    ? readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line))
    : [];

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const route = `${req.method} ${url.pathname}`;
  const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  if (route === 'GET /health') return send(res, 200, { status: 'ok' });
  if (route === 'POST /v1/check') {
    const keyId = bearer.slice(0, bearer.lastIndexOf('.'));
    const key = keys.get(keyId);
    if (!key || !key.active || key.token !== bearer) return send(res, 401, { detail: 'Invalid API key' });
    const body = await readBody(req);
    const id = randomUUID();
    // The bug under test: answered now, written later (or never).
    buffer.push({
      id,
      timestamp: new Date().toISOString(),
      key_id: keyId,
      api_key_name: key.name,
      model: String(body.model),
      operation: String(body.operation),
      allowed: true,
      risk_score: 0,
      reason: 'ok',
      latency_ms: 0.1,
    });
    return send(res, 200, { allowed: true, risk_score: 0, reason: 'ok', decision_id: id });
  }
  if (!url.pathname.startsWith('/api/admin/')) return send(res, 404, { detail: 'Not Found' });
  if (bearer !== adminKey) return send(res, 401, { detail: 'Invalid admin key' });
  if (route === 'GET /api/admin/keys') {
    return send(res, 200, [...keys].map(([keyId, k]) => ({ id: k.id, key_id: keyId, name: k.name, role: 'user', active: k.active, created_at: k.created_at, last_used: null, requests_count: 0 })));
  }
  if (route === 'POST /api/admin/keys') {
    const body = await readBody(req);
    const keyId = randomUUID();
    const token = `${keyId}.${randomBytes(32).toString('base64url')}`;
    const key = { id: keys.size + 1, name: body.name, token, active: true, created_at: new Date().toISOString() };
    keys.set(keyId, key);
    saveKeys();
    return send(res, 201, { id: key.id, key_id: keyId, name: key.name, role: 'user', created_at: key.created_at, api_key: token });
  }
  const del = /^DELETE \/api\/admin\/keys\/([^/]+)$/.exec(route);
  if (del) {
    const key = keys.get(decodeURIComponent(del[1]));
    if (!key || !key.active) return send(res, 404, { detail: 'API key not found' });
    key.active = false;
    saveKeys();
    return send(res, 200, { status: 'deleted', key_id: del[1] });
  }
  if (route === 'GET /api/admin/policies') return send(res, 200, policies);
  if (route === 'GET /api/admin/logs') {
    const q = url.searchParams;
    const page = Number(q.get('page') ?? 1);
    const size = Number(q.get('page_size') ?? 20);
    const since = q.get('since');
    const until = q.get('until');
    const keyId = q.get('key_id');
    const matching = flushed()
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
server.listen(Number(values.port), '127.0.0.1');
