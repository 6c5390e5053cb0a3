import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditConfig } from '../../../src/audit/config/audit-config.js';
import type { ConfigLocation, Finding } from '../../../src/core/findings.js';

const KEY = new Uint8Array(32).fill(5);
const strong = (): string => randomBytes(32).toString('base64url');
const SIGNING = strong();

/** Secrets in a configuration may live in the environment: `${VAR}`, `${VAR:-default}`, `*_env: NAME`, or nowhere in the file. */
describe('audit --config: secrets referenced from the environment', () => {
  let dir: string;
  let n = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-audit-env-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** Audits a YAML body (plus queue depth, so only the admin key can be at fault) and returns its admin-key findings. */
  async function adminFindings(yaml: string, env: Record<string, string | undefined>): Promise<Finding[]> {
    const file = join(dir, `c${n++}.yaml`);
    await writeFile(file, `monitoring:\n  queue_depth_warn: 100\nsecret_key: \${SECRET_KEY}\n${yaml}`);
    const result = await auditConfig({ file, env: { SECRET_KEY: SIGNING, ...env }, fingerprintKey: KEY });
    expect(result.findings.filter((f) => !f.rule.startsWith('config-admin-key'))).toEqual([]);
    return result.findings;
  }
  const brief = (f: Finding): string => `${f.severity} ${f.rule} ${(f.location as ConfigLocation).key_path}:${(f.location as ConfigLocation).line ?? '-'} ${f.evidence}`;

  it('resolves ${VAR} from the environment: strong is clean, a default is critical, unset is missing', async () => {
    expect(await adminFindings('admin_api_key: ${ADMIN_API_KEY}\n', { ADMIN_API_KEY: strong() })).toEqual([]);
    expect((await adminFindings('admin_api_key: ${ADMIN_API_KEY}\n', { ADMIN_API_KEY: 'Admin-Secret-Key-Change-In-Prod' })).map(brief)).toEqual([
      'critical config-admin-key-default admin_api_key:4 admin_api_key (from ADMIN_API_KEY) is set to a well-known default (admin-secret-key-change-in-prod)',
    ]);
    expect((await adminFindings('admin_api_key: ${ADMIN_API_KEY}\n', {})).map(brief)).toEqual([
      'high config-admin-key-missing admin_api_key:4 admin_api_key references ${ADMIN_API_KEY}, which is not set in the environment',
    ]);
  });

  it('a ${VAR:-default} whose default is a known one is a finding even when the environment overrides it', async () => {
    expect((await adminFindings('admin_api_key: "${ADMIN_API_KEY:-changeme}"\n', { ADMIN_API_KEY: strong() })).map(brief)).toEqual([
      'critical config-admin-key-default admin_api_key:4 admin_api_key falls back to a well-known default (changeme) when ADMIN_API_KEY is unset',
    ]);
    expect((await adminFindings('admin_api_key: "${ADMIN_API_KEY:-changeme}"\n', {})).map(brief)).toEqual([
      'critical config-admin-key-default admin_api_key:4 admin_api_key (default of ${ADMIN_API_KEY:-…}) is set to a well-known default (changeme)',
    ]);
    // ":-" takes the default for an empty variable too; a strong default is fine.
    const fallback = strong();
    expect(await adminFindings(`admin_api_key: "\${ADMIN_API_KEY:-${fallback}}"\n`, { ADMIN_API_KEY: '' })).toEqual([]);
  });

  it('a *_env key names the variable that holds the secret', async () => {
    expect(await adminFindings('auth:\n  admin_api_key_env: GOV_ADMIN\n', { GOV_ADMIN: strong() })).toEqual([]);
    expect((await adminFindings('auth:\n  admin_api_key_env: GOV_ADMIN\n', { GOV_ADMIN: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' })).map(brief)).toEqual([
      'high config-admin-key-weak auth.admin_api_key_env:5 GOV_ADMIN (named by auth.admin_api_key_env): length 40, low entropy (0.0 bits per character, at least 3 expected)',
    ]);
    expect((await adminFindings('auth:\n  admin_api_key_env: GOV_ADMIN\n', {})).map(brief)).toEqual([
      'high config-admin-key-missing auth.admin_api_key_env:5 auth.admin_api_key_env names GOV_ADMIN, which is not set in the environment',
    ]);
  });

  it('a file silent about the secret: the usual variable of the environment is judged, else it is missing', async () => {
    expect(await adminFindings('', { ADMIN_API_KEY: strong() })).toEqual([]);
    expect((await adminFindings('', { ADMIN_API_KEY: 'admin' })).map(brief)).toEqual([
      'critical config-admin-key-default ADMIN_API_KEY:- ADMIN_API_KEY (from the environment; the file does not set it) is set to a well-known default (admin)',
    ]);
    expect((await adminFindings('', {})).map(brief)).toEqual([
      'high config-admin-key-missing admin_api_key:- not set in the file, nor in the environment (ADMIN_API_KEY)',
    ]);
  });

  it('finds an admin key nested anywhere by its unambiguous name, and leaves other sections\' secret_key alone', async () => {
    expect((await adminFindings('aws:\n  secret_key: short\nsecurity:\n  tokens:\n    admin_api_key: admin\n', {})).map(brief)).toEqual([
      'critical config-admin-key-default security.tokens.admin_api_key:8 security.tokens.admin_api_key is set to a well-known default (admin)',
    ]);
  });

  it('never puts a secret that is not a public default in evidence', async () => {
    const weak = 'Tr0ub4dor&3-horse';
    const file = join(dir, 'secrets.env');
    await writeFile(file, `ADMIN_API_KEY=${weak}\nJWT_SECRET=\${JWT}\nDATABASE_URL=postgresql://gov:${weak}@db/gov\nMONITORING_QUEUE_DEPTH_WARN=10\n`);
    const result = await auditConfig({ file, env: { JWT: weak }, fingerprintKey: KEY });
    expect(result.findings.map((f) => f.rule).sort()).toEqual(['config-admin-key-weak', 'config-signing-secret-weak', 'config-url-inline-password']);
    expect(JSON.stringify(result)).not.toContain('Tr0ub');
  });

  it('resolves references in ordinary settings too, and says when one cannot be resolved', async () => {
    const file = join(dir, 'flags.yaml');
    await writeFile(file, `auth:\n  enabled: \${AUTH_ENABLED:-true}\ndebug: \${DEBUG}\nadmin_api_key: ${strong()}\nsecret_key: \${SECRET_KEY}\nmonitoring:\n  queue_depth_warn: 1\n`);
    const warnings: string[] = [];
    const onEvent = (e: { type: string; message?: string }): void => void (e.type === 'warning' && warnings.push(e.message!));
    const off = await auditConfig({ file, env: { AUTH_ENABLED: 'false', SECRET_KEY: SIGNING }, environment: 'production', fingerprintKey: KEY, onEvent });
    expect(off.findings.map((f) => `${f.rule} ${f.evidence}`)).toEqual(['config-auth-disabled auth.enabled = false (from AUTH_ENABLED)']);
    expect(warnings).toEqual([`${file}: debug references \${DEBUG}, which is not set in the environment: not checked`]);
    const on = await auditConfig({ file, env: { SECRET_KEY: SIGNING, DEBUG: 'true' }, environment: 'production', fingerprintKey: KEY });
    expect(on.findings.map((f) => `${f.severity} ${f.rule}`)).toEqual(['high config-debug-enabled']);
  });
});
