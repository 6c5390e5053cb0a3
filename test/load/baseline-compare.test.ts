import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError } from '../../src/core/errors.js';
import { buildReport, writeReport } from '../../src/core/report.js';
import { autoBaselinePath, compareToBaseline, loadBaseline } from '../../src/load/baseline-compare.js';
import type { LoadReportData } from '../../src/load/types.js';
import { fixtureData, fixtureReport, outcome } from './report-fixture.js';

const T0 = 1_700_000_000_000;

/** Data whose totals are set directly: only the compared figures matter here. */
function withTotals(t: { p50: number; p95: number; p99: number; rps: number; errorRate: number; throttled?: number; dropped?: number; requests?: number }): LoadReportData {
  const d = fixtureData({ startedAt: T0, endedAt: T0 + 1000, outcomes: [outcome({ at: T0 + 1 })] });
  const requests = t.requests ?? 1000;
  d.totals = {
    ...d.totals,
    requests,
    errors: Math.round(t.errorRate * requests),
    error_rate: t.errorRate,
    throughput_rps: t.rps,
    throttled: t.throttled ?? 0,
    dropped: t.dropped ?? 0,
    latency_ms: { ...d.totals.latency_ms, p50: t.p50, p95: t.p95, p99: t.p99 },
  };
  return d;
}

describe('compareToBaseline', () => {
  const baseline = withTotals({ p50: 10, p95: 100, p99: 200, rps: 1000, errorRate: 0.002 });

  it('passes within the default limits and reports every delta', () => {
    const current = withTotals({ p50: 11, p95: 109, p99: 229, rps: 905, errorRate: 0.011, throttled: 10, dropped: 3 });
    const result = compareToBaseline(current, baseline, 'baselines/normal.json');
    expect(result.passed).toBe(true);
    expect(result.regressions).toEqual([]);
    expect(result.source).toBe('baselines/normal.json');
    expect(result.deltas).toEqual([
      { metric: 'p50_ms', baseline: 10, current: 11, change: '+10%' },
      { metric: 'p95_ms', baseline: 100, current: 109, change: '+9%' },
      { metric: 'p99_ms', baseline: 200, current: 229, change: '+14.5%' },
      { metric: 'throughput_rps', baseline: 1000, current: 905, change: '-9.5%' },
      { metric: 'error_rate', baseline: 0.002, current: 0.011, change: '+0.9 pt' },
      { metric: 'throttled_rate', baseline: 0, current: 0.01, change: '+1 pt' },
      { metric: 'dropped', baseline: 0, current: 3, change: '+3' },
    ]);
  });

  it('flags each regression with its limit', () => {
    const current = withTotals({ p50: 10, p95: 111, p99: 231, rps: 899, errorRate: 0.0125 });
    const result = compareToBaseline(current, baseline, 'b.json');
    expect(result.passed).toBe(false);
    expect(result.regressions).toEqual([
      { metric: 'p95_ms', baseline: 100, current: 111, change: '+11%', limit: '+10%' },
      { metric: 'p99_ms', baseline: 200, current: 231, change: '+15.5%', limit: '+15%' },
      { metric: 'throughput_rps', baseline: 1000, current: 899, change: '-10.1%', limit: '-10%' },
      { metric: 'error_rate', baseline: 0.002, current: 0.0125, change: '+1.1 pt', limit: '+1 pt' },
    ]);
  });

  it('takes configured limits', () => {
    const current = withTotals({ p50: 10, p95: 111, p99: 231, rps: 899, errorRate: 0.0125 });
    const result = compareToBaseline(current, baseline, 'b.json', { p95_increase_pct: 20, p99_increase_pct: 20, throughput_decrease_pct: 5, error_rate_increase: 0.05 });
    expect(result.regressions.map((r) => [r.metric, r.limit])).toEqual([['throughput_rps', '-5%']]);
  });

  it('does not compare latencies of a run without requests, but flags its throughput', () => {
    const current = withTotals({ p50: 0, p95: 0, p99: 0, rps: 0, errorRate: 0, requests: 0 });
    const result = compareToBaseline(current, baseline, 'b.json');
    expect(result.deltas.find((d) => d.metric === 'p95_ms')).toEqual({ metric: 'p95_ms', baseline: 100, current: null, change: 'n/a' });
    expect(result.regressions.map((r) => r.metric)).toEqual(['throughput_rps']);
  });
});

describe('loadBaseline', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-baseline-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads the data of a saved load report', async () => {
    const data = fixtureData({ startedAt: T0, endedAt: T0 + 1000, outcomes: [outcome({ at: T0 + 1 })] });
    const path = await writeReport(dir, 'load', fixtureReport(data, 'base-1'));
    expect(await loadBaseline(path)).toEqual(data);
  });

  it('is NotFoundError (exit 5) when missing, unless auto', async () => {
    const missing = autoBaselinePath(join(dir, 'baselines'), 'normal');
    expect(missing).toBe(join(dir, 'baselines', 'normal.json'));
    const err = await loadBaseline(missing).catch((e: unknown) => e as NotFoundError);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).exitCode).toBe(5);
    expect((err as NotFoundError).message).toContain(missing);
    expect(await loadBaseline(missing, { auto: true })).toBeUndefined();
  });

  it('refuses another report kind or data without totals, naming the file and path', async () => {
    const scan = join(dir, 'scan.json');
    await writeFile(scan, JSON.stringify(buildReport('scan', { id: 'x', started_at: '2026-01-01T00:00:00Z', finished_at: '2026-01-01T00:00:01Z', status: 'passed' }, {})));
    await expect(loadBaseline(scan, { auto: true })).rejects.toThrow(InvalidInputError);
    const hollow = join(dir, 'hollow.json');
    await writeFile(hollow, JSON.stringify(buildReport('load', { id: 'y', started_at: '2026-01-01T00:00:00Z', finished_at: '2026-01-01T00:00:01Z', status: 'passed' }, { totals: { requests: 1 } })));
    await expect(loadBaseline(hollow)).rejects.toThrow(/hollow\.json.*\$\.totals: missing required field "throughput_rps"/);
  });
});
