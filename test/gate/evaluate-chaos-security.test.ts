import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { evaluateGates } from '../../src/gate/evaluate.js';
import { parseGateFile } from '../../src/gate/schema.js';
import { finding, removeDir, tempDir, writeAudit, writeChaos, writeScan } from '../fixtures/gate/reports.js';

const gates = (g: Record<string, unknown>) => parseGateFile({ gates: [{ id: 'G', name: 'gate', ...g }] }, 'test.json');
const ALL_AUDIT = [{ step: 'sbom' as const }, { step: 'vulns' as const }, { step: 'api' as const }, { step: 'config' as const }];

describe('chaos gates (G4)', () => {
  let cwd: string;
  let reports: string;
  beforeEach(async () => {
    cwd = await tempDir();
    reports = join(cwd, 'reports');
    await mkdir(reports);
  });
  afterEach(async () => {
    await removeDir(cwd);
  });

  const g4 = gates({ key: true, objectives: [{ metric: 'chaos.recovery_s', pass: ['<=60'], warning: ['<=90'] }, { metric: 'chaos.records_lost', pass: ['==0'] }] });

  it('passes when every probe recovers within 60 s and nothing acknowledged is lost', async () => {
    const path = await writeChaos(reports, '2026-01-10T10:00:00Z', [
      { probe: 'restart', recovery_s: 2.5, lost: 0, acknowledged: 120 },
      { probe: 'network', recovery_s: 7, lost: 0 },
      { probe: 'disk', status: 'skipped', recovery_s: null, reasons: ['remote target'] },
    ]);
    const out = await evaluateGates({ gates: g4, reportsDir: reports, cwd });
    const [recovery, lost] = out.gates[0]!.objectives;
    expect(recovery).toMatchObject({ result: 'pass', value: 7, unit: 's', reason: 'recovery time (worst probe): 7 s, meets <=60' });
    expect(recovery!.description).toMatch(/probes restart, network in chaos run/);
    expect(lost).toMatchObject({ result: 'pass', value: 0 });
    expect(out.gates[0]!.source!.path).toBe(path);
    expect(out.result).toBe('pass');
  });

  it('warns and fails on the worst probe, and fails a probe that never recovered', async () => {
    await writeChaos(reports, '2026-01-10T10:00:00Z', [{ probe: 'restart', recovery_s: 75 }, { probe: 'network', recovery_s: 5 }]);
    const warn = await evaluateGates({ gates: g4, reportsDir: reports, cwd });
    expect(warn.gates[0]!.objectives[0]).toMatchObject({ result: 'warn', value: 75 });
    expect(warn.gates[0]!.objectives[0]!.reason).toBe('recovery time (worst probe): 75 s, needs <= 60 s; meets warning <=90 (restart 75 s, network 5 s)');

    await writeChaos(reports, '2026-01-11T10:00:00Z', [{ probe: 'restart', recovery_s: null }]);
    const never = await evaluateGates({ gates: g4, reportsDir: reports, cwd });
    expect(never.gates[0]).toMatchObject({ result: 'fail', value: null, measured: true, metric: 'chaos.recovery_s' });
    expect(never.gates[0]!.reason).toBe('recovery time (worst probe): restart did not recover within its 60 s budget');
  });

  it('fails on lost acknowledged records; a probe with the filter reads the newest run that ran it', async () => {
    await writeChaos(reports, '2026-01-10T10:00:00Z', [{ probe: 'restart', recovery_s: 3, lost: 2, acknowledged: 50 }]);
    await writeChaos(reports, '2026-01-11T10:00:00Z', [{ probe: 'network', recovery_s: 1 }]);
    const all = await evaluateGates({ gates: g4, reportsDir: reports, cwd });
    expect(all.gates[0]!.result).toBe('pass'); // the newest run: network only
    const restart = gates({ objectives: [{ metric: 'chaos.records_lost', probe: 'restart', pass: ['==0'] }] });
    const out = await evaluateGates({ gates: restart, reportsDir: reports, cwd });
    expect(out.gates[0]).toMatchObject({ result: 'fail', value: 2 });
    expect(out.gates[0]!.reason).toBe('acknowledged records lost (probe restart): 2, needs == 0 (restart lost 2 of 50)');
  });

  it('not measured: no journal, an errored probe, records not accounted', async () => {
    const none = await evaluateGates({ gates: g4, reportsDir: reports, cwd });
    expect(none.gates[0]!.reason).toContain('not measured: govctl chaos (no chaos journal under reports)');
    expect(none.gates[0]!.measured).toBe(false);

    await writeChaos(reports, '2026-01-10T10:00:00Z', [{ probe: 'restart', status: 'error', recovery_s: null, reasons: ['could not restart'] }]);
    const errored = await evaluateGates({ gates: g4, reportsDir: reports, cwd });
    expect(errored.gates[0]!.objectives[0]!.reason).toMatch(/^not measured: govctl chaos \(chaos run run-\d+: restart errored \(could not restart\)\)$/);

    await writeChaos(reports, '2026-01-11T10:00:00Z', [{ probe: 'restart', recovery_s: 1, lost: null }]);
    const unaccounted = await evaluateGates({ gates: g4, reportsDir: reports, cwd });
    expect(unaccounted.gates[0]!.objectives[1]!.reason).toMatch(/^not measured: govctl chaos \(chaos run run-\d+: restart: the usage log was unreachable\)$/);
    const probe = await evaluateGates({ gates: gates({ metric: 'chaos.recovery_s', probe: 'memory', pass: ['<=60'] }), reportsDir: reports, cwd });
    expect(probe.gates[0]!.reason).toBe('not measured: govctl chaos --probe memory (no chaos journal with the memory probe under reports)');
  });

  it('a journal whose data gates read is malformed is bad input naming the file and path', async () => {
    const path = await writeChaos(reports, '2026-01-10T10:00:00Z', [{ probe: 'restart', recovery_s: 1 }]);
    const report = JSON.parse(await readFile(path, 'utf8'));
    report.data.probes[0].recovery_s = 'soon';
    await writeFile(path, JSON.stringify(report));
    const err = await evaluateGates({ gates: g4, reportsDir: reports, cwd }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toBe(`report ${path} is invalid: $.data.probes[0].recovery_s: must be number,null`);
  });
});

describe('security gates (G5)', () => {
  let cwd: string;
  let reports: string;
  beforeEach(async () => {
    cwd = await tempDir();
    reports = join(cwd, 'reports');
    await mkdir(reports);
  });
  afterEach(async () => {
    await removeDir(cwd);
  });

  const g5 = gates({ key: true, objectives: [{ metric: 'security.findings', severity: 'high', pass: ['==0'] }, { metric: 'security.sbom_valid', pass: ['==1'] }] });

  it('counts findings at or above high across the newest scans and audit; SBOM present and valid', async () => {
    await writeScan(reports, 'secrets', '2026-01-09T10:00:00Z', [finding('critical', 'aws-key')]); // older: superseded
    await writeScan(reports, 'secrets', '2026-01-10T10:00:00Z', [finding('medium', 'generic-password')]);
    await writeScan(reports, 'patterns', '2026-01-10T10:00:00Z', [finding('low', 'eval', 'dangerous-code')]);
    await writeAudit(reports, { finishedAt: '2026-01-10T11:00:00Z', steps: ALL_AUDIT, findings: [finding('medium', 'CVE-1', 'vulnerability')] });
    const out = await evaluateGates({ gates: g5, reportsDir: reports, cwd });
    expect(out.gates[0]).toMatchObject({ result: 'pass', key: true });
    const [count, sbom] = out.gates[0]!.objectives;
    expect(count).toMatchObject({ value: 0, findings: [] });
    expect(count!.sources).toHaveLength(3);
    expect(count!.description).toMatch(/^findings at or above high in scan secrets run-\d+, scan patterns run-\d+, audit sbom\+vulns\+api\+config run-\d+ \(3 findings in all\)$/);
    expect(sbom).toMatchObject({ result: 'pass', value: 1, unit: 'bool' });

    await writeScan(reports, 'patterns', '2026-01-11T10:00:00Z', [finding('high', 'shell-true', 'dangerous-code', 1), finding('critical', 'eval-input', 'dangerous-code', 2)]);
    const fail = await evaluateGates({ gates: g5, reportsDir: reports, cwd });
    expect(fail.result).toBe('fail');
    expect(fail.key_failures).toEqual(['G']);
    expect(fail.gates[0]!.reason).toBe(
      'findings at or above high: 2, needs == 0 (high shell-true (src/file1.ts:1:1), critical eval-input (src/file2.ts:1:1))',
    );
    expect(fail.gates[0]!.objectives[0]!.findings!.map((f) => f.rule)).toEqual(['shell-true', 'eval-input']);
  });

  it('a scan or audit step that did not run is not measured, never zero findings', async () => {
    await writeScan(reports, 'secrets', '2026-01-10T10:00:00Z', []);
    await writeAudit(reports, { finishedAt: '2026-01-10T11:00:00Z', steps: [{ step: 'sbom' }, { step: 'vulns', status: 'not_run', reason: 'no --osv-db given' }, { step: 'api' }, { step: 'config' }] });
    const out = await evaluateGates({ gates: g5, reportsDir: reports, cwd });
    const count = out.gates[0]!.objectives[0]!;
    expect(count).toMatchObject({ result: 'fail', measured: false, value: null });
    expect(count.reason).toMatch(
      /^not measured: govctl scan patterns --out reports; govctl audit --vulns --osv-db PATH \(no patterns scan report under reports; audit run-\d+: the vulns step not run: no --osv-db given\)$/,
    );
    // Only the sources asked for must exist.
    const some = gates({ metric: 'security.findings', sources: ['scan:secrets', 'audit:api'], pass: ['==0'] });
    expect((await evaluateGates({ gates: some, reportsDir: reports, cwd })).gates[0]!.result).toBe('pass');
  });

  it('takes each audit step from the newest audit that ran it, counting its findings by category', async () => {
    await writeAudit(reports, { finishedAt: '2026-01-10T10:00:00Z', steps: [{ step: 'api' }], findings: [finding('high', 'admin-open', 'api')] });
    await writeAudit(reports, { finishedAt: '2026-01-11T10:00:00Z', steps: [{ step: 'sbom' }, { step: 'vulns' }], findings: [finding('critical', 'CVE-2', 'vulnerability')] });
    const api = gates({ metric: 'security.findings', sources: ['audit:api', 'audit:sbom'], pass: ['==0'] });
    const out = await evaluateGates({ gates: api, reportsDir: reports, cwd });
    // api from the older report (its high finding), sbom from the newer: its vulnerability is not a sbom finding.
    expect(out.gates[0]!.objectives[0]!.findings!.map((f) => f.rule)).toEqual(['admin-open']);
    expect(out.gates[0]!.value).toBe(1);
    const critical = gates({ metric: 'security.findings', severity: 'critical', sources: ['audit:vulns'], pass: ['==0'] });
    expect((await evaluateGates({ gates: critical, reportsDir: reports, cwd })).gates[0]!.value).toBe(1);
  });

  it('the SBOM must be present beside the report and valid', async () => {
    const missing = await writeAudit(reports, { finishedAt: '2026-01-10T10:00:00Z', steps: [{ step: 'sbom' }], sbom: 'absent' });
    const sbomOnly = gates({ metric: 'security.sbom_valid', pass: ['==1'] });
    const absent = await evaluateGates({ gates: sbomOnly, reportsDir: reports, cwd });
    expect(absent.gates[0]).toMatchObject({ result: 'fail', value: 0, measured: true });
    expect(absent.gates[0]!.reason).toBe(`SBOM present and valid: no, needs == yes (reports/${dirname(missing).split('/').pop()}/sbom.cdx.json does not exist)`);

    await writeAudit(reports, { finishedAt: '2026-01-11T10:00:00Z', steps: [{ step: 'sbom' }], sbom: 'invalid' });
    expect((await evaluateGates({ gates: sbomOnly, reportsDir: reports, cwd })).gates[0]!.reason).toMatch(/bomFormat is not "CycloneDX"/);

    const counted = await writeAudit(reports, { finishedAt: '2026-01-12T10:00:00Z', steps: [{ step: 'sbom', components: 5 }] });
    expect((await evaluateGates({ gates: sbomOnly, reportsDir: reports, cwd })).gates[0]!.reason).toMatch(/lists 2 components where the audit recorded 5/);
    await writeFile(join(dirname(counted), 'sbom.cdx.json'), 'not json');
    expect((await evaluateGates({ gates: sbomOnly, reportsDir: reports, cwd })).gates[0]!.reason).toMatch(/it is not valid JSON/);

    await writeAudit(reports, { finishedAt: '2026-01-13T10:00:00Z', steps: [{ step: 'sbom', status: 'not_run', reason: 'no lockfile' }] });
    expect((await evaluateGates({ gates: sbomOnly, reportsDir: reports, cwd })).gates[0]!.reason).toMatch(/^not measured: govctl audit --sbom \(audit run-\d+: the sbom step not run: no lockfile\)$/);
  });
});
