import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { excerpt, sanitize } from '../../../src/audit/api/evidence.js';
import { isLoopbackHost, probeApi } from '../../../src/audit/api/probe-api.js';
import { checkTransport } from '../../../src/audit/api/probes/passive.js';
import { Requester } from '../../../src/audit/api/requester.js';
import type { ProbeRun } from '../../../src/audit/api/run.js';
import { startFieldServer } from '../../helpers/field-server.js';

const fingerprintKey = new Uint8Array(32).fill(3);
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** No auth at all, versions in its headers, a reflected origin, a file path in a 404. */
async function startLeakyServer(): Promise<string> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        server: 'Werkzeug/2.3.7 Python/3.11.4',
        'x-powered-by': 'Express',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'cache-control': 'no-store',
        ...(req.headers.origin ? { 'access-control-allow-origin': req.headers.origin, 'access-control-allow-credentials': 'true' } : {}),
      };
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'OPTIONS') {
        res.writeHead(204, headers);
        return res.end();
      }
      const [status, body] =
        path === '/health'
          ? [200, { status: 'ok', version: '1.0.0', uptime_s: 3 }]
          : path === '/v1/check'
            ? [200, { allowed: true, risk_score: 0, reason: 'ok', decision_id: 'd' }]
            : path === '/api/evaluate' || path === '/api/admin/keys'
              ? [200, []]
              : [404, { detail: `Not Found: no route in /home/app/routes${path}.py` }];
      res.writeHead(status, headers);
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('probeApi on other weaknesses', () => {
  it('finds open endpoints, a reflected origin, banners, versions and file paths, once each', async () => {
    const url = await startLeakyServer();
    const result = await probeApi({ url, fingerprintKey });
    const rules = result.findings.map((f) => `${f.rule}/${f.severity}`).sort();
    expect(rules).toEqual([
      'api-accepts-invalid-key/critical',
      'api-accepts-missing-key/critical',
      'api-cors-reflects-origin/high',
      'api-error-file-path/low',
      'api-framework-banner/low',
      'api-version-disclosure/low',
    ]);
    const open = result.findings.find((f) => f.rule === 'api-accepts-missing-key')!;
    expect(open.evidence).toContain('POST /v1/check, POST /api/evaluate, GET /api/admin/keys');
    const version = result.findings.find((f) => f.rule === 'api-version-disclosure')!;
    expect(version.evidence).toContain('Server: Werkzeug/2.3.7 Python/3.11.4');
    // Default credentials prove nothing on an admin route that needs no key at all.
    expect(result.summary.probes.find((p) => p.id === 'default-credentials-refused')).toMatchObject({ status: 'skipped' });
  });

  it('reports what the client tolerated (contract deviations) and 401s without a challenge', async () => {
    const field = await startFieldServer();
    closers.push(() => field.close());
    const result = await probeApi({ url: field.url, fingerprintKey });
    const deviations = result.findings.filter((f) => f.rule === 'api-contract-deviation');
    expect(deviations.length).toBeGreaterThan(0);
    expect(deviations.every((d) => d.severity === 'info' && 'method' in d.location)).toBe(true);
    expect(deviations.map((d) => d.evidence).join('\n')).toContain('GET /health $.status: expected "ok" or "degraded", got string "healthy"');
    expect(new Set(deviations.map((d) => d.fingerprint)).size).toBe(deviations.length);
    expect(result.findings.filter((f) => f.rule === 'api-401-without-www-authenticate')).toHaveLength(1);
    // Routes the field server lacks are noted, not reported.
    expect(result.summary.probes.find((p) => p.id === 'auth-required')?.note).toContain('POST /v1/check');
  });
});

describe('transport and hosts', () => {
  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.8.9.10', 'localhost', '[::1]', '[::ffff:7f00:1]']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['10.0.0.1', 'example.com', '[::2]', '128.0.0.1', 'localhost.example.com']) expect(isLoopbackHost(h)).toBe(false);
  });

  it('flags plain HTTP to a non-loopback host as high, and not HTTPS', async () => {
    const make = (url: string, loopback: boolean): ProbeRun => {
      const u = new URL(url);
      return {
        req: new Requester(u, { baseUrl: url }, 10),
        fingerprintKey,
        secrets: [],
        https: u.protocol === 'https:',
        loopback,
        findings: [],
        outcomes: [],
        progress: () => undefined,
      };
    };
    const plain = make('http://gov.example.com:8080', false);
    checkTransport(plain);
    expect(plain.findings.map((f) => [f.rule, f.severity])).toEqual([['api-plain-http', 'high']]);
    expect(plain.findings[0]!.location).toEqual({ method: 'GET', url: 'http://gov.example.com:8080/' });
    const tls = make('https://gov.example.com', false);
    checkTransport(tls);
    expect(tls.findings).toEqual([]);
    await Promise.all([plain.req.close(), tls.req.close()]);
  });
});

describe('evidence', () => {
  it('redacts tokens, bearer values, secret fields and known secrets, and clips to 300 characters', () => {
    const token = '0b6f3c1e-2a4d-4f5e-9a8b-7c6d5e4f3a2b.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ';
    const text = sanitize(`{"api_key":"${token}","note":"Bearer sk-live-123456","x":"static-admin-key-value"}`, ['static-admin-key-value']);
    expect(text).not.toContain('abcdefghijklmnop');
    expect(text).not.toContain('sk-live-123456');
    expect(text).not.toContain('static-admin-key-value');
    expect(excerpt('y'.repeat(5000))).toHaveLength(300);
  });
});
