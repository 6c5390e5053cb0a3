import type { ChaosReportData, ProbeJournal } from '../chaos/types.js';
import { formatNumber, notMeasured, type Measurement, type MeasureContext, type MetricDef } from './metric-types.js';
import { latest, reportSource, type IndexedReport } from './reports.js';
import type { MetricFilter } from './types.js';

/**
 * Metrics of `govctl.chaos/v1` journals. With a probe: the newest journal that ran it. Without:
 * every probe of the newest journal that was not skipped ("every probe <= 60 s"). A probe that
 * errored measured nothing (not measured); one that never recovered is measured and fails.
 */

function command(filter: MetricFilter, ctx: MeasureContext): string {
  return `govctl chaos${filter.probe ? ` --probe ${filter.probe}` : ''}${ctx.outFlag}`;
}

interface Selected {
  entry: IndexedReport<ChaosReportData>;
  probes: ProbeJournal[];
}

function select(filter: MetricFilter, ctx: MeasureContext): Selected | Measurement {
  const entry = filter.probe
    ? latest<ChaosReportData>(ctx.index, 'chaos', (e) => e.report.data.probes.some((p) => p.probe === filter.probe))
    : latest<ChaosReportData>(ctx.index, 'chaos');
  if (!entry) return notMeasured(command(filter, ctx), `no chaos journal${filter.probe ? ` with the ${filter.probe} probe` : ''} under ${ctx.dirLabel}`);
  const id = entry.report.run.id;
  const probes = entry.report.data.probes.filter((p) => (filter.probe ? p.probe === filter.probe : p.status !== 'skipped'));
  if (probes.length === 0) return notMeasured(command(filter, ctx), `chaos run ${id} ran no probe (every one was skipped)`);
  const unusable = probes.filter((p) => p.status === 'skipped' || p.status === 'error' || p.status === 'interrupted');
  if (unusable.length > 0) {
    const why = unusable.map((p) => `${p.probe} ${p.status === 'skipped' ? 'was skipped' : p.status === 'error' ? 'errored' : 'was interrupted'}${p.reasons?.length ? ` (${p.reasons.join('; ')})` : ''}`);
    return notMeasured(command(filter, ctx), `chaos run ${id}: ${why.join(', ')}`);
  }
  return { entry, probes };
}

function describe(selected: Selected, what: string): string {
  const names = selected.probes.map((p) => p.probe).join(', ');
  return `${what} of probe${selected.probes.length > 1 ? 's' : ''} ${names} in chaos run ${selected.entry.report.run.id} against ${selected.entry.report.target?.url ?? 'an unrecorded target'}`;
}

const recovery: MetricDef = {
  name: 'chaos.recovery_s',
  unit: 's',
  label: (f) => (f.probe ? `recovery time (probe ${f.probe})` : 'recovery time (worst probe)'),
  required: [],
  optional: ['probe'],
  baseline: true,
  kinds: ['chaos'],
  measure(filter, ctx) {
    const selected = select(filter, ctx);
    if ('status' in selected) return selected;
    const sources = [reportSource(selected.entry)];
    const description = describe(selected, 'the longest recovery');
    const never = selected.probes.filter((p) => p.recovery_s === null);
    if (never.length > 0) {
      const detail = never.map((p) => `${p.probe} did not recover within its ${formatNumber(p.budget_s)} s budget`).join('; ');
      return { status: 'failed', description, sources, detail };
    }
    const worst = selected.probes.reduce((a, b) => (b.recovery_s! > a.recovery_s! ? b : a));
    const detail = selected.probes.map((p) => `${p.probe} ${formatNumber(p.recovery_s!)} s`).join(', ');
    return { status: 'measured', value: worst.recovery_s!, description, sources, detail };
  },
};

const recordsLost: MetricDef = {
  name: 'chaos.records_lost',
  unit: 'count',
  label: (f) => (f.probe ? `acknowledged records lost (probe ${f.probe})` : 'acknowledged records lost (all probes)'),
  required: [],
  optional: ['probe'],
  baseline: true,
  kinds: ['chaos'],
  measure(filter, ctx) {
    const selected = select(filter, ctx);
    if ('status' in selected) return selected;
    const unmeasured = selected.probes.filter((p) => p.records_lost === null);
    if (unmeasured.length > 0) {
      const why = unmeasured.map((p) => `${p.probe}: ${p.records?.status === 'not_measured' ? p.records.reason : 'records not measured'}`);
      return notMeasured(command(filter, ctx), `chaos run ${selected.entry.report.run.id}: ${why.join('; ')}`);
    }
    const lost = selected.probes.reduce((n, p) => n + p.records_lost!, 0);
    const acknowledged = selected.probes.reduce((n, p) => n + (p.records_acknowledged ?? 0), 0);
    const detail = selected.probes.map((p) => `${p.probe} lost ${p.records_lost} of ${p.records_acknowledged ?? '?'}`).join(', ');
    return { status: 'measured', value: lost, description: describe(selected, `${acknowledged} acknowledged decisions checked against the usage log`), sources: [reportSource(selected.entry)], detail };
  },
};

export const CHAOS_METRICS: readonly MetricDef[] = [recovery, recordsLost];
