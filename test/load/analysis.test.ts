import { describe, expect, it } from 'vitest';
import { analyzeDrift } from '../../src/load/analysis/drift.js';
import { analyzeMemory, leastSquares } from '../../src/load/analysis/memory-trend.js';
import { analyzeSteps } from '../../src/load/analysis/steps.js';
import { encodeHistogram, newHistogram, percentileMs, recordUs } from '../../src/load/histogram.js';
import type { Interval, RequestOutcome, StageResult } from '../../src/load/types.js';
import { fixtureData, outcome } from './report-fixture.js';

const T0 = 1_700_000_000_000;
const MB = 1024 * 1024;

type Stage = Omit<StageResult, 'broken' | 'reasons'>;

/** Stages recorded by the real recorder: per stage [level, requests, errors, latency ms]. */
function stages(spec: Array<[number, number, number, number]>): Stage[] {
  const outcomes: RequestOutcome[] = [];
  const marks: Array<[number, number, string]> = [];
  spec.forEach(([level, requests, errors, latencyMs], s) => {
    const start = T0 + s * 10_000;
    marks.push([start, level, `${level} VUs`]);
    for (let i = 0; i < requests; i++) {
      const failed = i < errors;
      outcomes.push(outcome({ at: start + Math.floor((i * 10_000) / requests), latencyUs: latencyMs * 1000, ...(failed ? { status: 503, error: 'server_error' as const } : {}) }));
    }
  });
  return fixtureData({ startedAt: T0, endedAt: T0 + spec.length * 10_000, outcomes, stages: marks }).stages.map(({ broken: _b, reasons: _r, ...s }) => s);
}

describe('analyzeSteps', () => {
  it('finds the first stage over the error rate or p99 limit and the best throughput before breaking', () => {
    const recorded = stages([
      [50, 500, 0, 20],
      [100, 1000, 5, 40],
      [200, 1500, 30, 60], // 2% errors: breaks
      [500, 1200, 0, 900], // p99 over 800 ms: breaks
    ]);
    const result = analyzeSteps(recorded, { p99LimitMs: 800 });
    expect(result.stages.map((s) => [s.index, s.broken])).toEqual([
      [0, false],
      [1, false],
      [2, true],
      [3, true],
    ]);
    expect(result.breaking_point).toEqual({ stage: 2, label: '200 VUs', level: 200, reasons: ['error rate 2% > 1%'] });
    expect(result.stages[3]!.reasons[0]).toMatch(/^p99 \d+(\.\d+)? ms > 800 ms$/);
    expect(result.max_sustained_throughput_rps).toBe(100);
  });

  it('has no breaking point when every stage holds, and uses no latency criterion without a limit', () => {
    const recorded = stages([
      [50, 500, 0, 2000],
      [100, 900, 9, 3000], // exactly 1%: not over
    ]);
    const result = analyzeSteps(recorded);
    expect(result.breaking_point).toBeNull();
    expect(result.max_sustained_throughput_rps).toBe(90);
    expect(analyzeSteps(recorded, { errorRateLimit: 0.005 }).breaking_point?.stage).toBe(1);
  });

  it('does not judge a stage that sent nothing', () => {
    const result = analyzeSteps(stages([[50, 0, 0, 1]]), { p99LimitMs: 1 });
    expect(result.stages[0]!.broken).toBe(false);
    expect(result.max_sustained_throughput_rps).toBeNull();
  });
});

/** n one-second intervals; `latencyMs(i)` and `requests(i)` per second. */
function intervals(n: number, requests: (i: number) => number, latencyMs: (i: number, k: number) => number): Interval[] {
  return Array.from({ length: n }, (_, i) => {
    const h = newHistogram();
    const count = requests(i);
    for (let k = 0; k < count; k++) recordUs(h, latencyMs(i, k) * 1000);
    return {
      t: T0 + i * 1000,
      requests: count,
      errors: 0,
      throttled: 0,
      dropped: 0,
      latency_ms: count ? { p50: percentileMs(h, 50), p90: percentileMs(h, 90), p99: percentileMs(h, 99), max: percentileMs(h, 100) } : null,
      level: 50,
      histogram: encodeHistogram(h),
    };
  });
}

describe('analyzeDrift', () => {
  it('is not measured with fewer than 20 seconds', () => {
    expect(analyzeDrift(intervals(19, () => 10, () => 1))).toEqual({ status: 'not_measured', reason: 'only 19 seconds recorded (drift needs at least 20)' });
  });

  it('compares the first and last tenth, p99 from their merged histograms', () => {
    // 40 s: tenths of 4 s. First tenth: 100 req/s at 10 ms, except one second with a 200 ms tail
    // of 3 requests. Last tenth: 80 req/s at 20 ms.
    const series = intervals(
      40,
      (i) => (i < 4 ? 100 : i >= 36 ? 80 : 90),
      (i, k) => (i === 0 && k < 3 ? 200 : i < 4 ? 10 : i >= 36 ? 20 : 15),
    );
    const drift = analyzeDrift(series);
    if (drift?.status !== 'measured') throw new Error('expected measured drift');
    expect(drift.first_tenth.throughput_rps).toBe(100);
    expect(drift.last_tenth.throughput_rps).toBe(80);
    expect(drift.throughput_change_pct).toBeCloseTo(-20, 10);
    // 3 of 400 requests at 200 ms is above the 99th percentile of the tenth: p99 is 10 ms, while
    // an average of the seconds' p99s would say (200 + 10 * 3) / 4 = 57.5 ms.
    expect(drift.first_tenth.p99_ms).toBeCloseTo(10, 1);
    expect(drift.last_tenth.p99_ms).toBeCloseTo(20, 1);
    expect(drift.p99_change_pct).toBeCloseTo(100, 0);
  });

  it('counts only the part of a partial edge second inside the window', () => {
    const series = intervals(20, (i) => (i === 0 || i === 19 ? 50 : 100), () => 5);
    const drift = analyzeDrift(series, { started_at: T0 + 500, ended_at: T0 + 19_500 });
    if (drift?.status !== 'measured') throw new Error('expected measured drift');
    expect(drift.first_tenth.throughput_rps).toBe(100); // (50 + 100) / 1.5 s
    expect(drift.last_tenth.throughput_rps).toBe(100);
    expect(drift.throughput_change_pct).toBe(0);
    const empty = analyzeDrift(intervals(20, () => 0, () => 1));
    expect(empty).toMatchObject({ status: 'measured', throughput_change_pct: null, p99_change_pct: null, first_tenth: { throughput_rps: 0, p99_ms: null } });
  });
});

describe('analyzeMemory', () => {
  const minute = 60_000;
  const series = (n: number, rss: (i: number) => number) => Array.from({ length: n }, (_, i) => ({ t: T0 + i * minute, rss_bytes: rss(i) }));

  it('fits a least-squares line', () => {
    expect(leastSquares([0, 1, 2, 3], [1, 3, 5, 7])).toEqual({ slope: 2, intercept: 1, r2: 1 });
    expect(leastSquares([1, 1, 1], [1, 2, 3])).toMatchObject({ slope: 0, r2: 0 });
  });

  it('suspects a leak on a steady climb above 10% and 20 MiB', () => {
    const m = analyzeMemory(series(60, (i) => 100 * MB + i * MB + (i % 2) * 0.5 * MB), 'metrics');
    if (m?.status !== 'measured') throw new Error('expected measured');
    expect(m.slope_bytes_per_min).toBeCloseTo(MB, -4);
    expect(m.suspected_leak).toBe(true);
    expect(m.source).toBe('metrics');
    expect(m.samples).toHaveLength(60);
  });

  it('does not suspect a flat sawtooth, a small climb, a relatively small climb, or a decline', () => {
    const sawtooth = analyzeMemory(series(60, (i) => 200 * MB + (i % 10) * 8 * MB), 'process');
    const small = analyzeMemory(series(60, (i) => 50 * MB + i * 0.3 * MB), 'process'); // +18 MiB
    const relative = analyzeMemory(series(60, (i) => 2000 * MB + i * MB), 'process'); // +59 MiB of 2 GiB
    const decline = analyzeMemory(series(60, (i) => 300 * MB - i * MB), 'process');
    for (const m of [sawtooth, small, relative, decline]) expect(m).toMatchObject({ status: 'measured', suspected_leak: false });
  });

  it('does not suspect a climb the line does not explain (r^2 < 0.5)', () => {
    // A noisy series with a mild upward slope: growth is large but the fit is poor.
    const noisy = analyzeMemory(series(40, (i) => 100 * MB + i * 0.8 * MB + (i % 2 === 0 ? 60 : -60) * MB), 'metrics');
    expect(noisy).toMatchObject({ status: 'measured', suspected_leak: false });
  });

  it('is not measured with fewer than 5 samples, and sorts samples by time', () => {
    expect(analyzeMemory(series(4, () => MB), 'metrics')).toEqual({ status: 'not_measured', reason: 'only 4 memory samples (the trend needs at least 5)' });
    const m = analyzeMemory([...series(5, (i) => i * MB)].reverse(), 'metrics');
    if (m?.status !== 'measured') throw new Error('expected measured');
    expect(m.samples.map((s) => s.rss_bytes)).toEqual([0, 1, 2, 3, 4].map((i) => i * MB));
  });
});
