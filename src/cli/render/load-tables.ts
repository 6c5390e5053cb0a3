import type { ChalkInstance } from 'chalk';
import { visible } from '../../core/visible-text.js';
import { change, count, duration, megabytes, ms, num, percent, rps, when } from '../../load/report-format.js';
import { formatThresholdValue } from '../../load/thresholds.js';
import type { LoadReport, LoadReportData, StageResult, ThresholdResult, Totals } from '../../load/types.js';
import { renderKeyValues, renderTable, styled, type Cell } from './output.js';

/**
 * The terminal tables of a load report (`govctl load`, `govctl report show|compare|merge`). Text
 * that came from a file (endpoint names, tags, metrics) is escaped by the table, or by `visible`
 * where govctl colours it. Figures use the same formats as load.md and load.html.
 */

export type Baseline = NonNullable<LoadReportData['baseline']>;

function passFail(style: ChalkInstance, passed: boolean, yes = 'pass', no = 'FAIL'): Cell {
  return styled(passed ? style.green(yes) : style.red(no));
}

function latencyLine(summary: Totals['latency_ms']): string {
  if (summary.count === 0) return 'no requests';
  return `p50 ${ms(summary.p50)}  p90 ${ms(summary.p90)}  p95 ${ms(summary.p95)}  p99 ${ms(summary.p99)}  p99.9 ${ms(summary.p999)}  max ${ms(summary.max)}`;
}

/** The run at a glance: what ran against what, the totals, and each analysis' verdict. */
export function renderLoadSummary(report: LoadReport, style: ChalkInstance): string {
  const d = report.data;
  const t = d.totals;
  const status = report.run.status;
  const rows: Array<[string, Cell]> = [
    ['run', report.run.id],
    ['status', styled(status === 'passed' ? style.green(status) : status === 'interrupted' ? style.yellow(status) : style.red(status))],
    ['target', report.target ? `${report.target.url} (${report.target.kind}${report.target.version ? `, ${report.target.version}` : ''})` : null],
    ['profile', `${d.profile.name} (${d.profile.model} model) from ${d.profile.source}`],
    ['scenario', d.scenario.name],
  ];
  if (d.options.segment) rows.push(['segment', `${d.options.segment.index}/${d.options.segment.count}`]);
  rows.push(['seed', d.options.seed]);
  const tags = Object.entries(d.options.tags);
  if (tags.length > 0) rows.push(['tags', tags.map(([k, v]) => `${k}=${v}`).join(' ')]);
  rows.push(
    ['api keys', `${d.keys.count} (${d.keys.source})`],
    ['measured', `${duration(d.window.ended_at - d.window.started_at)} from ${when(d.window.started_at)} (warm-up ${duration(d.window.warmup_ms)} excluded)`],
    ['requests', `${count(t.requests)} (${count(t.ok)} ok)`],
    ['throughput', `${rps(t.throughput_rps)} req/s`],
    ['errors', errorLine(t, style)],
    ['throttled', `${count(t.throttled)}${t.throttled_without_retry_after > 0 ? ` (${count(t.throttled_without_retry_after)} without Retry-After)` : ''}`],
  );
  if (d.profile.model === 'open') rows.push(['dropped', count(t.dropped)]);
  rows.push([d.profile.model === 'open' ? 'latency (corrected)' : 'latency', latencyLine(t.latency_ms)]);
  if (d.profile.model === 'open') rows.push(['service time', latencyLine(t.service_ms)]);
  if ((d.profile.analyses ?? []).includes('steps') || d.breaking_point) {
    rows.push(['breaking point', d.breaking_point ? styled(style.red(`${visible(d.breaking_point.label)}: ${visible(d.breaking_point.reasons.join('; '))}`)) : 'none reached']);
    rows.push(['max sustained', d.max_sustained_throughput_rps === null ? null : `${rps(d.max_sustained_throughput_rps)} req/s`]);
  }
  if (d.drift) {
    rows.push([
      'drift',
      d.drift.status === 'measured'
        ? `throughput ${change(d.drift.throughput_change_pct)}, p99 ${change(d.drift.p99_change_pct)} (first vs last tenth)`
        : `not measured: ${d.drift.reason}`,
    ]);
  }
  if (d.memory) {
    rows.push([
      'server memory',
      d.memory.status === 'measured'
        ? styled(
            `${megabytes(d.memory.slope_bytes_per_min)}/min from ${d.memory.source}` +
              (d.memory.suspected_leak ? ` ${style.red('(suspected leak)')}` : ''),
          )
        : `not measured: ${d.memory.reason}`,
    ]);
  }
  if (d.throttling) {
    const th = d.throttling;
    const healthy = th.healthy_after === null ? 'not checked' : th.healthy_after ? 'yes' : 'NO';
    rows.push(['throttling', `${count(th.throttled)} throttled, ${count(th.without_retry_after)} without Retry-After, ${count(th.server_errors)} 5xx; healthy after: ${healthy}`]);
  }
  rows.push([
    'audit',
    d.audit.status === 'measured'
      ? styled(`${count(d.audit.acknowledged)} acknowledged, ${count(d.audit.logged)} logged, ${d.audit.lost > 0 ? style.red(`${count(d.audit.lost)} lost`) : '0 lost'}`)
      : `not measured: ${d.audit.reason}`,
  ]);
  const g = d.generator;
  rows.push([
    'generator',
    g.bottleneck
      ? styled(style.red(`the bottleneck: ${visible(g.reasons.join('; '))} (these figures describe govctl, not the target)`))
      : `not the bottleneck (event-loop lag p99 ${ms(g.event_loop_lag_p99_ms)}, CPU max ${num(g.client_cpu_pct_max)}%)`,
  ]);
  return renderKeyValues(rows, style);
}

function errorLine(t: Totals, style: ChalkInstance): Cell {
  if (t.errors === 0) return '0';
  const classes = Object.entries(t.error_classes)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${count(n)}`)
    .join(', ');
  return styled(style.red(`${count(t.errors)} (${percent(t.error_rate)})`) + (classes ? `: ${classes}` : ''));
}

/** One row per endpoint (scenario request). */
export function renderEndpointTable(endpoints: Record<string, Totals>, style: ChalkInstance): string {
  return renderTable(
    ['ENDPOINT', 'REQUESTS', 'REQ/S', 'ERRORS', 'THROTTLED', 'P50', 'P95', 'P99', 'MAX'],
    Object.entries(endpoints).map(([name, t]) => [
      name,
      count(t.requests),
      rps(t.throughput_rps),
      t.errors > 0 ? styled(style.red(`${count(t.errors)} (${percent(t.error_rate)})`)) : '0',
      count(t.throttled),
      ...(t.latency_ms.count > 0 ? [ms(t.latency_ms.p50), ms(t.latency_ms.p95), ms(t.latency_ms.p99), ms(t.latency_ms.max)] : [null, null, null, null]),
    ]),
    style,
  );
}

/** Each threshold expression with the value it was evaluated on. */
export function renderThresholdTable(thresholds: ThresholdResult[], style: ChalkInstance): string {
  return renderTable(
    ['METRIC', 'THRESHOLD', 'MEASURED', 'RESULT'],
    thresholds.map((t) => [t.metric, t.expression, t.value === null ? (t.reason ?? 'not measured') : formatThresholdValue(t), passFail(style, t.passed)]),
    style,
  );
}

/** Baseline against current, with the regressions marked. */
export function renderDeltaTable(baseline: Baseline, style: ChalkInstance): string {
  const regressions = new Map(baseline.regressions.map((r) => [r.metric, r]));
  return renderTable(
    ['METRIC', 'BASELINE', 'CURRENT', 'CHANGE', 'LIMIT', 'RESULT'],
    baseline.deltas.map((d) => {
      const regression = regressions.get(d.metric);
      return [d.metric, metricValue(d.metric, d.baseline), metricValue(d.metric, d.current), d.change, regression?.limit ?? null, regression ? passFail(style, false, '', 'REGRESSION') : passFail(style, true, 'ok')];
    }),
    style,
  );
}

/** A compared figure in its unit, read from the metric's name (p95_ms, throughput_rps, error_rate). */
function metricValue(metric: string, value: number | null): string {
  if (metric.endsWith('_ms')) return ms(value);
  if (metric.endsWith('_rps')) return `${rps(value)}${value === null ? '' : ' req/s'}`;
  if (metric.endsWith('_rate')) return percent(value);
  return num(value);
}

/** The stress step table: each step's load and how the target held up. */
export function renderStepTable(stages: StageResult[], style: ChalkInstance): string {
  return renderTable(
    ['STEP', 'LEVEL', 'REQUESTS', 'REQ/S', 'ERROR RATE', 'P95', 'P99', 'BROKEN'],
    stages.map((s) => [
      s.label,
      num(s.level),
      count(s.totals.requests),
      rps(s.totals.throughput_rps),
      percent(s.totals.error_rate),
      s.totals.latency_ms.count > 0 ? ms(s.totals.latency_ms.p95) : null,
      s.totals.latency_ms.count > 0 ? ms(s.totals.latency_ms.p99) : null,
      s.broken ? styled(style.red(`yes: ${visible(s.reasons.join('; '))}`)) : 'no',
    ]),
    style,
  );
}

/** Every section of a report that has something to show, each under its heading. */
export function renderLoadReport(report: LoadReport, style: ChalkInstance): string {
  const d = report.data;
  const sections = [renderLoadSummary(report, style)];
  if (Object.keys(d.endpoints).length > 0) sections.push(`${style.bold('Endpoints')}\n${renderEndpointTable(d.endpoints, style)}`);
  if (d.stages.length > 1 || (d.profile.analyses ?? []).includes('steps')) sections.push(`${style.bold('Steps')}\n${renderStepTable(d.stages, style)}`);
  if (d.thresholds.length > 0) sections.push(`${style.bold('Thresholds')}\n${renderThresholdTable(d.thresholds, style)}`);
  if (d.baseline) sections.push(`${style.bold(`Baseline ${visible(d.baseline.source)}`)}\n${renderDeltaTable(d.baseline, style)}`);
  return sections.join('\n');
}
