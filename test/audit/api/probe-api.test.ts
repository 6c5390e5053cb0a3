import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probeApi } from '../../../src/audit/api/probe-api.js';
import type { AuditEvent } from '../../../src/audit/types.js';
import { GovernanceClient } from '../../../src/client/governance-client.js';
import { UnreachableError, UsageError } from '../../../src/core/errors.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { startWeakServer, type WeakServer } from '../../helpers/weak-server.js';

const fingerprintKey = new Uint8Array(32).fill(7);
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function weak(): Promise<WeakServer> {
  const server = await startWeakServer();
  closers.push(() => server.close());
  return server;
}

async function reference(): Promise<TestServer> {
  const server = await startTestServer({ rateLimit: { limit: 10, windowMs: 60_000 } });
  closers.push(() => server.close());
  return server;
}

const countByRule = (findings: Array<{ rule: string }>) => {
  const counts: Record<string, number> = {};
  for (const f of findings) counts[f.rule] = (counts[f.rule] ?? 0) + 1;
  return counts;
};

/** Every key the audit created and has not revoked, seen through the admin API. */
async function activeProbeKeys(url: string, adminKey: string): Promise<string[]> {
  const client = new GovernanceClient({ baseUrl: url, adminKey });
  try {
    return (await client.listKeys()).filter((k) => k.name === 'govctl-audit-probe' && k.active !== false).map((k) => String(k.key_id));
  } finally {
    await client.close();
  }
}

describe('probeApi against a deliberately weak server', () => {
  it('finds each weakness exactly once, within the budget, and revokes its key', async () => {
    const server = await weak();
    const result = await probeApi({ url: server.url, adminToken: server.adminKey, fingerprintKey });
    expect(countByRule(result.findings)).toEqual({
      'api-default-admin-credential': 1,
      'api-no-rate-limit': 1,
      'api-error-stack-trace': 1,
      'api-malformed-input-5xx': 1,
      'api-cors-wildcard-credentials': 1,
      'api-metrics-not-prometheus': 1,
      'api-missing-x-content-type-options': 1,
      'api-missing-frame-protection': 1,
      'api-key-response-cacheable': 1,
    });
    const byRule = Object.fromEntries(result.findings.map((f) => [f.rule, f]));
    expect(byRule['api-default-admin-credential']!.severity).toBe('critical');
    expect(byRule['api-default-admin-credential']!.evidence).toContain('"admin-secret-key-change-in-prod"');
    expect(byRule['api-error-stack-trace']!.evidence).toMatch(/Traceback \(most recent call last\)/);
    expect(byRule['api-cors-wildcard-credentials']!.evidence).toMatch(/Access-Control-Allow-Credentials: true/);
    for (const f of result.findings) {
      expect(f.category).toBe('api');
      expect(f.location).toMatchObject({ url: expect.stringContaining(server.url) });
      expect(f.id).toBe(`${f.rule}:${f.fingerprint.slice(0, 8)}`);
      expect(f.evidence.length).toBeLessThan(1200);
      expect(f.remediation).not.toBe('');
    }
    // Never a whole key in a report.
    const text = JSON.stringify(result);
    for (const { token } of server.keys.values()) expect(text).not.toContain(token.split('.')[1]);
    expect(result.summary.requests).toBe(server.requests);
    expect(result.summary.requests).toBeLessThanOrEqual(300);
    expect([...server.keys.values()].every((k) => !k.active)).toBe(true);
    expect(result.partial).toBeUndefined();
  });

  it('fingerprints do not depend on the port', async () => {
    const a = await weak();
    const b = await weak();
    const [ra, rb] = [await probeApi({ url: a.url, adminToken: a.adminKey, fingerprintKey }), await probeApi({ url: b.url, adminToken: b.adminKey, fingerprintKey })];
    expect(ra.findings.map((f) => f.fingerprint).sort()).toEqual(rb.findings.map((f) => f.fingerprint).sort());
  });

  it('stops at the request budget, says so, and still revokes its key', async () => {
    const server = await weak();
    const events: AuditEvent[] = [];
    const result = await probeApi({ url: server.url, adminToken: server.adminKey, fingerprintKey, maxRequests: 40, onEvent: (e) => events.push(e) });
    expect(server.requests).toBeLessThanOrEqual(40);
    expect(result.summary.requests).toBe(server.requests);
    expect(result.summary.probes.filter((p) => p.status === 'skipped' && /budget/.test(p.note ?? '')).length).toBeGreaterThan(0);
    expect(events.some((e) => e.type === 'warning' && /budget/.test(e.message))).toBe(true);
    expect([...server.keys.values()].every((k) => !k.active)).toBe(true);
    // Without a rate-limit run, no conclusion about it.
    expect(result.findings.some((f) => f.rule === 'api-no-rate-limit')).toBe(false);
  });
});

describe('probeApi against the reference server', () => {
  it('reports nothing, and revokes its key', async () => {
    const server = await reference();
    const result = await probeApi({ url: server.url, adminToken: server.adminToken, fingerprintKey });
    expect(result.findings).toEqual([]);
    const statuses = Object.fromEntries(result.summary.probes.map((p) => [p.id, p.status]));
    expect(statuses).toMatchObject({
      'auth-required': 'passed',
      'admin-requires-admin-role': 'passed',
      'default-credentials-refused': 'passed',
      'rate-limit-engages': 'passed',
      'forbidden-content-rejected': 'passed',
      'malformed-input-4xx': 'passed',
      'no-information-leaks': 'passed',
      'security-headers': 'passed',
      'no-version-disclosure': 'passed',
      'cors-restricted': 'passed',
      'metrics-prometheus-text': 'passed',
      'transport-encrypted': 'passed',
      'contract-deviations': 'passed',
      'temporary-user-key': 'passed',
    });
    expect(result.summary.requests).toBeLessThanOrEqual(300);
    expect(await activeProbeKeys(server.url, server.adminToken)).toEqual([]);
  });

  it('without the admin token, skips the user-key probes and says why', async () => {
    const server = await reference();
    const result = await probeApi({ url: server.url, fingerprintKey });
    expect(result.findings).toEqual([]);
    const skipped = result.summary.probes.filter((p) => p.status === 'skipped').map((p) => p.id);
    expect(skipped).toEqual(expect.arrayContaining(['admin-requires-admin-role', 'rate-limit-engages', 'forbidden-content-rejected', 'malformed-input-4xx']));
  });

  it('a refused admin token is said plainly; the probes without a user key still run', async () => {
    const server = await reference();
    const events: AuditEvent[] = [];
    const result = await probeApi({ url: server.url, adminToken: 'not-the-admin-key', fingerprintKey, onEvent: (e) => events.push(e) });
    expect(result.findings).toEqual([]);
    expect(result.summary.probes.find((p) => p.id === 'temporary-user-key')).toMatchObject({ status: 'failed', note: expect.stringContaining('401') });
    expect(events.some((e) => e.type === 'warning' && /temporary user key/.test(e.message))).toBe(true);
    expect(JSON.stringify({ result, events })).not.toContain('not-the-admin-key');
  });

  it('on abort returns what it found as partial and revokes the key it created', async () => {
    const server = await reference();
    const abort = new AbortController();
    const result = await probeApi({
      url: server.url,
      adminToken: server.adminToken,
      fingerprintKey,
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'progress' && /forbidden content/.test(e.message)) abort.abort();
      },
    });
    expect(result.partial).toBe(true);
    expect(result.summary.probes.find((p) => p.id === 'rate-limit-engages')).toBeUndefined();
    expect(result.summary.probes.find((p) => p.id === 'auth-required')?.status).toBe('passed');
    expect(await activeProbeKeys(server.url, server.adminToken)).toEqual([]);
  });
});

describe('probeApi refuses and fails plainly', () => {
  it('refuses a non-loopback host without allowRemote (exit 2), before any request', async () => {
    const err = await probeApi({ url: 'http://192.0.2.10:8080', fingerprintKey }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as Error).message).toContain('192.0.2.10');
    expect((err as UsageError).hint).toContain('--allow-remote');
  });

  it('an unreachable URL is an UnreachableError naming host and cause', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await probeApi({ url: `http://127.0.0.1:${port}`, fingerprintKey }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    expect((err as Error).message).toMatch(/refused/);
  });

  it('a listener that never answers times out, naming the host', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          silent.close(() => resolve());
        }),
    );
    const port = (silent.address() as AddressInfo).port;
    const err = await probeApi({ url: `http://127.0.0.1:${port}`, fingerprintKey, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as UnreachableError).exitCode).toBe(3);
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    expect((err as Error).message).toMatch(/timed out/);
  });
});
