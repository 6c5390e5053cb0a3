import { formatNumber, notMeasured, type MeasureContext, type MetricDef } from './metric-types.js';
import type { ReleaseGateInputs } from './report-data.js';
import { latest, reportSource } from './reports.js';

/**
 * Metrics `govctl release-check` measures and records in its `govctl.release/v1` report (see
 * ReleaseGateInputs): bootstrap time (G7) and observability (G6). The newest release report
 * that recorded the figure is read; none is "not measured: govctl release-check".
 */

const command = (ctx: MeasureContext) => `govctl release-check${ctx.outFlag}`;

const bootstrap: MetricDef = {
  name: 'bootstrap.seconds',
  unit: 's',
  label: () => 'bootstrap time (fresh install to first successful run)',
  required: [],
  optional: [],
  baseline: true,
  kinds: ['release'],
  measure(_filter, ctx) {
    const entry = latest<ReleaseGateInputs>(ctx.index, 'release', (e) => e.report.data.bootstrap_s !== undefined);
    if (!entry) return notMeasured(command(ctx), `no release report with bootstrap_s under ${ctx.dirLabel}`);
    const description = `bootstrap of release-check ${entry.report.run.id}`;
    const seconds = entry.report.data.bootstrap_s;
    if (seconds === null || seconds === undefined) {
      return { status: 'failed', description, sources: [reportSource(entry)], detail: `the bootstrap did not succeed${entry.report.data.bootstrap_reason ? `: ${entry.report.data.bootstrap_reason}` : ''}` };
    }
    return { status: 'measured', value: seconds, description, sources: [reportSource(entry)], detail: `${formatNumber(seconds / 60)} min` };
  },
};

function observability(name: string, what: string, count: (o: Extract<NonNullable<ReleaseGateInputs['observability']>, { status: 'measured' }>) => { value: number; detail: string }): MetricDef {
  return {
    name,
    unit: 'count',
    label: () => what,
    required: [],
    optional: [],
    baseline: true,
    kinds: ['release'],
    measure(_filter, ctx) {
      const entry = latest<ReleaseGateInputs>(ctx.index, 'release', (e) => e.report.data.observability !== undefined);
      if (!entry) return notMeasured(command(ctx), `no release report with an observability section under ${ctx.dirLabel}`);
      const o = entry.report.data.observability!;
      if (o.status === 'not_measured') return notMeasured(command(ctx), `release-check ${entry.report.run.id}: observability not measured: ${o.reason}`);
      if (!Array.isArray(o.series_required) || !Array.isArray(o.series_missing) || !Array.isArray(o.health)) {
        return notMeasured(command(ctx), `release-check ${entry.report.run.id}: the observability section lacks series_required, series_missing or health`);
      }
      const { value, detail } = count(o);
      return {
        status: 'measured',
        value,
        description: `${o.series_required.length} required /metrics series and ${o.health.length} health endpoints of ${o.url} in release-check ${entry.report.run.id}`,
        sources: [reportSource(entry)],
        ...(value > 0 ? { detail } : {}),
      };
    },
  };
}

export const RELEASE_METRICS: readonly MetricDef[] = [
  bootstrap,
  observability('observability.series_missing', 'required /metrics series missing', (o) => ({ value: o.series_missing.length, detail: `missing: ${o.series_missing.join(', ')}` })),
  observability('observability.health_failures', 'health endpoints not answering', (o) => {
    const bad = o.health.filter((h) => !h.ok);
    return { value: bad.length, detail: bad.map((h) => `${h.path} ${h.status ?? h.error ?? 'no answer'}`).join(', ') };
  }),
];
