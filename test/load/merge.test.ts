import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { buildReport } from '../../src/core/report.js';
import type { Finding } from '../../src/core/findings.js';
import { decodeHistogram, newHistogram, recordUs, summarize } from '../../src/load/histogram.js';
import { mergeLoadReports, mergeRecorded, mergeReportEnvelopes } from '../../src/load/merge.js';
import { LoadRecorder } from '../../src/load/recorder.js';
import type { LoadReport } from '../../src/load/types.js';
import { ENDPOINTS, fixtureData, fixtureReport, syntheticOutcomes } from './report-fixture.js';

const T0 = 1_700_000_000_000;

const finding = (id: string, fingerprint: string): Finding => ({
  id,
  rule: 'load-429-without-retry-after',
  severity: 'medium',
  category: 'api',
  title: '429 without Retry-After',
  location: { method: 'POST', url: 'http://127.0.0.1:1/v1/check' },
  evidence: '3 responses',
  fingerprint,
  remediation: 'send Retry-After',
});

describe('mergeLoadReports', () => {
  // Two shards over the same 20 s, the second started 300 ms later (its seconds still align).
  const a = syntheticOutcomes(1, 4000, T0, T0 + 20_000, { slowMs: 40 });
  const b = syntheticOutcomes(2, 3000, T0 + 300, T0 + 20_300, { slowMs: 90, errorRate: 0.05 });
  const stages: Array<[number, number, string]> = [
    [T0, 5, '5 VUs'],
    [T0 + 10_000, 10, '10 VUs'],
  ];
  const stagesB: Array<[number, number, string]> = [
    [T0 + 300, 5, '5 VUs'],
    [T0 + 10_300, 10, '10 VUs'],
  ];
  const thresholds = { latency: ['p(99)<60', 'p(99.9)<1000'], errors: ['rate<0.05'], 'requests{endpoint:health}': ['count>0'] };
  const shardA = fixtureReport(
    fixtureData({ startedAt: T0, endedAt: T0 + 20_000, outcomes: a, stages, thresholds, analyses: ['steps', 'drift'], dropped: [T0 + 5] }),
    'run-a',
  );
  const shardB = fixtureReport(
    fixtureData({ startedAt: T0 + 300, endedAt: T0 + 20_300, outcomes: b, stages: stagesB, thresholds, analyses: ['steps', 'drift'] }),
    'run-b',
  );

  it('adds histograms: merged percentiles equal those of one histogram of the concatenated samples', () => {
    const merged = mergeLoadReports([shardA, shardB]);
    const latency = newHistogram();
    const service = newHistogram();
    const evaluate = newHistogram();
    for (const o of [...a, ...b]) {
      recordUs(latency, o.latencyUs);
      recordUs(service, o.serviceUs);
      if (o.request === 2) recordUs(evaluate, o.latencyUs);
    }
    expect(merged.totals.latency_ms).toEqual(summarize(latency));
    expect(merged.totals.service_ms).toEqual(summarize(service));
    expect(merged.endpoints['evaluate']!.latency_ms).toEqual(summarize(evaluate));
    expect(summarize(decodeHistogram(merged.totals.histograms.latency))).toEqual(summarize(latency));
  });

  it('sums counters and computes throughput over the merged window', () => {
    const merged = mergeLoadReports([shardA, shardB]);
    const [da, db] = [shardA.data, shardB.data];
    expect(merged.totals.requests).toBe(7000);
    expect(merged.totals.errors).toBe(da.totals.errors + db.totals.errors);
    expect(merged.totals.throttled).toBe(da.totals.throttled + db.totals.throttled);
    expect(merged.totals.dropped).toBe(1);
    expect(merged.totals.status_codes['503']).toBe((da.totals.status_codes['503'] ?? 0) + (db.totals.status_codes['503'] ?? 0));
    expect(merged.totals.error_classes.timeout).toBe(da.totals.error_classes.timeout + db.totals.error_classes.timeout);
    expect(merged.window).toEqual({ started_at: T0, ended_at: T0 + 20_300, warmup_ms: 0 });
    expect(merged.totals.duration_ms).toBe(20_300);
    expect(merged.totals.throughput_rps).toBeCloseTo(7000 / 20.3, 6);
    expect(merged.totals.error_rate).toBeCloseTo(merged.totals.errors / 7000, 12);
    expect(merged.status_classes['2xx']!.requests).toBe(da.status_classes['2xx']!.requests + db.status_classes['2xx']!.requests);
    expect(merged.keys.count).toBe(4);
    expect(merged.options.workers).toBe(2);
    expect(merged.options.segment).toBeNull();
    expect(merged.audit).toEqual({ status: 'measured', acknowledged: 20, logged: 20, lost: 0 });
  });

  it('aligns per-second intervals on wall time', () => {
    const merged = mergeLoadReports([shardA, shardB]);
    // Shard A covers seconds 0..19, shard B 0..20: 21 seconds, each once.
    expect(merged.intervals.map((x) => (x.t - T0) / 1000)).toEqual([...Array(21).keys()]);
    expect(merged.intervals.reduce((n, x) => n + x.requests, 0)).toBe(7000);
    const second5 = (d: typeof merged) => d.intervals.find((x) => x.t === T0 + 5000)!;
    const s5 = second5(merged);
    expect(s5.requests).toBe(second5(shardA.data).requests + second5(shardB.data).requests);
    expect(s5.level).toBe(20);
    expect(decodeHistogram(s5.histogram).totalCount).toBe(s5.requests);
  });

  it('merges stages by index, summing levels, and recomputes the step analysis', () => {
    const merged = mergeLoadReports([shardA, shardB]);
    expect(merged.stages.map((s) => [s.index, s.level, s.label, s.started_at - T0, s.ended_at - T0])).toEqual([
      [0, 10, '10 VUs', 0, 10_300],
      [1, 20, '20 VUs', 10_000, 20_300],
    ]);
    expect(merged.stages[0]!.totals.requests + merged.stages[1]!.totals.requests).toBe(7000);
    // p99 limit 60 ms from the thresholds: shard B's slow tail (up to 90 ms) breaks both stages.
    expect(merged.breaking_point?.stage).toBe(0);
    expect(merged.breaking_point?.reasons.join()).toMatch(/p99 .* > 60 ms/);
    expect(merged.drift?.status).toBe('measured');
  });

  it('evaluates thresholds once, on the merged data', () => {
    const merged = mergeLoadReports([shardA, shardB]);
    expect(merged.thresholds.map((t) => [t.metric, t.expression, t.passed])).toEqual([
      ['latency', 'p(99)<60', false],
      ['latency', 'p(99.9)<1000', true],
      ['errors', 'rate<0.05', merged.totals.error_rate < 0.05],
      ['requests{endpoint:health}', 'count>0', true],
    ]);
    expect(merged.thresholds[0]!.value).toBe(merged.totals.latency_ms.p99);
  });

  it('sums audit only when every shard measured it, and prefixes generator reasons with the shard', () => {
    const c = structuredClone(shardB);
    c.data.audit = { status: 'not_measured', reason: 'admin logs API unavailable' };
    c.data.generator = { ...c.data.generator, bottleneck: true, reasons: ['event-loop lag p99 120 ms'] };
    c.data.findings = [finding('load-1', 'f1'), finding('load-2', 'f2')];
    const d = structuredClone(shardA);
    d.data.findings = [finding('load-1', 'f1'), finding('load-2', 'f3')];
    const merged = mergeLoadReports([d, c], { labels: ['a.json', 'b.json'] });
    expect(merged.audit).toEqual({ status: 'not_measured', reason: 'b.json (run run-b): admin logs API unavailable' });
    expect(merged.generator.bottleneck).toBe(true);
    expect(merged.generator.reasons).toEqual(['b.json (run run-b): event-loop lag p99 120 ms']);
    expect(merged.findings.map((f) => [f.id, f.fingerprint])).toEqual([
      ['load-1', 'f1'],
      ['load-2', 'f3'],
      ['load-2-2', 'f2'],
    ]);
  });

  it('two segments merged equal one run of the whole in counts and percentiles', () => {
    const all = syntheticOutcomes(9, 6000, T0, T0 + 6000);
    const whole = fixtureData({ startedAt: T0, endedAt: T0 + 6000, outcomes: all });
    const seg = (i: number) => fixtureReport(fixtureData({ startedAt: T0, endedAt: T0 + 6000, outcomes: all.filter((_, k) => k % 2 === i) }), `seg-${i}`);
    const merged = mergeLoadReports([seg(0), seg(1)]);
    const { histograms: _h1, ...mergedTotals } = merged.totals;
    const { histograms: _h2, ...wholeTotals } = whole.totals;
    expect(mergedTotals).toEqual(wholeTotals);
    for (const name of Object.keys(whole.endpoints)) expect(merged.endpoints[name]!.latency_ms).toEqual(whole.endpoints[name]!.latency_ms);
    expect(merged.intervals.map((x) => [x.t, x.requests, x.errors, x.latency_ms])).toEqual(whole.intervals.map((x) => [x.t, x.requests, x.errors, x.latency_ms]));
  });

  it('refuses reports of another kind, profile or scenario, naming them', () => {
    const scan = buildReport('scan', shardA.run, shardA.data) as unknown as LoadReport;
    expect(() => mergeLoadReports([shardA, scan])).toThrow(InvalidInputError);
    expect(() => mergeLoadReports([shardA, scan])).toThrow(/report 2 \(run run-a\).*govctl\.load\/v1/);
    const soak = structuredClone(shardB);
    soak.data.profile.name = 'soak';
    expect(() => mergeLoadReports([shardA, soak], { labels: ['a.json', 'b.json'] })).toThrow(/cannot merge b\.json \(run run-b\) with a\.json \(run run-a\): profile "soak"/);
    const other = structuredClone(shardB);
    other.data.scenario.name = 'other-mix';
    expect(() => mergeLoadReports([shardA, other])).toThrow(/scenario "other-mix"/);
    const broken = structuredClone(shardB);
    delete (broken.data.totals as { histograms?: unknown }).histograms;
    expect(() => mergeLoadReports([shardA, broken])).toThrow(/report 2 \(run run-b\).*\$\.totals: missing required field "histograms"/);
    expect(() => mergeLoadReports([])).toThrow(/nothing to merge/);
  });

  it('builds a merged envelope whose status follows the merged thresholds', () => {
    const report = mergeReportEnvelopes([shardA, shardB], 'merged-1');
    expect(report.schema).toBe('govctl.load/v1');
    expect(report.run).toMatchObject({ id: 'merged-1', status: 'failed', started_at: shardA.run.started_at, finished_at: shardB.run.finished_at });
    const interrupted = { ...shardB, run: { ...shardB.run, status: 'interrupted' as const } };
    expect(mergeReportEnvelopes([shardA, interrupted], 'merged-2').run.status).toBe('interrupted');
  });
});

describe('mergeRecorded', () => {
  it('merges recorder outputs (worker threads) exactly, relabelling stages for the summed level', () => {
    const all = syntheticOutcomes(4, 3000, T0, T0 + 3000);
    const record = (i: number) => {
      const rec = new LoadRecorder({ requests: ENDPOINTS, startedAt: T0 });
      rec.beginStage(0, '25 VUs', 25, T0);
      all.filter((_, k) => k % 2 === i).forEach((o) => rec.record(o));
      return rec.finish(T0 + 3000);
    };
    const whole = new LoadRecorder({ requests: ENDPOINTS, startedAt: T0 });
    all.forEach((o) => whole.record(o));
    const expected = whole.finish(T0 + 3000);
    const merged = mergeRecorded([record(0), record(1)]);
    expect(merged.totals.requests).toBe(3000);
    expect(merged.totals.latency_ms).toEqual(expected.totals.latency_ms);
    expect(merged.totals.throughput_rps).toBe(1000);
    expect(merged.stages.map((s) => [s.label, s.level, s.totals.requests])).toEqual([['50 VUs', 50, 3000]]);
    expect(mergeRecorded([record(0), record(1)], { stageLabels: ['warm'] }).stages[0]!.label).toBe('warm');
    expect(merged.intervals.map((x) => x.requests)).toEqual(expected.intervals.map((x) => x.requests));
  });
});
