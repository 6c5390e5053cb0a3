import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ADMIN_CREDENTIALS } from '../../src/core/default-credentials.js';
import { loadSecretRules, type SecretRuleSet } from '../../src/scan/rules/secret-rules.js';
import { runScan } from '../../src/scan/scanner.js';
import { createSecretsEngine } from '../../src/scan/secrets/engine.js';

const RULE = 'governance-default-admin-key';
const KEY = new Uint8Array(32).fill(7);

/** scan secrets reports a default admin credential from the one shared list (core/default-credentials.ts). */
describe('scan secrets: well-known default admin credentials', () => {
  let dir: string;
  let rules: SecretRuleSet;
  const strongKey = randomBytes(32).toString('base64url');

  beforeAll(async () => {
    rules = await loadSecretRules();
    dir = await mkdtemp(join(tmpdir(), 'govctl-default-creds-'));
    await writeFile(join(dir, '.env'), 'ENVIRONMENT=production\nADMIN_API_KEY=admin-secret-key-change-in-prod\n');
    await writeFile(join(dir, 'config.yaml'), 'server:\n  port: 8080\nadmin_api_key: changeme\n');
    await writeFile(join(dir, 'config.json'), '{\n  "port": 8080,\n  "adminKey": "admin"\n}\n');
    await writeFile(join(dir, 'deploy.sh'), '#!/bin/sh\nexec govctl serve --port 8080 --admin-key=admin-secret-key-change-in-prod\n');
    await writeFile(join(dir, 'strong.env'), `ADMIN_API_KEY=${strongKey}\n`);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reports a default assigned in a .env, YAML, JSON or shell file, and not a random key', async () => {
    const result = await runScan({ kind: 'secrets', root: dir, rules, maxFileBytes: 1 << 20, fingerprintKey: KEY, env: {}, workers: 0 });
    const found = result.findings.filter((f) => f.rule === RULE).map((f) => `${(f.location as { file: string }).file}:${(f.location as { line: number }).line}`);
    expect(found.sort()).toEqual(['.env:2', 'config.json:3', 'config.yaml:3', 'deploy.sh:2']);
    for (const f of result.findings.filter((x) => x.rule === RULE)) {
      expect(f.severity).toBe('high');
      expect(f.cwe).toBe('CWE-1392');
    }
    expect(result.findings.some((f) => f.rule === RULE && (f.location as { file: string }).file === 'strong.env')).toBe(false);
    // Evidence is redacted even for a public default.
    expect(JSON.stringify(result.findings)).not.toContain('admin-secret-key-change-in-prod');
  });

  it('knows every entry of the shared list, whatever its case, and nothing that merely starts like one', () => {
    const engine = createSecretsEngine(rules);
    for (const value of DEFAULT_ADMIN_CREDENTIALS) {
      for (const line of [`ADMIN_API_KEY=${value}`, `admin_key: "${value.toUpperCase()}"`, `govctl serve --admin-key ${value}`]) {
        const hits = engine.scan(`${line}\n`, 'x.env').filter((m) => m.rule === RULE);
        expect(hits.map((m) => m.value.toLowerCase()), line).toEqual([value]);
      }
    }
    for (const line of ['ADMIN_API_KEY=admin-secret-key-change-in-prod-7f3a', `ADMIN_API_KEY=${strongKey}`, 'ADMIN_API_KEY=${ADMIN_API_KEY}']) {
      expect(engine.scan(`${line}\n`, 'x.env').filter((m) => m.rule === RULE), line).toEqual([]);
    }
  });
});
