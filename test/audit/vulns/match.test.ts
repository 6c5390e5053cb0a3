import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, PackageRef } from '../../../src/audit/types.js';
import { matchVulns } from '../../../src/audit/vulns/match.js';
import { fingerprintOf, type Finding, type PackageLocation } from '../../../src/core/findings.js';
import { DB_DIR, KEY, npm, pypi, zipOfFixtureDb } from './helpers.js';

/** Every fixture case; the comment says whether the version is affected. */
const COMPONENTS: PackageRef[] = [
  npm('multi-range', '1.0.1'), // yes: [0, 1.0.2)
  npm('multi-range', '2.0.0'), // no: between the ranges (the withdrawn advisory would match)
  npm('multi-range', '3.1.0'), // yes: [3.0.0, 3.2.5)
  npm('multi-range', '3.2.5'), // no
  npm('last-aff', '1.4.0'), // yes: last_affected is inclusive
  npm('last-aff', '1.4.1'), // no
  npm('limited', '1.9.9'), // yes: below limit 2.0.0
  npm('limited', '2.0.0'), // no: at the limit
  npm('limited', '3.0.5'), // yes: second range, limit "*"
  npm('pre-lib', '1.0.0-beta.1'), // no: before introduced 1.0.0-beta.2
  npm('pre-lib', '1.0.0-rc.1'), // yes
  npm('pre-lib', '1.0.0'), // no: the fix
  npm('pre-lib', '2.0.0-beta.1'), // yes: [2.0.0-alpha, 2.0.0-rc.1)
  npm('alias-npm', '1.0.0'), // yes: GHSA + CVE record, one finding
  npm('unknown-lib', '1.0.0'), // no advisory
  npm('multi-range', 'not-a-version'), // never matched, warned
  pypi('epoch-pkg', '2.0'), // yes: 2.0 < 1!1.0
  pypi('epoch-pkg', '1!1.0'), // no
  pypi('prepost-pkg', '1.0b2'), // no: before 1.0rc1
  pypi('prepost-pkg', '1.0'), // yes
  pypi('prepost-pkg', '1.0.post0'), // yes: below the fix 1.0.post1
  pypi('prepost-pkg', '1.0.post1'), // no
  pypi('listed-pkg', '0.7.0'), // yes: versions lists "0.7"
  pypi('listed-pkg', '0.6'), // no
  pypi('alias-py', '2.0'), // yes: GHSA + PYSEC, one finding
];

const at = (f: Finding): string => (f.location as PackageLocation).purl;

describe('matchVulns on the fixture database', () => {
  let dir: string;
  let zipPath: string;
  let fromDir: Awaited<ReturnType<typeof matchVulns>>;
  const events: AuditEvent[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-vulns-'));
    zipPath = join(dir, 'all.zip');
    await zipOfFixtureDb(zipPath);
    fromDir = await matchVulns({ components: COMPONENTS, osvDb: DB_DIR, fingerprintKey: KEY, onEvent: (e) => events.push(e) });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds exactly the affected versions, one finding per vulnerability per component', () => {
    const found = fromDir.findings.map((f) => `${at(f)} ${f.rule}`).sort();
    expect(found).toEqual(
      [
        'pkg:npm/alias-npm@1.0.0 GHSA-7777-8888-9999',
        'pkg:npm/last-aff@1.4.0 GHSA-3333-4444-5555',
        'pkg:npm/limited@1.9.9 GHSA-4444-5555-6666',
        'pkg:npm/limited@3.0.5 GHSA-4444-5555-6666',
        'pkg:npm/multi-range@1.0.1 GHSA-2222-3333-4444',
        'pkg:npm/multi-range@3.1.0 GHSA-2222-3333-4444',
        'pkg:npm/pre-lib@1.0.0-rc.1 GHSA-5555-6666-7777',
        'pkg:npm/pre-lib@2.0.0-beta.1 GHSA-5555-6666-7777',
        'pkg:pypi/alias-py@2.0 GHSA-9999-cccc-ffff',
        'pkg:pypi/epoch-pkg@2.0 PYSEC-2024-10',
        'pkg:pypi/listed-pkg@0.7.0 PYSEC-2024-20',
        'pkg:pypi/prepost-pkg@1.0 GHSA-8888-9999-cccc',
        'pkg:pypi/prepost-pkg@1.0.post0 GHSA-8888-9999-cccc',
      ].sort(),
    );
  });

  it('summarises: advisories read, withdrawn ignored, distinct vulnerabilities after grouping', () => {
    expect(fromDir.summary).toMatchObject({
      database: DB_DIR,
      advisories: 13,
      withdrawn: 1,
      components: COMPONENTS.length,
      invalid_versions: 1,
      vulnerable_components: 13,
      vulnerabilities: 9,
    });
    expect(fromDir.summary.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('reports a GHSA and its CVE once, under the GHSA, with every id, the worst severity and the highest fix', () => {
    const [finding, ...others] = fromDir.findings.filter((f) => at(f) === 'pkg:npm/alias-npm@1.0.0');
    expect(others).toEqual([]);
    expect(finding).toMatchObject({
      rule: 'GHSA-7777-8888-9999',
      severity: 'critical', // the CVE record's 9.8 outranks the GHSA's 8.1
      category: 'vulnerability',
      cwe: 'CWE-78',
      remediation: 'Upgrade alias-npm to >= 1.2.4.',
    });
    expect(finding!.title).toBe('alias-npm@1.0.0: Command injection in alias-npm (GHSA-7777-8888-9999, CVE-2024-2222)');
    expect(finding!.evidence).toContain('fixed in 1.2.3, 1.2.4');
    expect(finding!.references).toEqual([
      'https://osv.dev/vulnerability/GHSA-7777-8888-9999',
      'https://osv.dev/vulnerability/CVE-2024-2222',
      'https://github.com/advisories/GHSA-7777-8888-9999',
      'https://nvd.nist.gov/vuln/detail/CVE-2024-2222',
    ]);
  });

  it('groups a PyPI GHSA with its PYSEC record (names compared per PEP 503)', () => {
    const findings = fromDir.findings.filter((f) => at(f) === 'pkg:pypi/alias-py@2.0');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.title).toContain('(GHSA-9999-cccc-ffff, PYSEC-2024-30, CVE-2024-3333)');
    // The GHSA's per-package CVSS v4 vector (9.3) decides; the PYSEC record has none.
    expect(findings[0]!.severity).toBe('critical');
  });

  it('takes severities from CVSS v3, CVSS v4, the database word, or reports them unknown as high', () => {
    const severity = (purl: string): string | undefined => fromDir.findings.find((f) => at(f) === purl)?.severity;
    expect(severity('pkg:npm/multi-range@1.0.1')).toBe('critical'); // CVSS v3 9.8 over the database's LOW
    expect(severity('pkg:npm/limited@1.9.9')).toBe('medium'); // CVSS v4 6.9
    expect(severity('pkg:npm/pre-lib@1.0.0-rc.1')).toBe('low'); // CVSS v3 3.3
    expect(severity('pkg:npm/last-aff@1.4.0')).toBe('medium'); // database MODERATE
    expect(severity('pkg:pypi/prepost-pkg@1.0')).toBe('high'); // CVSS v3 7.5
    const unknown = fromDir.findings.find((f) => at(f) === 'pkg:pypi/epoch-pkg@2.0')!;
    expect(unknown.severity).toBe('high');
    expect(unknown.evidence).toContain('unknown: no CVSS vector or database severity');
  });

  it('builds findings in the shared model: fingerprint, id, location, remediation', () => {
    const finding = fromDir.findings.find((f) => at(f) === 'pkg:npm/multi-range@3.1.0')!;
    const fingerprint = fingerprintOf(KEY, 'vuln', 'GHSA-2222-3333-4444', 'pkg:npm/multi-range@3.1.0');
    expect(finding).toMatchObject({
      id: `GHSA-2222-3333-4444:${fingerprint.slice(0, 8)}`,
      fingerprint,
      location: { purl: 'pkg:npm/multi-range@3.1.0', manifest: 'package-lock.json' },
      remediation: 'Upgrade multi-range to >= 3.2.5.',
      cwe: 'CWE-1321',
    });
    expect(finding.evidence).toContain('matches GHSA-2222-3333-4444 (>= 3.0.0, < 3.2.5, SEMVER)');
    expect(new Set(fromDir.findings.map((f) => f.id)).size).toBe(fromDir.findings.length);
    const noFix = fromDir.findings.find((f) => at(f) === 'pkg:npm/last-aff@1.4.0')!;
    expect(noFix.remediation).toContain('versions after 1.4.0 are not affected');
    expect(noFix.evidence).toContain('no fixed version published');
  });

  it('sorts findings worst first', () => {
    const ranks = fromDir.findings.map((f) => ['info', 'low', 'medium', 'high', 'critical'].indexOf(f.severity));
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
  });

  it('warns about a component version that does not parse instead of passing it silently', () => {
    const warnings = events.filter((e) => e.type === 'warning').map((e) => e.message);
    expect(warnings).toEqual([expect.stringContaining('multi-range@not-a-version')]);
  });

  it('gives the same findings from the all.zip form of the database', async () => {
    const fromZip = await matchVulns({ components: COMPONENTS, osvDb: zipPath, fingerprintKey: KEY });
    expect(fromZip.findings).toEqual(fromDir.findings);
    expect({ ...fromZip.summary, database: '', duration_ms: 0 }).toEqual({ ...fromDir.summary, database: '', duration_ms: 0 });
  });

  it('merges duplicate components (same purl from two manifests)', async () => {
    const twice = [npm('multi-range', '1.0.1'), { ...npm('multi-range', '1.0.1'), manifests: ['packages/a/package-lock.json'] }];
    const result = await matchVulns({ components: twice, osvDb: DB_DIR, fingerprintKey: KEY });
    expect(result.findings).toHaveLength(1);
    expect(result.summary.components).toBe(1);
  });

  it('reports nothing for components no advisory names, and still reads the whole database', async () => {
    const result = await matchVulns({ components: [npm('unknown-lib', '1.0.0')], osvDb: DB_DIR, fingerprintKey: KEY });
    expect(result.findings).toEqual([]);
    expect(result.summary).toMatchObject({ advisories: 13, withdrawn: 1, vulnerable_components: 0, vulnerabilities: 0 });
  });
});
