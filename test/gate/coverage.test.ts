import { copyFile, mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { evaluateGates } from '../../src/gate/evaluate.js';
import { parseGateFile } from '../../src/gate/schema.js';
import { removeDir, tempDir } from '../fixtures/gate/reports.js';

const LCOV = new URL('../fixtures/gate/coverage/lcov.info', import.meta.url).pathname;
const gates = (g: Record<string, unknown>) => parseGateFile({ gates: [{ id: 'G1', name: 'coverage', ...g }] }, 'test.json');

/** An istanbul json-summary as vitest writes it: absolute file paths, a total. */
function summary(cwd: string, files: Record<string, [number, number]>): string {
  const entry = ([total, covered]: [number, number]) => {
    const c = { total, covered, skipped: 0, pct: total ? Math.round((covered / total) * 10_000) / 100 : 'Unknown' };
    return { lines: c, statements: c, functions: { total: 1, covered: 1, skipped: 0, pct: 100 }, branches: { total: 0, covered: 0, skipped: 0, pct: 'Unknown' } };
  };
  const total = Object.values(files).reduce<[number, number]>((t, [a, b]) => [t[0] + a, t[1] + b], [0, 0]);
  return JSON.stringify({ total: entry(total), ...Object.fromEntries(Object.entries(files).map(([f, v]) => [join(cwd, f), entry(v)])) });
}

describe('coverage gate (G1)', () => {
  let cwd: string;
  let reports: string;
  beforeEach(async () => {
    cwd = await tempDir();
    reports = join(cwd, 'reports');
    await mkdir(reports);
    await mkdir(join(cwd, 'coverage'));
  });
  afterEach(async () => {
    await removeDir(cwd);
  });

  it('reads lines from coverage/coverage-summary.json: pass, warn, fail', async () => {
    const file = join(cwd, 'coverage', 'coverage-summary.json');
    await writeFile(file, summary(cwd, { 'src/a.ts': [100, 80], 'src/b.ts': [100, 66] }));
    const spec = { metric: 'coverage.lines_pct', pass: ['>=75%'], warning: ['>=70'] };
    const warn = await evaluateGates({ gates: gates(spec), reportsDir: reports, cwd });
    expect(warn.gates[0]).toMatchObject({ result: 'warn', value: 73, unit: '%', reason: 'lines coverage: 73%, needs >= 75%; meets warning >=70 (146/200 lines, 73%)' });
    expect(warn.gates[0]!.source).toMatchObject({ kind: 'file', path: file, run_id: null });
    expect(warn.gates[0]!.objectives[0]!.description).toBe('lines: 146 of 200 covered in 2 files (coverage/coverage-summary.json, json-summary)');
    expect((await evaluateGates({ gates: gates({ ...spec, pass: ['>=70'] }), reportsDir: reports, cwd })).gates[0]!.result).toBe('pass');
    expect((await evaluateGates({ gates: gates({ ...spec, warning: ['>=74'] }), reportsDir: reports, cwd })).gates[0]!.result).toBe('fail');
    // Branches: a summary that counts none is not measured, not 100% or 0%.
    const branches = await evaluateGates({ gates: gates({ metric: 'coverage.branches_pct', pass: ['>=50'] }), reportsDir: reports, cwd });
    expect(branches.gates[0]!.reason).toBe(
      'not measured: npx vitest run --coverage --coverage.reporter=json-summary (coverage/coverage-summary.json counts no branches)',
    );
  });

  it('per-path overrides judge their files by their own criteria and leave them out of the overall figure', async () => {
    await writeFile(join(cwd, 'coverage', 'coverage-summary.json'), summary(cwd, { 'src/core/a.ts': [100, 95], 'src/core/b.ts': [100, 85], 'src/cli/x.ts': [100, 76] }));
    const out = await evaluateGates({
      gates: gates({ metric: 'coverage.lines_pct', pass: ['>=75'], overrides: [{ path: 'src/core/', pass: ['>=92'], warning: ['>=90'] }, { path: 'src/cli/**/*.ts', pass: ['>=80'] }] }),
      reportsDir: reports,
      cwd,
    });
    const [overall, core, cli] = out.gates[0]!.objectives;
    expect(overall).toMatchObject({ label: 'lines coverage excluding src/core/, src/cli/**/*.ts', result: 'fail', measured: false });
    expect(overall!.reason).toMatch(/no file in coverage\/coverage-summary\.json matches excluding src\/core\/, src\/cli\/\*\*\/\*\.ts/);
    expect(core).toMatchObject({ label: 'lines coverage of src/core/', value: 90, result: 'warn' });
    expect(cli).toMatchObject({ value: 76, result: 'fail', reason: 'lines coverage of src/cli/**/*.ts: 76%, needs >= 80% (76/100 lines, 76%)' });

    const one = await evaluateGates({ gates: gates({ metric: 'coverage.lines_pct', pass: ['>=75'], overrides: [{ path: 'src/core', pass: ['>=85'] }] }), reportsDir: reports, cwd });
    expect(one.gates[0]!.objectives.map((o) => [o.value, o.result])).toEqual([[76, 'pass'], [90, 'pass']]);
  });

  it('reads lcov: LF/LH totals, per-file paths, and says statements are not in lcov', async () => {
    await copyFile(LCOV, join(reports, 'lcov.info'));
    const out = await evaluateGates({
      gates: gates({
        objectives: [
          { metric: 'coverage.lines_pct', pass: ['>=75'] },
          { metric: 'coverage.lines_pct', path: 'src/core', pass: ['>=90'] },
          { metric: 'coverage.branches_pct', pass: ['>=50'] },
          { metric: 'coverage.statements_pct', pass: ['>=50'] },
        ],
      }),
      reportsDir: reports,
      cwd,
    });
    const [lines, core, branches, statements] = out.gates[0]!.objectives;
    expect(lines).toMatchObject({ value: 75, result: 'pass' });
    expect(lines!.description).toBe('lines: 150 of 200 covered in 3 files (reports/lcov.info, lcov)');
    expect(core).toMatchObject({ value: 90, result: 'pass' });
    expect(branches!.value).toBeCloseTo((19 / 30) * 100, 9);
    expect(statements!.reason).toContain('reports/lcov.info (lcov) has no statements counts');
  });

  it('takes the newest coverage file, or exactly the files the gate names; none is not measured', async () => {
    const none = await evaluateGates({ gates: gates({ metric: 'coverage.lines_pct', pass: ['>=75'] }), reportsDir: reports, cwd });
    expect(none.gates[0]!.reason).toBe(
      'not measured: npx vitest run --coverage --coverage.reporter=json-summary (no coverage-summary.json or lcov.info (any istanbul json-summary or lcov reporter) in reports or coverage/coverage-summary.json, coverage/lcov.info)',
    );
    await copyFile(LCOV, join(reports, 'lcov.info'));
    await writeFile(join(cwd, 'coverage', 'coverage-summary.json'), summary(cwd, { 'src/a.ts': [10, 1] }));
    await utimes(join(reports, 'lcov.info'), new Date('2026-01-01'), new Date('2026-01-01'));
    await utimes(join(cwd, 'coverage', 'coverage-summary.json'), new Date('2026-01-02'), new Date('2026-01-02'));
    expect((await evaluateGates({ gates: gates({ metric: 'coverage.lines_pct', pass: ['>=75'] }), reportsDir: reports, cwd })).gates[0]!.value).toBe(10);
    const named = await evaluateGates({ gates: gates({ metric: 'coverage.lines_pct', files: ['reports/lcov.info'], pass: ['>=75'] }), reportsDir: reports, cwd });
    expect(named.gates[0]!.value).toBe(75);
  });

  it('compares with the coverage in the baseline directory', async () => {
    const baseline = join(cwd, 'baseline');
    await mkdir(baseline);
    await copyFile(LCOV, join(baseline, 'lcov.info'));
    await writeFile(join(cwd, 'coverage', 'coverage-summary.json'), summary(cwd, { 'src/a.ts': [100, 74] }));
    const out = await evaluateGates({ gates: gates({ metric: 'coverage.lines_pct', pass: ['>=-0.5'] }), reportsDir: reports, baselineDir: baseline, cwd });
    expect(out.gates[0]).toMatchObject({ result: 'fail', value: 74, baseline_value: 75 });
    expect(out.gates[0]!.reason).toBe('lines coverage: 74%, needs >= -0.5 of the baseline 75% (74.5%) (74/100 lines, 74%)');
  });

  it('an invalid coverage file is bad input naming the file and the JSON path', async () => {
    await writeFile(join(cwd, 'coverage', 'coverage-summary.json'), JSON.stringify({ total: { lines: { total: 'x', covered: 1 } } }));
    const err = await evaluateGates({ gates: gates({ metric: 'coverage.lines_pct', pass: ['>=75'] }), reportsDir: reports, cwd }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toMatch(/coverage summary .*coverage-summary\.json is invalid: \$\.total\.lines\.total: must be number/);
    await writeFile(join(cwd, 'coverage', 'coverage-summary.json'), '');
    await writeFile(join(reports, 'lcov.info'), 'SF:a.ts\nLF:ten\nend_of_record\n');
    await utimes(join(cwd, 'coverage', 'coverage-summary.json'), new Date('2020-01-01'), new Date('2020-01-01'));
    await expect(evaluateGates({ gates: gates({ metric: 'coverage.lines_pct', pass: ['>=75'] }), reportsDir: reports, cwd })).rejects.toThrow(/lcov file .*lcov\.info:2: expected a count after LF:, found "ten"/);
  });
});
