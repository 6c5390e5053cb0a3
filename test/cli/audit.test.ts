import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readReport } from '../../src/core/report.js';
import type { AuditData } from '../../src/audit/runner.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { runInProcess } from '../helpers/run-in-process.js';

/** A small v3 lockfile: one runtime dependency with a nested one, one dev dependency. */
const LOCKFILE = {
  name: 'demo-app',
  version: '1.0.0',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': { name: 'demo-app', version: '1.0.0', dependencies: { lodash: '^4.17.0' }, devDependencies: { '@scope/tool': '^2.0.0' } },
    'node_modules/lodash': {
      version: '4.17.20',
      resolved: 'https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz',
      integrity: 'sha512-PlhdFcillOINfeV7Ni6oF1TAEayyZBoZ8bcshTHqOYJYlrqzRK5hagpagky5o4HfCzzd1TRkXPMFq6cKk9rGmA==',
      license: 'MIT',
    },
    'node_modules/@scope/tool': {
      version: '2.1.0',
      resolved: 'https://registry.npmjs.org/@scope/tool/-/tool-2.1.0.tgz',
      integrity: 'sha512-PlhdFcillOINfeV7Ni6oF1TAEayyZBoZ8bcshTHqOYJYlrqzRK5hagpagky5o4HfCzzd1TRkXPMFq6cKk9rGmA==',
      dev: true,
      license: 'Apache-2.0',
    },
  },
};

/** An OSV advisory for lodash < 4.17.21 (a GHSA with its CVE alias). */
const ADVISORY = {
  schema_version: '1.6.0',
  id: 'GHSA-35jh-r3h4-6jhm',
  modified: '2024-01-01T00:00:00Z',
  published: '2021-05-06T00:00:00Z',
  aliases: ['CVE-2021-23337'],
  summary: 'Command Injection in lodash',
  affected: [
    {
      package: { ecosystem: 'npm', name: 'lodash' },
      ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.21' }] }],
    },
  ],
  severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H' }],
  database_specific: { severity: 'HIGH', cwe_ids: ['CWE-77'] },
};

let root: string;
let project: string;
let osv: string;
let out: string;
const env = { GOVCTL_FINGERPRINT_KEY: 'audit-cli-test-fingerprint-key-0123456789' };

async function auditJson(dir: string): Promise<{ path: string; data: AuditData; files: string[] }> {
  const runs = await readdir(dir);
  expect(runs).toHaveLength(1);
  const runDir = join(dir, runs[0]!);
  const { report } = await readReport<AuditData>(join(runDir, 'audit.json'), { kind: 'audit' });
  return { path: runDir, data: report.data, files: (await readdir(runDir)).sort() };
}

async function freshOut(): Promise<string> {
  const dir = join(root, `out-${Math.random().toString(36).slice(2)}`);
  await mkdir(dir);
  return dir;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'govctl-audit-cli-'));
  project = join(root, 'project');
  osv = join(root, 'osv');
  out = join(root, 'out');
  await mkdir(project);
  await mkdir(osv);
  await mkdir(out);
  await writeFile(join(project, 'package-lock.json'), JSON.stringify(LOCKFILE, null, 2));
  await writeFile(join(osv, `${ADVISORY.id}.json`), JSON.stringify(ADVISORY));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('govctl audit: flags', () => {
  it('refuses to run with nothing to audit', async () => {
    const r = await runInProcess(['audit', '--out', out], { env });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('nothing to audit');
  });

  it('refuses flags that need another one', async () => {
    const r = await runInProcess(['audit', '--sbom', 'x.json', '--reproducible', '--out', out], { env });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--reproducible');
    const e = await runInProcess(['audit', '--sbom', '--environment', 'production', '--dir', project, '--out', out], { env });
    expect(e.exitCode).toBe(2);
    expect(e.stderr).toContain('--environment applies to --config');
  });
});

describe('govctl audit --sbom and --vulns', () => {
  it('writes a reproducible SBOM beside audit.json: two runs give the same bytes', async () => {
    const [a, b] = [await freshOut(), await freshOut()];
    for (const dir of [a, b]) {
      const r = await runInProcess(['audit', '--sbom', '--reproducible', '--dir', project, '--out', dir], { env });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toContain('sbom');
    }
    const [ra, rb] = [await auditJson(a), await auditJson(b)];
    expect(ra.files).toEqual(['audit.json', 'sbom.cdx.json']);
    expect(ra.data.sbom_file).toBe('sbom.cdx.json');
    expect(ra.data.steps).toEqual([expect.objectContaining({ step: 'sbom', status: 'completed' })]);
    const [bomA, bomB] = [await readFile(join(ra.path, 'sbom.cdx.json'), 'utf8'), await readFile(join(rb.path, 'sbom.cdx.json'), 'utf8')];
    expect(bomA).toBe(bomB);
    const bom = JSON.parse(bomA) as { bomFormat: string; components: Array<{ purl: string }> };
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(bom.components.map((c) => c.purl).sort()).toEqual(['pkg:npm/%40scope/tool@2.1.0', 'pkg:npm/lodash@4.17.20']);
  });

  it('finds the vulnerable component once (GHSA and CVE grouped) and fails at --fail-on high', async () => {
    const dir = await freshOut();
    const r = await runInProcess(['audit', '--sbom', '--vulns', '--osv-db', osv, '--dir', project, '--out', dir, '-o', 'json'], { env });
    expect(r.exitCode, r.stderr).toBe(1);
    const printed = JSON.parse(r.stdout) as { schema: string; data: AuditData };
    expect(printed.schema).toBe('govctl.audit/v1');
    const vulns = printed.data.findings.filter((f) => f.category === 'vulnerability');
    expect(vulns).toHaveLength(1);
    expect(JSON.stringify(vulns[0])).toContain('CVE-2021-23337');
    expect(vulns[0]!.location).toMatchObject({ purl: 'pkg:npm/lodash@4.17.20' });
    expect(printed.data.verdict.passed).toBe(false);
    expect((await auditJson(dir)).data.findings).toEqual(printed.data.findings);
  });

  it('--fail-on critical lets the same audit pass; -o sarif is SARIF 2.1.0', async () => {
    const r = await runInProcess(['audit', '--vulns', '--osv-db', osv, '--dir', project, '--out', await freshOut(), '--fail-on', 'critical', '-o', 'sarif'], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    const sarif = JSON.parse(r.stdout) as { version: string; runs: Array<{ results: Array<{ ruleId: string }> }> };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]!.results).toHaveLength(1);
  });

  it('records a step that cannot run as not run, never as clean, and does not pass', async () => {
    const dir = await freshOut();
    const r = await runInProcess(['audit', '--sbom', '--vulns', '--dir', project, '--out', dir], { env });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toMatch(/vulns\s+NOT RUN/);
    expect(r.stdout).toContain('--osv-db');
    const { data } = await auditJson(dir);
    expect(data.complete).toBe(false);
    expect(data.verdict.passed).toBe(false);
    expect(data.steps.find((s) => s.step === 'vulns')).toMatchObject({ status: 'not_run', reason: expect.stringContaining('--osv-db') });
    expect(data.steps.find((s) => s.step === 'sbom')).toMatchObject({ status: 'completed' });
  });

  it('a directory without a lockfile: sbom not run, exit 2, the reason named', async () => {
    const empty = join(root, 'empty');
    await mkdir(empty, { recursive: true });
    const dir = await freshOut();
    const r = await runInProcess(['audit', '--sbom', '--dir', empty, '--out', dir], { env });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toContain('no lockfile');
    expect(r.stdout).toContain('no findings in the steps that ran');
    const { data } = await auditJson(dir);
    expect(data.steps[0]).toMatchObject({ step: 'sbom', status: 'not_run' });
    expect(data.sbom_file).toBeUndefined();
  });

  it('a baseline suppresses known findings', async () => {
    const baseline = join(root, 'audit-baseline.json');
    const w = await runInProcess(['audit', '--vulns', '--osv-db', osv, '--dir', project, '--out', await freshOut(), '--write-baseline', baseline], { env });
    expect(w.exitCode).toBe(1);
    const r = await runInProcess(['audit', '--vulns', '--osv-db', osv, '--dir', project, '--out', await freshOut(), '--baseline', baseline], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('1 in the baseline');
  });
});

describe('govctl audit: bad input names the file and exits 2', () => {
  it.each([
    ['a corrupt zip', async () => {
      const zip = join(root, 'corrupt.zip');
      await writeFile(zip, 'PK\u0003\u0004 not really a zip');
      return ['--vulns', '--osv-db', zip, '--dir', project];
    }, /corrupt\.zip/],
    ['an OSV file that is not OSV', async () => ['--vulns', '--osv-db', 'test/fixtures/audit/osv/not-osv', '--dir', project], /GHSA-bad0-bad0-bad0\.json|not-osv/],
    ['corrupt YAML', async () => ['--config', 'test/fixtures/audit/config/corrupt.yaml'], /corrupt\.yaml:\d+/],
    ['corrupt JSON', async () => ['--config', 'test/fixtures/audit/config/corrupt.json'], /corrupt\.json:\d+/],
    ['a corrupt lockfile', async () => {
      const dir = join(root, 'corrupt-lock');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'package-lock.json'), '{"lockfileVersion": 3, "packages": ');
      return ['--sbom', '--dir', dir];
    }, /package-lock\.json/],
  ])('%s', async (_what, args, named) => {
    const dir = await freshOut();
    const r = await runInProcess(['audit', ...(await args()), '--out', dir], { env });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stdout).toMatch(named);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
    expect((await auditJson(dir)).data.steps.every((s) => s.status === 'not_run')).toBe(true);
  });
});

describe('govctl audit --config', () => {
  it('finds a well-known default admin key without printing a secret', async () => {
    const file = join(root, 'weak.env');
    await writeFile(file, 'ENVIRONMENT=production\nAUTH_ENABLED=false\nADMIN_API_KEY=admin-secret-key-change-in-prod\nSECRET_KEY=Zx9\n');
    const dir = await freshOut();
    const r = await runInProcess(['audit', '--config', file, '--out', dir, '-o', 'json'], { env });
    expect(r.exitCode, r.stderr).toBe(1);
    const printed = JSON.parse(r.stdout) as { data: AuditData };
    expect(printed.data.findings.some((f) => f.category === 'config' && f.severity === 'critical')).toBe(true);
    expect(r.stdout).not.toContain('Zx9');
  });
});

describe('govctl audit --api', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('probes the reference server: every step ran, no finding at or above high', async () => {
    const dir = await freshOut();
    const r = await runInProcess(['audit', '--api', server.url, '--out', dir], { env: { ...env, GOVCTL_ADMIN_KEY: server.adminToken } });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    const { data } = await auditJson(dir);
    expect(data.steps).toEqual([expect.objectContaining({ step: 'api', status: 'completed' })]);
    expect(data.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(server.adminToken);
  });

  it('an unreachable server: api not run, exit 3, the host named', async () => {
    const dir = await freshOut();
    const r = await runInProcess(['audit', '--api', 'http://127.0.0.1:9', '--out', dir], { env });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toContain('127.0.0.1:9');
    expect((await auditJson(dir)).data.steps[0]).toMatchObject({ step: 'api', status: 'not_run' });
  });

  it('--api URL and a different --url are refused', async () => {
    const r = await runInProcess(['audit', '--api', server.url, '--url', 'http://127.0.0.1:1', '--out', out], { env });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('different servers');
  });
});
