import { buildReport, type RunStatus } from '../core/report.js';
import type { Finding } from '../core/findings.js';
import { analyzeDrift } from './analysis/drift.js';
import { analyzeMemory } from './analysis/memory-trend.js';
import { analyzeSteps } from './analysis/steps.js';
import { addInto, decodeHistogram, encodeHistogram, newHistogram, percentileMs, resetHistogram, type Hdr } from './histogram.js';
import { checkMergeInputs, shardName } from './merge-input.js';
import { evaluateThresholds, p99LimitFrom, thresholdsPassed } from './thresholds.js';
import { addCounters, buildTotals, countersOf, newCounters } from './totals.js';
import type { RecordedRun } from './recorder.js';
import type { Interval, LoadReport, LoadReportData, StageResult, Totals } from './types.js';

export interface MergeOptions {
  /** A label per report (its file) for error messages and generator reasons. */
  labels?: readonly string[];
}

/**
 * Merges shard reports of one run exactly: histograms added and every percentile recomputed from
 * the sums, counters summed, per-second series aligned on wall time, stages merged by index,
 * throughput over the merged window; then thresholds are evaluated once on the merged data and the
 * breaking point, drift and memory trend recomputed. Refuses reports of other kinds, profiles or
 * scenarios (InvalidInputError naming the report).
 */
export function mergeLoadReports(reports: readonly LoadReport[], options: MergeOptions = {}): LoadReportData {
  checkMergeInputs(reports, options.labels);
  const all = reports.map((r) => r.data);
  const first = all[0]!;
  const names = reports.map((r, i) => shardName(r, i, options.labels));

  const window = {
    started_at: Math.min(...all.map((d) => d.window.started_at)),
    ended_at: Math.max(...all.map((d) => d.window.ended_at)),
    warmup_ms: Math.max(...all.map((d) => d.window.warmup_ms)),
  };
  const recorded = mergeRecorded(all, {
    durationMs: window.ended_at - window.started_at,
    stageLabels: first.profile.stages.map((s) => s.label),
  });
  const { intervals } = recorded;
  const mergedStages = recorded.stages;

  const data: LoadReportData = {
    profile: first.profile,
    scenario: first.scenario,
    options: {
      seed: first.options.seed,
      segment: null,
      workers: all.reduce((n, d) => n + (d.options.workers || 1), 0),
      tags: Object.assign({}, ...[...all].reverse().map((d) => d.options.tags)) as Record<string, string>,
    },
    keys: {
      count: all.reduce((n, d) => n + d.keys.count, 0),
      source: first.keys.source,
      revoked: all.some((d) => d.keys.revoked === false) ? false : all.every((d) => d.keys.revoked === true) ? true : null,
    },
    window,
    totals: recorded.totals,
    endpoints: recorded.endpoints,
    status_classes: recorded.status_classes,
    intervals,
    stages: mergedStages.map((s) => ({ ...s, broken: false, reasons: [] })),
    breaking_point: null,
    max_sustained_throughput_rps: null,
    drift: null,
    memory: mergeMemory(all),
    throttling: mergeThrottling(all),
    resources: mergeResources(all, names),
    audit: mergeAudit(all, names),
    generator: mergeGenerator(all, names),
    thresholds: [],
    baseline: null,
    findings: dedupeFindings(all.flatMap((d) => d.findings)),
  };

  const wants = (analysis: 'steps' | 'drift'): boolean => first.profile.analyses.includes(analysis);
  if (wants('steps') || all.some((d) => d.breaking_point !== null || d.max_sustained_throughput_rps !== null)) {
    const steps = analyzeSteps(mergedStages, withLimit(p99LimitFrom(first.profile.thresholds)));
    data.stages = steps.stages;
    data.breaking_point = steps.breaking_point;
    data.max_sustained_throughput_rps = steps.max_sustained_throughput_rps;
  }
  if (wants('drift') || all.some((d) => d.drift !== null)) data.drift = analyzeDrift(intervals, window);
  data.thresholds = evaluateThresholds(first.profile.thresholds, data, `profile ${first.profile.source ?? first.profile.name}`);
  return data;
}

/**
 * The merged report: envelope of a new run spanning the shards' runs. Its status: interrupted or
 * error when any shard's was, otherwise failed when a threshold fails on the merged data.
 */
export function mergeReportEnvelopes(reports: readonly LoadReport[], runId: string, options: MergeOptions = {}): LoadReport {
  const data = mergeLoadReports(reports, options);
  const statuses = reports.map((r) => r.run.status);
  const status: RunStatus = statuses.includes('interrupted')
    ? 'interrupted'
    : statuses.includes('error')
      ? 'error'
      : thresholdsPassed(data.thresholds)
        ? 'passed'
        : 'failed';
  const times = (key: 'started_at' | 'finished_at') => reports.map((r) => r.run[key]).sort((a, b) => Date.parse(a) - Date.parse(b));
  const run = { id: runId, started_at: times('started_at')[0]!, finished_at: times('finished_at').at(-1)!, status };
  return buildReport('load', run, data, reports[0]!.target);
}

const withLimit = (p99LimitMs: number | undefined) => (p99LimitMs === undefined ? {} : { p99LimitMs });

function mergeTotals(list: readonly Totals[], durationMs: number, where: string): Totals {
  const counters = newCounters();
  const latency = newHistogram();
  const service = newHistogram();
  for (const t of list) {
    addCounters(counters, countersOf(t));
    addInto(latency, decodeHistogram(t.histograms.latency, `${where} latency histogram`));
    addInto(service, decodeHistogram(t.histograms.service, `${where} service histogram`));
  }
  return buildTotals(counters, latency, service, durationMs);
}

function mergeTables(tables: ReadonlyArray<Record<string, Totals>>, durationMs: number, where: string): Record<string, Totals> {
  const keys = [...new Set(tables.flatMap((t) => Object.keys(t)))];
  const merged: Record<string, Totals> = {};
  for (const key of keys) {
    const list = tables.filter((t) => Object.hasOwn(t, key)).map((t) => t[key]!);
    merged[key] = mergeTotals(list, durationMs, `${where}.${key}`);
  }
  return merged;
}

/** Same-second intervals add up; one reused histogram per second keeps memory flat. */
function mergeIntervals(list: readonly Interval[]): Interval[] {
  const sorted = [...list].sort((a, b) => a.t - b.t);
  const merged: Interval[] = [];
  const h: Hdr = newHistogram();
  for (let i = 0; i < sorted.length; ) {
    const t = sorted[i]!.t;
    const sum = { requests: 0, errors: 0, throttled: 0, dropped: 0, level: 0 };
    resetHistogram(h);
    for (; i < sorted.length && sorted[i]!.t === t; i++) {
      const s = sorted[i]!;
      sum.requests += s.requests;
      sum.errors += s.errors;
      sum.throttled += s.throttled;
      sum.dropped += s.dropped;
      sum.level += s.level;
      addInto(h, decodeHistogram(s.histogram, `interval t=${t}`));
    }
    merged.push({
      t,
      ...sum,
      latency_ms: h.totalCount > 0 ? { p50: percentileMs(h, 50), p90: percentileMs(h, 90), p99: percentileMs(h, 99), max: percentileMs(h, 100) } : null,
      histogram: encodeHistogram(h),
    });
  }
  return merged;
}

type MergedStage = Omit<StageResult, 'broken' | 'reasons'>;

function mergeStages(lists: ReadonlyArray<readonly MergedStage[]>, plannedLabels: ReadonlyArray<string | undefined>): MergedStage[] {
  const byIndex = new Map<number, MergedStage[]>();
  for (const stages of lists) for (const s of stages) byIndex.set(s.index, [...(byIndex.get(s.index) ?? []), s]);
  return [...byIndex.keys()]
    .sort((a, b) => a - b)
    .map((index) => {
      const list = byIndex.get(index)!;
      const started_at = Math.min(...list.map((s) => s.started_at));
      const ended_at = Math.max(...list.map((s) => s.ended_at));
      const level = list.reduce((n, s) => n + s.level, 0);
      const { histograms, ...totals } = mergeTotals(
        list.map((s) => ({ ...s.totals, histograms: s.histograms! })),
        ended_at - started_at,
        `stages[${index}]`,
      );
      return { index, label: stageLabel(list, level, plannedLabels[index]), level, started_at, ended_at, totals, histograms };
    });
}

/**
 * The profile's own label when it has one; otherwise a shard's ("25 VUs") with its number replaced
 * by the summed level ("50 VUs"): shards each ran a share of the level.
 */
function stageLabel(list: readonly MergedStage[], level: number, planned: string | undefined): string {
  if (planned) return planned;
  const label = list[0]!.label;
  if (list.length === 1) return label;
  return /^\d+(\.\d+)?/.test(label) ? label.replace(/^\d+(\.\d+)?/, String(Math.round(level * 100) / 100)) : label;
}

export interface MergeRecordedOptions {
  /** The merged window's length (throughput is over it); the longest shard's by default. */
  durationMs?: number;
  /** The profile's stage labels, by stage index, when it names them. */
  stageLabels?: ReadonlyArray<string | undefined>;
}

/**
 * Merges what several recorders recorded (worker threads, or the shards of `report merge`): the
 * same exact merge, on the recorder's own output.
 */
export function mergeRecorded(list: readonly RecordedRun[], options: MergeRecordedOptions = {}): RecordedRun {
  const duration = options.durationMs ?? Math.max(0, ...list.map((r) => r.totals.duration_ms));
  return {
    totals: mergeTotals(list.map((r) => r.totals), duration, 'totals'),
    endpoints: mergeTables(list.map((r) => r.endpoints), duration, 'endpoints'),
    status_classes: mergeTables(list.map((r) => r.status_classes), duration, 'status_classes'),
    intervals: mergeIntervals(list.flatMap((r) => r.intervals)),
    stages: mergeStages(list.map((r) => r.stages), options.stageLabels ?? []),
  };
}

function mergeMemory(all: readonly LoadReportData[]): LoadReportData['memory'] {
  const measured = all.map((d) => d.memory).filter((m): m is Extract<NonNullable<LoadReportData['memory']>, { status: 'measured' }> => m?.status === 'measured');
  if (measured.length === 0) return all.find((d) => d.memory !== null)?.memory ?? null;
  if (measured.length === 1) return measured[0]!;
  // Every shard watched the same server: one trend over all their samples.
  return analyzeMemory(measured.flatMap((m) => m.samples), measured[0]!.source);
}

function mergeThrottling(all: readonly LoadReportData[]): LoadReportData['throttling'] {
  const list = all.map((d) => d.throttling).filter((t) => t !== null);
  if (list.length === 0) return null;
  const health = list.map((t) => t.healthy_after);
  return {
    throttled: list.reduce((n, t) => n + t.throttled, 0),
    without_retry_after: list.reduce((n, t) => n + t.without_retry_after, 0),
    server_errors: list.reduce((n, t) => n + t.server_errors, 0),
    healthy_after: health.includes(false) ? false : health.every((h) => h === true) ? true : null,
  };
}

/**
 * Client samples concatenated shard after shard; target samples likewise. Counter deltas of the
 * server's /metrics: every shard scraped the same server over overlapping windows, so summing
 * would count the same requests N times: the largest delta per counter is kept (the shard that
 * watched longest), and the gauges of the shard that ended last.
 */
function mergeResources(all: readonly LoadReportData[], names: readonly string[]): LoadReportData['resources'] {
  const targets = all.map((d) => d.resources.target);
  const measuredTargets = targets.flatMap((t) => (t.status === 'measured' ? [t] : []));
  const target: LoadReportData['resources']['target'] =
    measuredTargets.length > 0 ? { status: 'measured', samples: measuredTargets.flatMap((t) => t.samples) } : notMeasured(targets, names);
  const metricsList = all.map((d) => d.resources.metrics);
  const measuredMetrics = all.flatMap((d) => (d.resources.metrics.status === 'measured' ? [{ m: d.resources.metrics, end: d.window.ended_at }] : []));
  let metrics: LoadReportData['resources']['metrics'] = notMeasured(metricsList, names);
  if (measuredMetrics.length > 0) {
    const counters: Record<string, number> = {};
    for (const { m } of measuredMetrics) for (const [k, v] of Object.entries(m.counters)) counters[k] = Math.max(counters[k] ?? -Infinity, v);
    const last = [...measuredMetrics].sort((a, b) => a.end - b.end).at(-1)!;
    metrics = { status: 'measured', counters, gauges: { ...last.m.gauges } };
  }
  return { client: all.flatMap((d) => d.resources.client), target, metrics };
}

function notMeasured(list: ReadonlyArray<{ status: string; reason?: string }>, names: readonly string[]): { status: 'not_measured'; reason: string } {
  const reasons = [...new Set(list.map((m, i) => (m.status === 'not_measured' ? `${names[i]}: ${m.reason ?? 'not measured'}` : undefined)).filter((r) => r !== undefined))];
  return { status: 'not_measured', reason: reasons.join('; ') || 'not measured' };
}

/** Summed across shards; one shard that could not count makes the whole "not measured", never 0. */
function mergeAudit(all: readonly LoadReportData[], names: readonly string[]): LoadReportData['audit'] {
  const audits = all.map((d) => d.audit);
  if (audits.some((a) => a.status === 'not_measured')) return notMeasured(audits, names);
  let acknowledged = 0;
  let logged = 0;
  let lost = 0;
  for (const a of audits) {
    if (a.status !== 'measured') continue;
    acknowledged += a.acknowledged;
    logged += a.logged;
    lost += a.lost;
  }
  return { status: 'measured', acknowledged, logged, lost };
}

function mergeGenerator(all: readonly LoadReportData[], names: readonly string[]): LoadReportData['generator'] {
  const g = all.map((d) => d.generator);
  return {
    event_loop_lag_p99_ms: Math.max(...g.map((x) => x.event_loop_lag_p99_ms ?? 0)),
    event_loop_lag_max_ms: Math.max(...g.map((x) => x.event_loop_lag_max_ms ?? 0)),
    late_sends: g.reduce((n, x) => n + (x.late_sends ?? 0), 0),
    client_cpu_pct_max: Math.max(...g.map((x) => x.client_cpu_pct_max ?? 0)),
    bottleneck: g.some((x) => x.bottleneck),
    reasons: g.flatMap((x, i) => x.reasons.map((r) => `${names[i]}: ${r}`)),
  };
}

/** One finding per fingerprint; ids stay unique within the merged report. */
function dedupeFindings(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  const ids = new Set<string>();
  const kept: Finding[] = [];
  for (const f of findings) {
    if (seen.has(f.fingerprint)) continue;
    seen.add(f.fingerprint);
    let id = f.id;
    for (let n = 2; ids.has(id); n++) id = `${f.id}-${n}`;
    ids.add(id);
    kept.push(id === f.id ? f : { ...f, id });
  }
  return kept;
}
