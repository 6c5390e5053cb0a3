import { describe, expect, it } from 'vitest';
import {
  HIGHEST_US,
  countUs,
  countsIndexUs,
  countsToHistogram,
  newCounts,
  decodeHistogram,
  encodeHistogram,
  newHistogram,
  percentileDistribution,
  recordUs,
  resetHistogram,
  summarize,
} from '../../src/load/histogram.js';
import { LoadRecorder } from '../../src/load/recorder.js';
import { InvalidInputError } from '../../src/core/errors.js';
import { ENDPOINTS, outcome, syntheticOutcomes } from './report-fixture.js';

const T0 = 1_700_000_000_250; // a quarter into a wall-clock second

describe('histogram', () => {
  it('summarises in ms, identically after an encode/decode round trip', () => {
    const h = newHistogram();
    for (let v = 1; v <= 10_000; v++) recordUs(h, v * 10);
    const s = summarize(h);
    expect(s.count).toBe(10_000);
    expect(s.p50).toBeCloseTo(50, 0);
    expect(s.p99).toBeCloseTo(99, 0);
    expect(s.max).toBeCloseTo(100, 0);
    expect(s.min).toBe(0.01);
    expect(summarize(decodeHistogram(encodeHistogram(h)))).toEqual(s);
  });

  it('gives zeros for an empty histogram and resets in place', () => {
    const h = newHistogram();
    expect(summarize(h)).toEqual({ count: 0, min: 0, mean: 0, stdev: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 });
    recordUs(h, 5000);
    resetHistogram(h);
    expect(h.totalCount).toBe(0);
    expect(percentileDistribution(h)).toEqual([]);
  });

  it('clamps values above one hour and negative values instead of throwing', () => {
    const h = newHistogram();
    recordUs(h, HIGHEST_US * 10);
    recordUs(h, -5);
    recordUs(h, 12.6);
    expect(h.totalCount).toBe(3);
    expect(summarize(h).max).toBeGreaterThanOrEqual(HIGHEST_US / 1000);
    expect(summarize(h).max).toBeLessThan((HIGHEST_US / 1000) * 1.001);
  });

  it('counts in the histograms\' own bucket layout', () => {
    const h = newHistogram();
    const values = [0, 1, 2047, 2048, 2049, 4095, 4096, 123_456, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 5, HIGHEST_US - 1, HIGHEST_US];
    for (let v = 1; v < 5e8; v = Math.ceil(v * 1.37)) values.push(v);
    for (const v of values) expect(countsIndexUs(v)).toBe(h.countsArrayIndex(v));
    expect(countsIndexUs(HIGHEST_US * 2)).toBe(h.countsArrayIndex(HIGHEST_US));
    expect(countsIndexUs(12.5)).toBe(h.countsArrayIndex(13));
    const counts = newCounts();
    for (const v of values) countUs(counts, v);
    const direct = newHistogram();
    for (const v of values) recordUs(direct, v);
    expect(summarize(countsToHistogram(counts))).toEqual(summarize(direct));
    expect(encodeHistogram(countsToHistogram(counts))).toBe(encodeHistogram(decodeHistogram(encodeHistogram(direct))));
  });

  it('names the source of a histogram that does not decode', () => {
    expect(() => decodeHistogram('not a histogram', 'report 2 $.data.totals.histograms.latency')).toThrow(InvalidInputError);
    expect(() => decodeHistogram('not a histogram', 'report 2 $.data.totals.histograms.latency')).toThrow(/report 2 \$\.data\.totals/);
  });

  it('plots at HdrHistogram percentile levels up to the maximum', () => {
    const h = newHistogram();
    for (let v = 1; v <= 100_000; v++) recordUs(h, v);
    const points = percentileDistribution(h, 5);
    expect(points.slice(0, 8).map((p) => p.percentile)).toEqual([0, 10, 20, 30, 40, 50, 55, 60]);
    for (let i = 1; i < points.length; i++) {
      expect(points[i]!.percentile).toBeGreaterThan(points[i - 1]!.percentile);
      expect(points[i]!.value_ms).toBeGreaterThanOrEqual(points[i - 1]!.value_ms);
    }
    expect(points.at(-1)!.value_ms).toBe(summarize(h).max);
    expect(points.at(-1)!.percentile).toBeLessThanOrEqual(99.9999);
  });
});

describe('LoadRecorder', () => {
  it('counts every outcome by endpoint, status class, status code and error class', () => {
    const rec = new LoadRecorder({ requests: ENDPOINTS, startedAt: T0 });
    rec.record(outcome({ at: T0 - 1, latencyUs: 999_999 })); // warm-up leftover: ignored
    rec.record(outcome({ at: T0 + 10, request: 0, status: 200, latencyUs: 2000, serviceUs: 1000 }));
    rec.record(outcome({ at: T0 + 20, request: 1, status: 503, error: 'server_error', latencyUs: 4000 }));
    rec.record(outcome({ at: T0 + 30, request: 1, status: 429, throttled: true, retryAfter: true, latencyUs: 500 }));
    rec.record(outcome({ at: T0 + 40, request: 2, status: 429, throttled: true, retryAfter: false, latencyUs: 500 }));
    rec.record(outcome({ at: T0 + 50, request: 3, status: 0, error: 'timeout', latencyUs: 30_000 }));
    rec.record(outcome({ at: T0 + 60, request: 0, status: 400, error: 'unexpected_4xx', latencyUs: 800 }));
    rec.dropped(T0 + 70, 2);
    rec.dropped(T0 - 5, 2); // before the window: ignored
    const r = rec.finish(T0 + 2000);

    expect(r.totals).toMatchObject({
      requests: 6,
      ok: 1,
      errors: 3,
      throttled: 2,
      throttled_without_retry_after: 1,
      dropped: 1,
      status_codes: { '0': 1, '200': 1, '400': 1, '429': 2, '503': 1 },
      duration_ms: 2000,
      throughput_rps: 3,
      error_rate: 0.5,
    });
    expect(r.totals.error_classes).toMatchObject({ server_error: 1, timeout: 1, unexpected_4xx: 1, reset: 0 });
    expect(r.totals.latency_ms.max).toBeCloseTo(30, 1);
    expect(r.totals.service_ms.min).toBeCloseTo(0.5, 2);
    expect(Object.keys(r.endpoints)).toEqual(ENDPOINTS);
    expect(r.endpoints['check_blocked']).toMatchObject({ requests: 2, errors: 1, throttled: 1 });
    expect(r.endpoints['evaluate']).toMatchObject({ requests: 1, dropped: 1, throttled_without_retry_after: 1 });
    expect(Object.keys(r.status_classes).sort()).toEqual(['2xx', '4xx', '5xx', 'none']);
    expect(r.status_classes['4xx']).toMatchObject({ requests: 3, throttled: 2, errors: 1 });
    expect(r.status_classes['none']!.error_classes.timeout).toBe(1);
  });

  it('keeps percentiles equal to one histogram of every sample', () => {
    const outcomes = syntheticOutcomes(7, 5000, T0, T0 + 4000);
    const rec = new LoadRecorder({ requests: ENDPOINTS, startedAt: T0 });
    const latency = newHistogram();
    const service = newHistogram();
    const checkAllowed = newHistogram();
    for (const o of outcomes) {
      rec.record(o);
      recordUs(latency, o.latencyUs);
      recordUs(service, o.serviceUs);
      if (o.request === 0) recordUs(checkAllowed, o.latencyUs);
    }
    const r = rec.finish(T0 + 4000);
    expect(r.totals.latency_ms).toEqual(summarize(latency));
    expect(r.totals.service_ms).toEqual(summarize(service));
    expect(r.endpoints['check_allowed']!.latency_ms).toEqual(summarize(checkAllowed));
    expect(summarize(decodeHistogram(r.totals.histograms.latency))).toEqual(summarize(latency));
    const sum = (f: (t: (typeof r.endpoints)[string]) => number) => Object.values(r.endpoints).reduce((n, t) => n + f(t), 0);
    expect(sum((t) => t.requests)).toBe(5000);
    expect(sum((t) => t.latency_ms.count)).toBe(5000);
    expect(Object.values(r.status_classes).reduce((n, t) => n + t.requests, 0)).toBe(5000);
  });

  it('closes whole wall-clock seconds on tick, each once, and the partial last one on finish', () => {
    const rec = new LoadRecorder({ requests: ENDPOINTS, startedAt: T0, levelAt: (ms) => Math.floor((ms - T0) / 1000) + 1 });
    const outcomes = syntheticOutcomes(3, 3000, T0, T0 + 3500);
    let i = 0;
    const feedUntil = (wall: number) => {
      while (i < outcomes.length && outcomes[i]!.at < wall) rec.record(outcomes[i++]!);
    };
    feedUntil(T0 + 700);
    expect(rec.tick(T0 + 700)).toEqual([]); // the first second (a partial one) has not ended
    feedUntil(T0 + 1900);
    const first = rec.tick(T0 + 1900);
    expect(first.map((x) => x.t)).toEqual([1_700_000_000_000, 1_700_000_001_000]);
    expect(rec.tick(T0 + 1900)).toEqual([]);
    const live = rec.live();
    expect(live.elapsed_ms).toBe(1900);
    expect(live.rps).toBeCloseTo(first[1]!.requests, 5);
    expect(live.p99_ms).toBe(first[1]!.latency_ms!.p99);
    expect(rec.live().rps).toBeGreaterThan(0);
    feedUntil(Infinity);
    const r = rec.finish(T0 + 3500);
    expect(r.intervals.map((x) => x.t - 1_700_000_000_000)).toEqual([0, 1000, 2000, 3000]);
    expect(r.intervals.reduce((n, x) => n + x.requests, 0)).toBe(3000);
    expect(r.intervals.reduce((n, x) => n + x.errors, 0)).toBe(r.totals.errors);
    expect(r.intervals.reduce((n, x) => n + x.throttled, 0)).toBe(r.totals.throttled);
    // levels at the middle of each second's part inside the window
    expect(r.intervals.map((x) => x.level)).toEqual([1, 2, 3, 4]);
    for (const x of r.intervals) expect(decodeHistogram(x.histogram).totalCount).toBe(x.requests);
    const live2 = rec.live();
    expect(live2.requests).toBe(3000);
  });

  it('records a second with no completions (a stall) as an empty interval', () => {
    const rec = new LoadRecorder({ requests: ENDPOINTS, startedAt: T0 });
    rec.record(outcome({ at: T0 + 100 }));
    rec.record(outcome({ at: T0 + 2900, latencyUs: 2_000_000 })); // in the fourth wall-clock second
    const r = rec.finish(T0 + 3000);
    expect(r.intervals.map((x) => x.requests)).toEqual([1, 0, 0, 1]);
    expect(r.intervals[1]!.latency_ms).toBeNull();
    expect(r.intervals[3]!.latency_ms!.max).toBeCloseTo(2000, -1);
  });

  it('splits totals by stage', () => {
    const rec = new LoadRecorder({ requests: ENDPOINTS, startedAt: T0 });
    rec.beginStage(0, '50 VUs', 50, T0 - 500); // announced during warm-up
    for (let k = 0; k < 10; k++) rec.record(outcome({ at: T0 + k * 50, latencyUs: 1000 }));
    rec.dropped(T0 + 600);
    rec.beginStage(1, '100 VUs', 100, T0 + 1500);
    for (let k = 0; k < 20; k++) rec.record(outcome({ at: T0 + 1500 + k * 50, latencyUs: 9000, status: k < 4 ? 503 : 200, ...(k < 4 ? { error: 'server_error' as const } : {}) }));
    const r = rec.finish(T0 + 3500);
    expect(r.stages.map((s) => [s.index, s.label, s.level, s.started_at - T0, s.ended_at - T0])).toEqual([
      [0, '50 VUs', 50, 0, 1500],
      [1, '100 VUs', 100, 1500, 3500],
    ]);
    expect(r.stages[0]!.totals).toMatchObject({ requests: 10, errors: 0, dropped: 1 });
    expect(r.stages[1]!.totals).toMatchObject({ requests: 20, errors: 4, error_rate: 0.2, throughput_rps: 10 });
    expect(r.stages[1]!.totals.latency_ms.p50).toBeCloseTo(9, 1);
    expect(decodeHistogram(r.stages[1]!.histograms!.latency).totalCount).toBe(20);
    expect(r.totals.requests).toBe(30);
  });

  it('returns the same result from a second finish and ignores later outcomes', () => {
    const rec = new LoadRecorder({ requests: ENDPOINTS, startedAt: T0 });
    rec.record(outcome({ at: T0 + 1 }));
    const r = rec.finish(T0 + 1000);
    rec.record(outcome({ at: T0 + 2 }));
    expect(rec.finish(T0 + 5000)).toBe(r);
    expect(r.totals.requests).toBe(1);
  });

  it('rejects an outcome for a request the scenario does not have', () => {
    const rec = new LoadRecorder({ requests: ENDPOINTS, startedAt: T0 });
    expect(() => rec.record(outcome({ at: T0 + 1, request: 9 }))).toThrow(/request 9/);
  });
});
