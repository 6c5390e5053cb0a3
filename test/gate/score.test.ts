import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluateGates } from '../../src/gate/evaluate.js';
import { loadGateFile, parseGateFile } from '../../src/gate/schema.js';
import { overallOf } from '../../src/gate/score.js';
import type { GateOutcome, GateResult } from '../../src/gate/types.js';
import { removeDir, tempDir, writeLoad, writeRelease } from '../fixtures/gate/reports.js';

function result(id: string, outcome: GateOutcome, weight = 1, key = false): GateResult {
  const score = outcome === 'pass' ? weight : outcome === 'warn' ? weight / 2 : 0;
  return { id, name: id, key, weight, result: outcome, measured: true, metric: 'm', value: 1, unit: 'count', criteria: '', reason: '', source: null, score, objectives: [] };
}

describe('total score and key gates', () => {
  it('weights passed gates fully and warned ones by half, over the total weight', () => {
    const o = overallOf([result('a', 'pass', 2), result('b', 'warn', 2), result('c', 'fail', 1), result('d', 'pass', 3)], { pass: 90, warning: 75 });
    expect(o.score).toBe(75); // (2 + 1 + 0 + 3) / 8
    expect(o.result).toBe('warn');
    expect(o.counts).toEqual({ pass: 2, warn: 1, fail: 1, not_measured: 0, total: 4 });
    expect(o.reason).toBe('warn: score 75% (pass >= 90%, warning >= 75%); failed: c; warned: b');
    expect(overallOf([result('a', 'pass', 9), result('b', 'fail', 1)], { pass: 90, warning: 75 }).result).toBe('pass');
    expect(overallOf([result('a', 'pass', 1), result('b', 'fail', 2)], { pass: 90, warning: 75 })).toMatchObject({ result: 'fail', score: 33.3333 });
    expect(overallOf([result('a', 'fail', 0)], { pass: 90, warning: 75 })).toMatchObject({ score: 100, result: 'pass' });
  });

  it('a failed key gate fails the evaluation even with a high score; a warned one does not', () => {
    const gates = [...Array.from({ length: 19 }, (_, i) => result(`g${i}`, 'pass')), result('K', 'fail', 1, true)];
    const o = overallOf(gates, { pass: 90, warning: 75 });
    expect(o.score).toBe(95);
    expect(o).toMatchObject({ result: 'fail', key_failures: ['K'] });
    expect(o.reason).toBe('fail: key gate K failed; score 95% (pass >= 90%, warning >= 75%)');
    expect(overallOf([...gates.slice(0, 19), result('K', 'warn', 1, true)], { pass: 90, warning: 75 })).toMatchObject({ result: 'pass', key_failures: [] });
  });
});

describe('evaluating a gate set end to end', () => {
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

  it('a warn-level gate reports its failure, not measured included, as a warning', async () => {
    await writeLoad(reports, { profile: 'normal', finishedAt: '2026-01-10T10:00:00Z', p99: 900, errors: 0 });
    const file = parseGateFile(
      {
        name: 'levels',
        gates: [
          { id: 'lat', name: 'latency', level: 'warn', metric: 'load.p99_ms', profile: 'normal', pass: ['<800'] },
          { id: 'soak', name: 'soak', level: 'warn', metric: 'load.error_rate_pct', profile: 'soak', pass: ['<0.2'] },
          { id: 'err', name: 'errors', weight: 8, metric: 'load.error_rate_pct', profile: 'normal', pass: ['<1'] },
        ],
      },
      'levels.json',
    );
    const out = await evaluateGates({ gates: file, reportsDir: reports, cwd });
    expect(out.gates.map((g) => [g.id, g.result, g.measured])).toEqual([['lat', 'warn', true], ['soak', 'warn', false], ['err', 'pass', true]]);
    expect(out.gates[0]!.reason).toMatch(/^\(level warn\) .*900/);
    expect(out.gates[1]!.reason).toContain('not measured: govctl load --profile soak');
    // Warned gates cost half their weight: (0.5 + 0.5 + 8) / 10 = 90%, and nothing failed.
    expect(out).toMatchObject({ score: 90, result: 'pass', key_failures: [] });
    expect(() => parseGateFile({ name: 'x', gates: [{ id: 'a', name: 'a', level: 'fatal', metric: 'load.p99_ms', profile: 'normal', pass: ['<1'] }] }, 'x.json')).toThrow(/level/);
  });

  it('scores a gate set and lists the reports used', async () => {
    const normal = await writeLoad(reports, { profile: 'normal', finishedAt: '2026-01-10T10:00:00Z', p99: 300, errors: 0 });
    const release = await writeRelease(reports, '2026-01-10T12:00:00Z', { bootstrap_s: 700 });
    const file = parseGateFile(
      {
        name: 'mine',
        total_score: { pass: '80%', warning: 50 },
        gates: [
          { id: 'lat', name: 'latency', weight: 3, metric: 'load.p99_ms', profile: 'normal', pass: ['<800'] },
          { id: 'err', name: 'errors', weight: 2, metric: 'load.error_rate_pct', profile: 'normal', pass: ['<1'] },
          { id: 'boot', name: 'bootstrap', metric: 'bootstrap.seconds', pass: ['<=600'], warning: ['<=900'] },
          { id: 'soak', name: 'soak', key: true, metric: 'load.error_rate_pct', profile: 'soak', pass: ['<0.2'] },
        ],
      },
      'mine.json',
    );
    const out = await evaluateGates({ gates: file, reportsDir: reports, cwd, now: new Date('2026-02-01T00:00:00Z') });
    expect(out.gates.map((g) => [g.id, g.result, g.score])).toEqual([['lat', 'pass', 3], ['err', 'pass', 2], ['boot', 'warn', 0.5], ['soak', 'fail', 0]]);
    expect(out).toMatchObject({
      gates_file: { name: 'mine', source: 'mine.json' },
      evaluated_at: '2026-02-01T00:00:00.000Z',
      reports_dir: reports,
      baseline_dir: null,
      score: 78.5714,
      total_score: { pass: 80, warning: 50 },
      result: 'fail',
      key_failures: ['soak'],
      counts: { pass: 2, warn: 1, fail: 1, not_measured: 1, total: 4 },
    });
    expect(out.reports.used.map((s) => s.path).sort()).toEqual([normal, release].sort());
    // The evaluation is plain data: it survives JSON (it is the data of a govctl.gate/v1 report).
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
  });

  it('the shipped release set on an empty directory: every gate fails, none with a default value', async () => {
    const out = await evaluateGates({ gates: await loadGateFile('release', { cwd }), reportsDir: reports, cwd });
    expect(out.result).toBe('fail');
    expect(out.key_failures).toEqual(['G4', 'G5']);
    expect(out.gates.every((g) => g.result === 'fail' && g.value === null === (g.id !== 'G8'))).toBe(true);
    expect(out.gates.filter((g) => g.id !== 'G8').every((g) => g.reason.startsWith('not measured: '))).toBe(true);
    expect(out.counts.not_measured).toBe(7);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const file = parseGateFile({ gates: [{ id: 'a', name: 'a', metric: 'bootstrap.seconds', pass: ['<1'] }] }, 'a.json');
    await expect(evaluateGates({ gates: file, reportsDir: reports, cwd, signal: controller.signal })).rejects.toMatchObject({ code: 'GOVCTL_INTERRUPTED' });
  });
});
