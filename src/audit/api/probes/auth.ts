import { randomBytes, randomUUID } from 'node:crypto';
import { DEFAULT_ADMIN_CREDENTIALS } from '../../../core/default-credentials.js';
import { headerOf, type Exchange, type RawRequest } from '../requester.js';
import { addFinding, bearer, isSuccess, json, outcome, settle, type ProbeRun, userTokenFor } from '../run.js';

/** The protected endpoints, each with a body it would accept from a good key. */
export const PROTECTED: ReadonlyArray<{ method: string; path: string; body?: string }> = [
  { method: 'POST', path: '/v1/check', body: JSON.stringify({ model: 'govctl-audit', operation: 'auth-probe' }) },
  { method: 'POST', path: '/api/evaluate', body: '{}' },
  { method: 'GET', path: '/api/admin/keys' },
];

const ADMIN_KEYS = '/api/admin/keys';
const REFS = ['https://cwe.mitre.org/data/definitions/306.html'];

/** The credentials each protected endpoint must refuse, named for the evidence. */
function badCredentials(run: ProbeRun): Array<{ name: string; headers: Record<string, string> }> {
  const secret = randomBytes(32).toString('base64url');
  const list = [
    { name: 'no key', headers: {} },
    { name: 'not a Bearer scheme', headers: { authorization: `Basic ${Buffer.from('govctl:audit').toString('base64')}` } },
    { name: 'a token without a dot', headers: bearer(`govctlaudit${secret}`) },
    { name: 'an unknown key id', headers: bearer(`${randomUUID()}.${secret}`) },
  ];
  if (run.knownKeyId !== undefined) list.push({ name: 'a known key id with a wrong secret', headers: bearer(`${run.knownKeyId}.${secret}`) });
  return list;
}

/**
 * Probe 1: every protected endpoint refuses a missing or malformed key with 401 and
 * `WWW-Authenticate: Bearer`. One finding per distinct weakness, not one per request.
 * Returns whether GET /api/admin/keys let a request without a key through (the default
 * credential probe then has nothing to prove).
 */
export async function probeAuthentication(run: ProbeRun): Promise<{ adminOpen: boolean }> {
  const id = 'auth-required';
  const title = 'protected endpoints refuse missing and malformed keys with 401';
  run.progress(title);
  const before = run.findings.length;
  const accepted: Array<{ e: Exchange; what: string }> = [];
  const wrongStatus: Array<{ e: Exchange; what: string }> = [];
  const noChallenge: Exchange[] = [];
  const absent: string[] = [];
  let adminOpen = false;
  const credentials = badCredentials(run);
  for (const endpoint of PROTECTED) {
    for (const credential of credentials) {
      const req: RawRequest = { method: endpoint.method, path: endpoint.path, headers: { ...credential.headers } };
      if (endpoint.body !== undefined) Object.assign(req, { body: endpoint.body, headers: { ...req.headers, ...json } });
      const e = await run.req.send(req);
      if (e.status === undefined) continue;
      // A route the server does not have (404/405 without a key) is not a weakness of its auth.
      if ((e.status === 404 || e.status === 405) && credential.name === 'no key') {
        absent.push(`${endpoint.method} ${endpoint.path}`);
        break;
      }
      if (isSuccess(e)) {
        accepted.push({ e, what: credential.name });
        if (credential.name === 'no key' && endpoint.path === ADMIN_KEYS) adminOpen = true;
      } else if (e.status !== 401) {
        wrongStatus.push({ e, what: credential.name });
      } else if (!/^\s*bearer\b/i.test(headerOf(e, 'www-authenticate') ?? '')) {
        noChallenge.push(e);
      }
    }
  }
  const missing = accepted.filter((a) => a.what === 'no key');
  const malformed = accepted.filter((a) => a.what !== 'no key');
  if (missing.length > 0) {
    addFinding(run, {
      rule: 'api-accepts-missing-key',
      severity: 'critical',
      title: 'Protected endpoint accepts requests without an API key',
      at: missing[0]!.e,
      lead: `answered 2xx without a key on: ${missing.map((a) => `${a.e.method} ${a.e.path}`).join(', ')}`,
      show: { show: ['content-type'] },
      remediation: 'Require a valid API key on every decision and admin route; answer 401 with WWW-Authenticate: Bearer when it is missing.',
      cwe: 'CWE-306',
      references: REFS,
    });
  }
  if (malformed.length > 0) {
    addFinding(run, {
      rule: 'api-accepts-invalid-key',
      severity: 'critical',
      title: 'Protected endpoint accepts malformed or unknown API keys',
      at: malformed[0]!.e,
      lead: `answered 2xx to: ${[...new Set(malformed.map((a) => `${a.what} (${a.e.method} ${a.e.path})`))].join(', ')}`,
      show: { show: ['content-type'] },
      remediation: 'Parse the token as <key_id>.<secret>, look the key id up, compare the secret in constant time, and refuse anything else with 401.',
      cwe: 'CWE-287',
    });
  }
  if (wrongStatus.length > 0) {
    const statuses = [...new Set(wrongStatus.map((w) => w.e.status))].join(', ');
    addFinding(run, {
      rule: 'api-auth-wrong-status',
      severity: wrongStatus.some((w) => (w.e.status ?? 0) >= 500) ? 'medium' : 'low',
      title: 'Missing or malformed API keys are refused with a status other than 401',
      at: wrongStatus[0]!.e,
      lead: `answered ${statuses} instead of 401 to ${wrongStatus.length} of the requests with ${[...new Set(wrongStatus.map((w) => w.what))].join(', ')}`,
      remediation: 'Answer 401 (with WWW-Authenticate: Bearer) to a missing, malformed or unknown key; keep 403 for a valid key without the permission.',
      cwe: 'CWE-287',
    });
  }
  if (noChallenge.length > 0) {
    addFinding(run, {
      rule: 'api-401-without-www-authenticate',
      severity: 'low',
      title: '401 answers lack WWW-Authenticate: Bearer',
      at: noChallenge[0]!,
      lead: `${noChallenge.length} 401 answers without a Bearer challenge`,
      show: { show: ['www-authenticate'] },
      remediation: 'Send WWW-Authenticate: Bearer with every 401 (RFC 6750), so clients know how to authenticate.',
    });
  }
  settle(run, id, title, before, absent.length > 0 ? `not served (404/405): ${absent.join(', ')}` : undefined);
  return { adminOpen };
}

/** Probe 2: a user key on an admin route gets 403. */
export async function probeUserKeyOnAdmin(run: ProbeRun): Promise<void> {
  const id = 'admin-requires-admin-role';
  const title = 'a user key on an admin route gets 403';
  const token = userTokenFor(run, id, title);
  if (token === undefined) return;
  run.progress(title);
  const before = run.findings.length;
  const e = await run.req.send({ method: 'GET', path: ADMIN_KEYS, headers: bearer(token) });
  if (isSuccess(e)) {
    addFinding(run, {
      rule: 'api-user-key-on-admin-route',
      severity: 'critical',
      title: 'A user API key is accepted on an admin route',
      at: e,
      show: { show: ['content-type'] },
      remediation: 'Check the key role on every /api/admin route and answer 403 "Admin access required" to a user key.',
      cwe: 'CWE-285',
    });
  }
  const note = e.status === undefined ? `no answer: ${e.error}` : e.status === 403 ? undefined : `answered ${e.status} (the contract says 403)`;
  settle(run, id, title, before, note);
}

/** How many defaults are also tried in the API-key headers FastAPI-style servers read. */
const HEADER_VARIANTS = 3;

/**
 * Probe 3: well-known default admin credentials are refused. Each default goes as the static
 * ADMIN_API_KEY form field servers use (`Authorization: Bearer <key>`); the governance
 * server's documented default and its short forms also go in `X-API-Key` and `X-Admin-Key`,
 * the headers FastAPI's APIKeyHeader examples use. Bounded: list + 2 x HEADER_VARIANTS requests.
 */
export async function probeDefaultCredentials(run: ProbeRun, adminOpen: boolean): Promise<void> {
  const id = 'default-credentials-refused';
  const title = 'well-known default admin credentials are refused';
  if (adminOpen) {
    outcome(run, id, title, 'skipped', 'the admin route accepts requests without any key (see api-accepts-missing-key)');
    return;
  }
  run.progress(title);
  const before = run.findings.length;
  const attempts: Array<{ value: string; header: string; headers: Record<string, string> }> = DEFAULT_ADMIN_CREDENTIALS.map((value) => ({
    value,
    header: 'Authorization: Bearer',
    headers: bearer(value),
  }));
  for (const value of DEFAULT_ADMIN_CREDENTIALS.slice(0, HEADER_VARIANTS)) {
    attempts.push({ value, header: 'X-API-Key', headers: { 'x-api-key': value } });
    attempts.push({ value, header: 'X-Admin-Key', headers: { 'x-admin-key': value } });
  }
  const accepted: Array<{ value: string; header: string; e: Exchange }> = [];
  for (const attempt of attempts) {
    const e = await run.req.send({ method: 'GET', path: ADMIN_KEYS, headers: attempt.headers });
    if (isSuccess(e)) accepted.push({ value: attempt.value, header: attempt.header, e });
    if (e.status === 404 || e.status === 405) {
      outcome(run, id, title, 'skipped', `GET ${ADMIN_KEYS} is not served (${e.status})`);
      return;
    }
  }
  if (accepted.length > 0) {
    const named = accepted.map((a) => `"${a.value}" (${a.header})`).join(', ');
    addFinding(run, {
      rule: 'api-default-admin-credential',
      severity: 'critical',
      title: 'The server accepts a well-known default admin credential',
      at: accepted[0]!.e,
      lead: `admin access granted with the public default ${named}`,
      show: { show: ['content-type'] },
      remediation: 'Set ADMIN_API_KEY (or the bootstrap admin key) to a long random value (e.g. openssl rand -base64 32), rotate it, and refuse to start with a known default.',
      cwe: 'CWE-1392',
      references: ['https://cwe.mitre.org/data/definitions/1392.html'],
    });
  }
  settle(run, id, title, before, `${attempts.length} defaults tried`);
}
