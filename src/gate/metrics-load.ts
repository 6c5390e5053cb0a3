import type { LoadReportData, Totals } from '../load/types.js';
import { formatNumber, notMeasured, type Measurement, type MeasureContext, type MetricDef } from './metric-types.js';
import { latest, reportSource, type IndexedReport } from './reports.js';
import type { MetricFilter, MetricUnit } from './types.js';

/**
 * Metrics of `govctl.load/v1` reports: the newest report whose profile is the filter's (shards
 * left out by the index). Latency is the corrected latency (from the intended send time), in ms;
 * error rate is a percentage (errors / requests x 100; 429s are throttled, not errors).
 */

function command(filter: MetricFilter, ctx: MeasureContext): string {
  return `govctl load --profile ${filter.profile}${ctx.outFlag}`;
}

function find(filter: MetricFilter, ctx: MeasureContext): IndexedReport<LoadReportData> | Measurement {
  const entry = latest<LoadReportData>(ctx.index, 'load', (e) => e.report.data.profile.name === filter.profile);
  return entry ?? notMeasured(command(filter, ctx), `no load report of profile "${filter.profile}" under ${ctx.dirLabel}`);
}

function describe(entry: IndexedReport<LoadReportData>, totals: Totals, filter: MetricFilter): string {
  const d = entry.report.data;
  const scope = filter.endpoint ? `endpoint ${filter.endpoint} of ` : '';
  return `${scope}load run ${entry.report.run.id} (profile ${d.profile.name}, ${d.profile.model} model): ${totals.requests} requests over ${formatNumber(totals.duration_ms / 1000)} s against ${entry.report.target?.url ?? 'an unrecorded target'}`;
}

type Pick = (totals: Totals) => number;

function totalsMetric(name: string, unit: MetricUnit, what: string, pick: Pick, needsLatency: boolean): MetricDef {
  return {
    name,
    unit,
    label: (f) => `${what} (profile ${f.profile}${f.endpoint ? `, endpoint ${f.endpoint}` : ''})`,
    required: ['profile'],
    optional: ['endpoint'],
    baseline: true,
    kinds: ['load'],
    measure(filter, ctx) {
      const entry = find(filter, ctx);
      if ('status' in entry) return entry;
      const totals = filter.endpoint === undefined ? entry.report.data.totals : entry.report.data.endpoints[filter.endpoint];
      if (!totals) {
        const known = Object.keys(entry.report.data.endpoints).join(', ');
        return notMeasured(command(filter, ctx), `load run ${entry.report.run.id} has no endpoint "${filter.endpoint}" (it has: ${known})`);
      }
      const measuredCount = needsLatency ? totals.latency_ms.count : totals.requests;
      if (measuredCount === 0) return notMeasured(command(filter, ctx), `load run ${entry.report.run.id} measured no requests`);
      return { status: 'measured', value: pick(totals), description: describe(entry, totals, filter), sources: [reportSource(entry)] };
    },
  };
}

function driftMetric(name: string, what: string, pick: (d: Extract<NonNullable<LoadReportData['drift']>, { status: 'measured' }>) => number | null): MetricDef {
  return {
    name,
    unit: '%',
    label: (f) => `${what} (profile ${f.profile})`,
    required: ['profile'],
    optional: [],
    baseline: true,
    kinds: ['load'],
    measure(filter, ctx) {
      const entry = find(filter, ctx);
      if ('status' in entry) return entry;
      const drift = entry.report.data.drift;
      const id = entry.report.run.id;
      if (!drift) return notMeasured(command(filter, ctx), `load run ${id} did not analyse drift (a profile with "analyses": ["drift"], e.g. soak)`);
      if (drift.status === 'not_measured') return notMeasured(command(filter, ctx), `load run ${id}: drift not measured: ${drift.reason}`);
      const value = pick(drift);
      if (value === null) return notMeasured(command(filter, ctx), `load run ${id}: the first or last tenth had no measurable value`);
      return { status: 'measured', value, description: `change between the first and last tenth of ${describe(entry, entry.report.data.totals, filter)}`, sources: [reportSource(entry)] };
    },
  };
}

const recordsLost: MetricDef = {
  name: 'load.records_lost',
  unit: 'count',
  label: (f) => `acknowledged decisions missing from the usage log (profile ${f.profile})`,
  required: ['profile'],
  optional: [],
  baseline: true,
  kinds: ['load'],
  measure(filter, ctx) {
    const entry = find(filter, ctx);
    if ('status' in entry) return entry;
    const audit = entry.report.data.audit;
    if (audit.status === 'not_measured') return notMeasured(command(filter, ctx), `load run ${entry.report.run.id}: audit accounting not measured: ${audit.reason}`);
    return {
      status: 'measured',
      value: audit.lost,
      description: `${audit.acknowledged} acknowledged decisions checked against the usage log in ${describe(entry, entry.report.data.totals, filter)}`,
      sources: [reportSource(entry)],
    };
  },
};

export const LOAD_METRICS: readonly MetricDef[] = [
  totalsMetric('load.p50_ms', 'ms', 'p50 latency', (t) => t.latency_ms.p50, true),
  totalsMetric('load.p90_ms', 'ms', 'p90 latency', (t) => t.latency_ms.p90, true),
  totalsMetric('load.p95_ms', 'ms', 'p95 latency', (t) => t.latency_ms.p95, true),
  totalsMetric('load.p99_ms', 'ms', 'p99 latency', (t) => t.latency_ms.p99, true),
  totalsMetric('load.p999_ms', 'ms', 'p99.9 latency', (t) => t.latency_ms.p999, true),
  totalsMetric('load.max_ms', 'ms', 'max latency', (t) => t.latency_ms.max, true),
  totalsMetric('load.error_rate_pct', '%', 'error rate', (t) => (t.errors / t.requests) * 100, false),
  totalsMetric('load.throughput_rps', 'rps', 'throughput', (t) => t.throughput_rps, false),
  driftMetric('load.p99_drift_pct', 'p99 drift', (d) => d.p99_change_pct),
  driftMetric('load.throughput_drift_pct', 'throughput drift', (d) => d.throughput_change_pct),
  recordsLost,
];
