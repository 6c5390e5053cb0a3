import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditConfig } from '../../../src/audit/config/audit-config.js';
import type { AuditEvent, ConfigAuditResult } from '../../../src/audit/types.js';
import type { ConfigLocation } from '../../../src/core/findings.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/audit/config/', import.meta.url));
const KEY = new Uint8Array(32).fill(3);
const strong = (): string => randomBytes(32).toString('base64url');

/** "severity rule key_path:line" per finding, in report order. */
function summarise(result: ConfigAuditResult): string[] {
  return result.findings.map((f) => {
    const l = f.location as ConfigLocation;
    return `${f.severity} ${f.rule} ${l.key_path}:${l.line ?? '-'}`;
  });
}

async function audit(file: string, env: Record<string, string | undefined> = {}, environment?: string): Promise<ConfigAuditResult & { warnings: string[] }> {
  const warnings: string[] = [];
  const onEvent = (e: AuditEvent): void => {
    if (e.type === 'warning') warnings.push(e.message);
  };
  const result = await auditConfig({ file, env, fingerprintKey: KEY, onEvent, ...(environment !== undefined ? { environment } : {}) });
  return { ...result, warnings };
}

describe('audit --config: a hardened configuration', () => {
  let dir: string;
  const env = { ADMIN_API_KEY: strong(), SECRET_KEY: strong(), JWT_SECRET: strong(), GOVERNANCE_ADMIN_KEY: strong(), DATABASE_URL: `postgresql://gov:${strong()}@db.internal/governance` };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-audit-config-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('YAML and JSON with secrets from the environment: no findings', async () => {
    for (const name of ['hardened.yaml', 'hardened.json']) {
      const result = await audit(join(FIXTURES, name), env, 'production');
      expect(summarise(result), name).toEqual([]);
      expect(result.warnings, name).toEqual([]);
      expect(result.summary).toMatchObject({ format: name.endsWith('json') ? 'json' : 'yaml', environment: 'production', checks: 15 });
    }
  });

  it('.env with literal secrets, by name and by content sniffing: no findings', async () => {
    const text = [
      '# production',
      'ENVIRONMENT=production',
      'export AUTH_ENABLED=true',
      'RATE_LIMIT_ENABLED=1',
      'RATE_LIMIT_WINDOW_SECONDS=60',
      'RATE_LIMIT_MAX_REQUESTS=100',
      'REDIS_URL=rediss://cache.internal:6380',
      'REDIS_REQUIRED=yes',
      'REDIS_ALLOW_FALLBACK=false',
      'USE_FAKE_REDIS=false',
      'MONITORING_QUEUE_DEPTH_WARN=5000',
      'ALLOWED_ORIGINS=["https://app.example.com","https://admin.example.com"]',
      'DEBUG=false',
      'DATABASE_URL=postgresql://gov@db.internal:5432/governance',
      `ADMIN_API_KEY="${strong()}"`,
      `JWT_SECRET_KEY='${randomBytes(32).toString('hex')}'`,
      '',
    ].join('\n');
    for (const name of ['.env', 'production.env', '.env.production', 'governance.conf']) {
      await writeFile(join(dir, name), text);
      const result = await audit(join(dir, name), {}, 'prod');
      expect(summarise(result), name).toEqual([]);
      expect(result.summary.format, name).toBe('env');
      expect(result.summary.environment).toBe('production');
    }
  });

  it('sniffs YAML in a file without an extension', async () => {
    await writeFile(join(dir, 'settings'), 'auth:\n  enabled: false\n');
    const result = await audit(join(dir, 'settings'), { ADMIN_API_KEY: strong(), SECRET_KEY: strong() });
    expect(result.summary.format).toBe('yaml');
    expect(summarise(result)).toEqual(['critical config-auth-disabled auth.enabled:2', 'low config-queue-depth-warn-unset monitoring.queue_depth_warn:-']);
  });
});

describe('audit --config: a weak configuration', () => {
  it('YAML in production: each weakness once, at its line', async () => {
    const result = await audit(join(FIXTURES, 'weak.yaml'), {}, 'production');
    expect(summarise(result)).toEqual([
      'critical config-auth-disabled auth.enabled:4',
      'critical config-admin-key-default admin_api_key:23',
      'high config-debug-enabled debug:2',
      'high config-rate-limit-disabled rate_limit.enabled:6',
      'high config-redis-fallback redis.allow_fallback:12',
      'high config-fake-redis redis.use_fake_redis:13',
      'high config-cors-wildcard cors.origins:20',
      'high config-sqlite-database database.url:22',
      'high config-signing-secret-weak secret_key:24',
      'medium config-environment-mismatch environment:1',
      'medium config-rate-limit-unreasonable rate_limit.window_seconds:7',
      'medium config-rate-limit-unreasonable rate_limit.max_requests:8',
      'medium config-redis-without-tls redis.url:10',
      'medium config-url-inline-password redis.url:10',
      'medium config-redis-not-required redis.required:11',
      'low config-queue-depth-warn-unset monitoring.queue_depth_warn:15',
    ]);
    const admin = result.findings.find((f) => f.rule === 'config-admin-key-default')!;
    expect(admin).toMatchObject({ category: 'config', cwe: 'CWE-1392', title: 'Admin API key is a well-known default' });
    expect(admin.location).toEqual({ file: join(FIXTURES, 'weak.yaml'), key_path: 'admin_api_key', line: 23 });
    // The documented default is public: naming it is the point. The redis password is not.
    expect(admin.evidence).toBe('admin_api_key is set to a well-known default (admin-secret-key-change-in-prod)');
    expect(result.findings.find((f) => f.rule === 'config-url-inline-password')!.evidence).toBe('redis.url = redis://:****@cache.internal:6379/0');
    expect(result.findings.find((f) => f.rule === 'config-signing-secret-weak')!.evidence).toBe('secret_key: length 9, shorter than 32 characters');
    expect(JSON.stringify(result)).not.toMatch(/example-password|short-key/);
    for (const f of result.findings) expect(f.remediation.length, f.rule).toBeGreaterThan(20);
  });

  it('YAML outside production: fallbacks, fake Redis, SQLite and debug are only info; no TLS or mismatch findings', async () => {
    const result = await audit(join(FIXTURES, 'weak.yaml'));
    expect(result.summary.environment).toBe('development');
    expect(summarise(result)).toEqual([
      'critical config-auth-disabled auth.enabled:4',
      'critical config-admin-key-default admin_api_key:23',
      'high config-rate-limit-disabled rate_limit.enabled:6',
      'high config-cors-wildcard cors.origins:20',
      'high config-signing-secret-weak secret_key:24',
      'medium config-rate-limit-unreasonable rate_limit.window_seconds:7',
      'medium config-rate-limit-unreasonable rate_limit.max_requests:8',
      'medium config-url-inline-password redis.url:10',
      'low config-queue-depth-warn-unset monitoring.queue_depth_warn:15',
      'info config-debug-enabled debug:2',
      'info config-redis-not-required redis.required:11',
      'info config-redis-fallback redis.allow_fallback:12',
      'info config-fake-redis redis.use_fake_redis:13',
      'info config-sqlite-database database.url:22',
    ]);
  });

  it('.env naming production itself: flat names, quotes, comments, a literal single-quoted ${...}', async () => {
    const result = await audit(join(FIXTURES, 'weak.env'));
    expect(result.summary).toMatchObject({ format: 'env', environment: 'production' });
    expect(summarise(result)).toEqual([
      'critical config-auth-disabled AUTH_ENABLED:3',
      'critical config-admin-key-default ADMIN_API_KEY:15',
      'high config-rate-limit-disabled RATE_LIMIT_ENABLED:4',
      'high config-fake-redis USE_FAKE_REDIS:7',
      'high config-redis-fallback REDIS_ALLOW_FALLBACK:8',
      'high config-debug-enabled DEBUG:12',
      'high config-signing-secret-weak SECRET_KEY:16',
      'medium config-redis-not-required REDIS_REQUIRED:9',
      'medium config-cors-wildcard CORS_ORIGINS:11',
      'medium config-url-inline-password DATABASE_URL:13',
      'medium config-redis-without-tls REDIS_URL:14',
    ]);
    expect(JSON.stringify(result)).not.toContain('example-password');
  });

  it('JSON with a wrapper section, camelCase keys and a ${VAR:-default} fallback', async () => {
    const result = await audit(join(FIXTURES, 'weak.json'));
    expect(summarise(result)).toEqual([
      'critical config-auth-disabled server.auth.enabled:3',
      'critical config-admin-key-default server.adminKey:5',
      'critical config-signing-secret-default JWT_SECRET:8',
      'medium config-rate-limit-unreasonable server.rateLimit.maxRequests:4',
    ]);
    expect(result.summary.environment).toBeUndefined();
  });

  it('an ENVIRONMENT that names development while production is audited is a mismatch', async () => {
    const result = await audit(join(FIXTURES, 'weak.env'), {}, 'development');
    expect(summarise(result)).toContain('medium config-environment-mismatch ENVIRONMENT:2');
    expect(result.summary.environment).toBe('development');
    expect(summarise(result)).toContain('info config-debug-enabled DEBUG:12');
  });
});

describe('audit --config: fingerprints', () => {
  it('are stable across "./" and line moves, and unique per rule and key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'govctl-audit-fp-'));
    try {
      await mkdir(join(dir, 'sub'));
      await writeFile(join(dir, 'a.yaml'), 'auth:\n  enabled: false\n');
      await writeFile(join(dir, 'b.yaml'), '# moved down\n\nauth:\n  enabled: false\n');
      const env = { ADMIN_API_KEY: strong(), SECRET_KEY: strong() };
      const a = await audit(join(dir, 'a.yaml'), env);
      const a2 = await audit(`${dir}/./sub/../a.yaml`, env);
      expect(a2.findings.map((f) => f.fingerprint)).toEqual(a.findings.map((f) => f.fingerprint));
      // A relative path (as the cli passes it) is kept as given in the location.
      const rel = await audit('test/fixtures/audit/config/weak.json');
      const dotRel = await audit('./test/fixtures/audit/config/weak.json');
      expect(dotRel.findings.map((f) => f.fingerprint)).toEqual(rel.findings.map((f) => f.fingerprint));
      expect((dotRel.findings[0]!.location as ConfigLocation).file).toBe('./test/fixtures/audit/config/weak.json');
      // Same content in another file: a different finding; same file with lines moved: the same.
      const b = await audit(join(dir, 'b.yaml'), env);
      expect(b.findings[0]!.fingerprint).not.toBe(a.findings[0]!.fingerprint);
      await writeFile(join(dir, 'a.yaml'), '# moved down\n\nauth:\n  enabled: false\n');
      const moved = await audit(join(dir, 'a.yaml'), env);
      expect((moved.findings[0]!.location as ConfigLocation).line).toBe(4);
      expect(moved.findings[0]!.fingerprint).toBe(a.findings[0]!.fingerprint);
      const weak = await audit(join(FIXTURES, 'weak.yaml'), {}, 'production');
      expect(new Set(weak.findings.map((f) => f.id)).size).toBe(weak.findings.length);
      expect(weak.findings.every((f) => f.id === `${f.rule}:${f.fingerprint.slice(0, 8)}` && /^[0-9a-f]{32}$/.test(f.fingerprint))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
