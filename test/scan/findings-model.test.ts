import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type AjvDraft04 from 'ajv-draft-04';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterByBaseline, readBaseline, writeBaseline } from '../../src/core/baseline.js';
import { describeLocation, fingerprintOf, locationKind, type Finding, type Location } from '../../src/core/findings.js';
import { toSarif } from '../../src/core/sarif.js';
import { verdictOf } from '../../src/core/verdict.js';

const KEY = new Uint8Array(32).fill(3);

function finding(id: string, location: Location, severity: Finding['severity'] = 'high'): Finding {
  return {
    id,
    rule: `rule-${locationKind(location)}`,
    severity,
    category: 'test',
    title: `a ${locationKind(location)} finding`,
    location,
    evidence: 'redacted…',
    fingerprint: fingerprintOf(KEY, id, JSON.stringify(location)),
    remediation: 'fix it',
  };
}

const FINDINGS: Finding[] = [
  finding('F1', { file: 'src/app.py', line: 3, column: 7 }),
  finding('F2', { purl: 'pkg:npm/%40scope/left-pad@1.0.0', manifest: 'package-lock.json' }, 'critical'),
  finding('F3', { purl: 'pkg:pypi/requests@2.0.0' }, 'medium'),
  finding('F4', { file: 'config/app.yaml', key_path: 'server.tls.enabled', line: 12 }, 'low'),
  finding('F5', { file: 'config/app.yaml', key_path: 'auth.disabled' }),
  finding('F6', { method: 'GET', url: 'https://gov.example.com/v1/keys' }, 'info'),
];

describe('findings model: locations, SARIF, baselines, verdict', () => {
  let dir: string;
  let validate: ((data: unknown) => boolean) & { errors?: unknown[] | null };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-findings-'));
    const require = createRequire(import.meta.url);
    const schema = JSON.parse(await readFile(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
    const Ajv4 = (require('ajv-draft-04') as { default: typeof AjvDraft04.default }).default;
    validate = new Ajv4({ allErrors: true, strict: false, unicodeRegExp: false, logger: false }).compile(schema);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('tells the four location shapes apart and describes each for people', () => {
    expect(FINDINGS.map((f) => locationKind(f.location))).toEqual(['file', 'package', 'package', 'config', 'config', 'http']);
    expect(FINDINGS.map((f) => describeLocation(f.location))).toEqual([
      'src/app.py:3:7',
      'pkg:npm/%40scope/left-pad@1.0.0 (package-lock.json)',
      'pkg:pypi/requests@2.0.0',
      'config/app.yaml:12: server.tls.enabled',
      'config/app.yaml: auth.disabled',
      'GET https://gov.example.com/v1/keys',
    ]);
  });

  it('maps each location to SARIF 2.1.0 that validates: physical only for real files, logical otherwise', () => {
    const sarif = toSarif(FINDINGS, { srcRoot: 'file:///work/project/' });
    expect(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    const locations = sarif.runs[0]!.results.map((r) => r.locations[0]!);
    expect(locations[0]).toEqual({ physicalLocation: { artifactLocation: { uri: 'src/app.py', uriBaseId: '%SRCROOT%' }, region: { startLine: 3, startColumn: 7 } } });
    expect(locations[1]).toEqual({
      physicalLocation: { artifactLocation: { uri: 'package-lock.json', uriBaseId: '%SRCROOT%' } },
      logicalLocations: [{ name: 'left-pad', fullyQualifiedName: 'pkg:npm/%40scope/left-pad@1.0.0', kind: 'module' }],
    });
    // No manifest: no physical location at all (no made-up file).
    expect(locations[2]).toEqual({ logicalLocations: [{ name: 'requests', fullyQualifiedName: 'pkg:pypi/requests@2.0.0', kind: 'module' }] });
    expect(locations[3]).toEqual({
      physicalLocation: { artifactLocation: { uri: 'config/app.yaml', uriBaseId: '%SRCROOT%' }, region: { startLine: 12 } },
      logicalLocations: [{ name: 'enabled', fullyQualifiedName: 'server.tls.enabled', kind: 'property' }],
    });
    expect(locations[4]!.physicalLocation).toEqual({ artifactLocation: { uri: 'config/app.yaml', uriBaseId: '%SRCROOT%' } });
    expect(locations[5]).toEqual({ logicalLocations: [{ name: 'https://gov.example.com/v1/keys', fullyQualifiedName: 'GET https://gov.example.com/v1/keys', kind: 'resource' }] });
    for (const r of sarif.runs[0]!.results) expect(r.partialFingerprints['govctl/v2']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('writes, reads and filters a baseline by fingerprint for every location shape', async () => {
    const path = join(dir, 'baseline.json');
    await writeBaseline(path, FINDINGS.slice(0, 4));
    const text = await readFile(path, 'utf8');
    expect(JSON.parse(text).schema).toBe('govctl.baseline/v2');
    const known = await readBaseline(path);
    expect(known.size).toBe(4);
    const { kept, suppressed } = filterByBaseline(FINDINGS, known);
    expect(kept.map((f) => f.id)).toEqual(['F5', 'F6']);
    expect(suppressed).toBe(4);
  });

  it('refuses an old unkeyed baseline with what to do', async () => {
    const path = join(dir, 'old.json');
    await writeFile(path, JSON.stringify({ schema: 'govctl.scan-baseline/v1', findings: [] }));
    await expect(readBaseline(path)).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('older govctl') });
  });

  it('computes the verdict in core: fail_on, passed, failing and counts', () => {
    expect(verdictOf(FINDINGS, 'high')).toEqual({ fail_on: 'high', passed: false, failing: 3, counts: { critical: 1, high: 2, medium: 1, low: 1, info: 1 } });
    expect(verdictOf(FINDINGS, 'critical')).toMatchObject({ passed: false, failing: 1 });
    expect(verdictOf(FINDINGS, 'none')).toMatchObject({ passed: true, failing: 0 });
    expect(verdictOf([], 'info')).toMatchObject({ passed: true, failing: 0 });
  });
});
