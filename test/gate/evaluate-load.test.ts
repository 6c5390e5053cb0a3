import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, InvalidInputError } from '../../src/core/errors.js';
import { evaluateGates } from '../../src/gate/evaluate.js';
import { parseGateFile } from '../../src/gate/schema.js';
import { removeDir, tempDir, writeLoad } from '../fixtures/gate/reports.js';

const gates = (g: Record<string, unknown>, extra: Record<string, unknown> = {}) => parseGateFile({ gates: [{ id: 'G2', name: 'latency', ...g }], ...extra }, 'test.json');

describe('load gates (G2 latency, G3 error rate)', () => {
  let cwd: string;
  let reports: string;
  let baseline: string;
  beforeEach(async () => {
    cwd = await tempDir();
    reports = join(cwd, 'reports');
    baseline = join(cwd, 'baseline');
    await mkdir(reports);
    await mkdir(baseline);
  });
  afterEach(async () => {
    await removeDir(cwd);
  });

  it('passes, warns and fails on p99, naming value, criterion and source', async () => {
    const path = await writeLoad(reports, { profile: 'normal', finishedAt: '2026-01-10T10:00:00Z', p99: 812 });
    const spec = { metric: 'load.p99_ms', profile: 'normal', pass: ['<800'], warning: ['<1000'] };
    const warn = await evaluateGates({ gates: gates(spec), reportsDir: 'reports', cwd });
    const g = warn.gates[0]!;
    expect(g).toMatchObject({ id: 'G2', result: 'warn', value: 812, unit: 'ms', metric: 'load.p99_ms', criteria: 'pass: <800; warning: <1000', measured: true, score: 0.5 });
    expect(g.reason).toBe('p99 latency (profile normal): 812 ms, needs < 800 ms; meets warning <1000');
    expect(g.source).toMatchObject({ kind: 'report', path, schema: 'govctl.load/v1', finished_at: '2026-01-10T10:00:00.000Z' });
    expect(g.source!.run_id).toMatch(/^run-/);
    expect(g.objectives[0]!.description).toMatch(/1000 requests over 2 s/);

    const pass = await evaluateGates({ gates: gates({ ...spec, pass: ['<900'] }), reportsDir: reports, cwd });
    expect(pass.gates[0]).toMatchObject({ result: 'pass', reason: 'p99 latency (profile normal): 812 ms, meets <900' });
    const fail = await evaluateGates({ gates: gates({ ...spec, warning: ['<810'] }), reportsDir: reports, cwd });
    expect(fail.gates[0]).toMatchObject({ result: 'fail', score: 0 });
    expect(fail.gates[0]!.reason).toBe('p99 latency (profile normal): 812 ms, needs < 800 ms; warning needs < 810 ms');
    expect(fail.reports.used.map((s) => s.path)).toEqual([path]);
  });

  it('reads the newest report of the profile by finished_at, leaving out shards and interrupted runs', async () => {
    await writeLoad(reports, { profile: 'normal', finishedAt: '2026-01-10T10:00:00Z', p99: 100 });
    const newest = await writeLoad(join(reports, 'nested'), { profile: 'normal', finishedAt: '2026-01-12T10:00:00Z', p99: 300 });
    await writeLoad(reports, { profile: 'normal', finishedAt: '2026-01-11T10:00:00Z', p99: 200 });
    const shard = await writeLoad(reports, { profile: 'normal', finishedAt: '2026-01-13T10:00:00Z', p99: 9000, segment: { index: 0, count: 2 } });
    const partial = await writeLoad(reports, { profile: 'normal', finishedAt: '2026-01-14T10:00:00Z', p99: 9000, status: 'interrupted' });
    await writeLoad(reports, { profile: 'burst', finishedAt: '2026-01-15T10:00:00Z', p99: 9000 });
    const out = await evaluateGates({ gates: gates({ metric: 'load.p99_ms', profile: 'normal', pass: ['<800'] }), reportsDir: reports, cwd });
    expect(out.gates[0]).toMatchObject({ result: 'pass', value: 300 });
    expect(out.gates[0]!.source!.path).toBe(newest);
    expect(out.reports.ignored.map((i) => i.path).sort()).toEqual([shard, partial].sort());
    expect(out.reports.ignored.find((i) => i.path === shard)!.reason).toMatch(/shard \(segment 0\/2\)/);
  });

  it('error rate is a percentage: < 1% under load and < 0.2% in soak', async () => {
    await writeLoad(reports, { profile: 'normal', finishedAt: '2026-01-10T10:00:00Z', errors: 5, requests: 1000 });
    await writeLoad(reports, { profile: 'soak', finishedAt: '2026-01-10T11:00:00Z', errors: 3, requests: 1000 });
    const file = gates({
      objectives: [
        { metric: 'load.error_rate_pct', profile: 'normal', pass: ['<1'] },
        { metric: 'load.error_rate_pct', profile: 'soak', pass: ['<0.2'] },
      ],
    });
    const out = await evaluateGates({ gates: file, reportsDir: reports, cwd });
    const [normal, soak] = out.gates[0]!.objectives;
    expect(normal).toMatchObject({ result: 'pass', value: 0.5, unit: '%' });
    expect(soak).toMatchObject({ result: 'fail', value: 0.3 });
    expect(out.gates[0]).toMatchObject({ result: 'fail', value: 0.3, reason: 'error rate (profile soak): 0.3%, needs < 0.2%' });
    await writeLoad(reports, { profile: 'soak', finishedAt: '2026-01-11T11:00:00Z', errors: 1, requests: 1000 });
    const both = await evaluateGates({ gates: file, reportsDir: reports, cwd });
    expect(both.gates[0]).toMatchObject({ result: 'pass', value: 0.5, reason: 'error rate (profile normal): 0.5%, meets <1; error rate (profile soak): 0.1%, meets <0.2' });
  });

  it('fails as not measured, naming the command, when the profile never ran (never a default)', async () => {
    await writeLoad(reports, { profile: 'normal', finishedAt: '2026-01-10T10:00:00Z', p99: 10 });
    const out = await evaluateGates({ gates: gates({ metric: 'load.p99_ms', profile: 'burst', pass: ['<800'] }), reportsDir: reports, cwd });
    expect(out.gates[0]).toMatchObject({ result: 'fail', value: null, measured: false, source: null });
    expect(out.gates[0]!.reason).toBe('not measured: govctl load --profile burst (no load report of profile "burst" under reports)');
    expect(out.counts).toEqual({ pass: 0, warn: 0, fail: 1, not_measured: 1, total: 1 });

    const elsewhere = await evaluateGates({ gates: gates({ metric: 'load.p99_ms', profile: 'burst', pass: ['<800'] }), reportsDir: baseline, cwd });
    expect(elsewhere.gates[0]!.reason).toBe('not measured: govctl load --profile burst --out baseline (no load report of profile "burst" under baseline)');
  });

  it('not measured when the report lacks the metric: an endpoint it does not have, no drift analysis, no requests', async () => {
    await writeLoad(reports, { profile: 'normal', finishedAt: '2026-01-10T10:00:00Z', requests: 0 });
    const file = gates({
      objectives: [
        { metric: 'load.p99_ms', profile: 'normal', endpoint: 'nope', pass: ['<800'] },
        { metric: 'load.p99_drift_pct', profile: 'normal', pass: ['<=10'] },
        { metric: 'load.error_rate_pct', profile: 'normal', pass: ['<1'] },
      ],
    });
    const [endpoint, drift, rate] = (await evaluateGates({ gates: file, reportsDir: reports, cwd })).gates[0]!.objectives;
    expect(endpoint!.reason).toMatch(/^not measured: govctl load --profile normal \(load run run-\d+ has no endpoint "nope" \(it has: check_allowed/);
    expect(drift!.reason).toMatch(/did not analyse drift/);
    expect(rate!.reason).toMatch(/measured no requests/);
    expect([endpoint, drift, rate].every((o) => !o!.measured && o!.result === 'fail')).toBe(true);
  });

  it('compares relative criteria with the same metric in the baseline directory', async () => {
    await writeLoad(reports, { profile: 'normal', finishedAt: '2026-01-10T10:00:00Z', p99: 760 });
    await writeLoad(baseline, { profile: 'normal', finishedAt: '2026-01-01T10:00:00Z', p99: 700 });
    const spec = { metric: 'load.p99_ms', profile: 'normal', pass: ['<=+10%'], warning: ['<=+20%'] };
    const pass = await evaluateGates({ gates: gates(spec), reportsDir: reports, baselineDir: baseline, cwd });
    expect(pass.gates[0]).toMatchObject({ result: 'pass', value: 760, baseline_value: 700 });
    expect(pass.gates[0]!.objectives[0]!.baseline!.source!.path).toContain(baseline);
    expect(pass.gates[0]!.objectives[0]!.checks.pass[0]![0]!.target).toBeCloseTo(770, 9);

    const tighter = await evaluateGates({ gates: gates({ ...spec, pass: ['<=+5%'] }), reportsDir: reports, baselineDir: baseline, cwd });
    expect(tighter.gates[0]).toMatchObject({ result: 'warn' });
    expect(tighter.gates[0]!.reason).toBe('p99 latency (profile normal): 760 ms, needs <= +5% of the baseline 700 ms (735 ms); meets warning <=+20%');
    const absolute = await evaluateGates({ gates: gates({ ...spec, pass: ['<=+60'] }), reportsDir: reports, baselineDir: baseline, cwd });
    expect(absolute.gates[0]!.result).toBe('pass');
    const over = await evaluateGates({ gates: gates({ ...spec, pass: ['<=+50'], warning: undefined }), reportsDir: reports, baselineDir: baseline, cwd });
    expect(over.gates[0]!.reason).toBe('p99 latency (profile normal): 760 ms, needs <= +50 of the baseline 700 ms (750 ms)');
  });

  it('a relative criterion without a baseline fails as not measured, never passes silently', async () => {
    await writeLoad(reports, { profile: 'normal', finishedAt: '2026-01-10T10:00:00Z', p99: 10 });
    const spec = { metric: 'load.p99_ms', profile: 'normal', pass: ['<=+10%'] };
    const none = await evaluateGates({ gates: gates(spec), reportsDir: reports, cwd });
    expect(none.gates[0]!.result).toBe('fail');
    expect(none.gates[0]!.reason).toBe(
      'p99 latency (profile normal): 10 ms, needs <= +10% of the baseline (not measured: no baseline directory given (--baseline DIR with earlier reports))',
    );
    const empty = await evaluateGates({ gates: gates(spec), reportsDir: reports, baselineDir: baseline, cwd });
    expect(empty.gates[0]!.reason).toContain('not measured: no baseline value in baseline: no load report of profile "normal" under baseline');
    // OR with an absolute criterion: the absolute one still decides.
    const either = await evaluateGates({ gates: gates({ ...spec, pass: [['<=+10%'], ['<800']] }), reportsDir: reports, cwd });
    expect(either.gates[0]!.result).toBe('pass');
  });

  it('a report of an unknown schema version, or a malformed one, is bad input naming the file (exit 2)', async () => {
    const dir = join(reports, 'future');
    await mkdir(dir);
    const report = JSON.parse(await import('node:fs/promises').then((fs) => writeLoad(reports, { profile: 'normal', finishedAt: '2026-01-10T10:00:00Z' }).then((p) => fs.readFile(p, 'utf8'))));
    await writeFile(join(dir, 'load.json'), JSON.stringify({ ...report, schema: 'govctl.load/v9' }));
    const err = await evaluateGates({ gates: gates({ metric: 'load.p99_ms', profile: 'normal', pass: ['<800'] }), reportsDir: reports, cwd }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).exitCode).toBe(ExitCode.usage);
    expect((err as Error).message).toContain(join(dir, 'load.json'));
    expect((err as Error).message).toContain('$.schema: expected "govctl.load/v1", found "govctl.load/v9"');

    await writeFile(join(dir, 'load.json'), JSON.stringify({ ...report, data: { ...report.data, totals: { requests: 'many' } } }));
    await expect(evaluateGates({ gates: gates({ metric: 'load.p99_ms', profile: 'normal', pass: ['<800'] }), reportsDir: reports, cwd })).rejects.toThrow(/\$\.data\.totals/);
  });

  it('a missing reports or baseline directory is bad input (exit 2)', async () => {
    const file = gates({ metric: 'load.p99_ms', profile: 'normal', pass: ['<800'] });
    const err = await evaluateGates({ gates: file, reportsDir: 'nowhere', cwd }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toBe(`reports directory ${join(cwd, 'nowhere')} does not exist`);
    await expect(evaluateGates({ gates: file, reportsDir: reports, baselineDir: 'nope', cwd })).rejects.toThrow(/baseline directory .*nope does not exist/);
  });
});
