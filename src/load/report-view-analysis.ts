import { describeLocation } from '../core/findings.js';
import { change, count, duration, megabytes, ms, num, percent, rps } from './report-format.js';
import { grid, kv, text, type ReportSection } from './report-view-model.js';
import type { LoadReport, ThresholdResult } from './types.js';

/** The sections after the traffic tables: what the profile's analyses and the run's checks found. */
export function analysisSections(report: LoadReport): ReportSection[] {
  const sections = [steps(report), thresholds(report), baseline(report), drift(report), memory(report), throttling(report)];
  sections.push(audit(report), generator(report), resources(report), findings(report));
  return sections.filter((s): s is ReportSection => s !== null);
}

/** A threshold's measured value in the unit its expression implies (percentiles are ms, rates fractions). */
export function thresholdValue(t: ThresholdResult): string {
  if (t.value === null) return 'not measured';
  if (/^\s*(p\(|avg|min|max|med)/.test(t.expression)) return ms(t.value);
  if (/^\s*rate/.test(t.expression)) return `${num(t.value)} (${percent(t.value)})`;
  return num(t.value);
}

function steps(report: LoadReport): ReportSection | null {
  const { data } = report;
  if (data.stages.length === 0) return null;
  const unit = data.profile.model === 'open' ? 'arrivals/s' : 'VUs';
  const rows = data.stages.map((s) => ({
    cells: [
      String(s.index + 1),
      text(s.label),
      count(s.level),
      duration(s.ended_at - s.started_at),
      count(s.totals.requests),
      rps(s.totals.throughput_rps),
      percent(s.totals.error_rate),
      count(s.totals.throttled),
      ms(s.totals.latency_ms.p50),
      ms(s.totals.latency_ms.p95),
      ms(s.totals.latency_ms.p99),
      s.broken ? `BREAKING POINT: ${s.reasons.map(text).join('; ')}` : s.reasons.length ? s.reasons.map(text).join('; ') : 'held',
    ],
    ...(s.broken ? { mark: 'bad' as const } : {}),
  }));
  const bp = data.breaking_point;
  const level = bp ? `${count(bp.level)} ${unit}` : '';
  return {
    id: 'steps',
    title: 'Stress steps',
    paragraphs: [
      bp
        ? `Breaking point: step ${bp.stage + 1} (${text(bp.label) === level ? level : `${text(bp.label)}, ${level}`}): ${bp.reasons.map(text).join('; ')}.`
        : 'No breaking point: every step held.',
      `Maximum sustained throughput: ${data.max_sustained_throughput_rps === null ? '–' : `${rps(data.max_sustained_throughput_rps)} req/s`}.`,
    ],
    tables: [grid(['step', 'label', unit, 'duration', 'requests', 'req/s', 'error rate', 'throttled', 'p50', 'p95', 'p99', 'result'], rows, 2, [11])],
  };
}

function thresholds(report: LoadReport): ReportSection {
  const list = report.data.thresholds;
  const rows = list.map((t) => ({
    cells: [text(t.metric), text(t.expression), thresholdValue(t), t.passed ? 'pass' : 'FAIL', t.reason ? text(t.reason) : ''],
    mark: t.passed ? ('good' as const) : ('bad' as const),
  }));
  const failed = list.filter((t) => !t.passed).length;
  return {
    id: 'thresholds',
    title: 'Thresholds',
    paragraphs: [list.length === 0 ? 'The profile sets no thresholds.' : failed ? `${failed} of ${list.length} failed.` : `All ${list.length} passed.`],
    tables: rows.length ? [grid(['metric', 'expression', 'measured', 'result', 'note'], rows, 2, [3, 4])] : [],
  };
}

function baseline(report: LoadReport): ReportSection | null {
  const b = report.data.baseline;
  if (!b) return null;
  const regressed = new Set(b.regressions.map((r) => r.metric));
  return {
    id: 'baseline',
    title: 'Baseline comparison',
    paragraphs: [`Against ${text(b.source)}: ${b.passed ? 'no regression' : `${b.regressions.length} regression(s)`}.`],
    tables: [
      grid(
        ['metric', 'baseline', 'current', 'change'],
        b.deltas.map((d) => ({
          cells: [text(d.metric), num(d.baseline), num(d.current), text(d.change)],
          ...(regressed.has(d.metric) ? { mark: 'bad' as const } : {}),
        })),
      ),
      ...(b.regressions.length
        ? [grid(['regression', 'baseline', 'current', 'change', 'limit'], b.regressions.map((r) => ({ cells: [text(r.metric), num(r.baseline), num(r.current), text(r.change), text(r.limit)], mark: 'bad' as const })))]
        : []),
    ],
  };
}

function drift(report: LoadReport): ReportSection | null {
  const d = report.data.drift;
  if (!d) return null;
  if (d.status === 'not_measured') return { id: 'drift', title: 'Drift', paragraphs: [`Not measured: ${text(d.reason)}.`], tables: [] };
  return {
    id: 'drift',
    title: 'Drift (first vs last tenth of the run)',
    paragraphs: [],
    tables: [
      grid(['', 'first tenth', 'last tenth', 'change'], [
        { cells: ['throughput', `${rps(d.first_tenth.throughput_rps)} req/s`, `${rps(d.last_tenth.throughput_rps)} req/s`, change(d.throughput_change_pct)] },
        { cells: ['p99', ms(d.first_tenth.p99_ms), ms(d.last_tenth.p99_ms), change(d.p99_change_pct)] },
      ]),
    ],
  };
}

function memory(report: LoadReport): ReportSection | null {
  const m = report.data.memory;
  if (!m) return null;
  if (m.status === 'not_measured') return { id: 'memory', title: 'Server memory', paragraphs: [`Not measured: ${text(m.reason)}.`], tables: [] };
  const rss = m.samples.map((s) => s.rss_bytes);
  return {
    id: 'memory',
    title: 'Server memory',
    paragraphs: [m.suspected_leak ? 'Suspected leak: resident memory kept growing.' : 'No leak suspected.'],
    tables: [
      kv([
        ['Source', m.source === 'metrics' ? '/metrics process_resident_memory_bytes' : 'the managed server process'],
        ['Samples', count(m.samples.length)],
        ['RSS first / last', `${megabytes(rss[0])} / ${megabytes(rss.at(-1))}`],
        ['RSS max', megabytes(rss.length ? Math.max(...rss) : null)],
        ['Slope', `${m.slope_bytes_per_min >= 0 ? '+' : ''}${megabytes(m.slope_bytes_per_min)}/min`],
        ['Suspected leak', m.suspected_leak ? 'yes' : 'no'],
      ]),
    ],
  };
}

function throttling(report: LoadReport): ReportSection | null {
  const t = report.data.throttling;
  if (!t) return null;
  return {
    id: 'throttling',
    title: 'Rate limiting',
    paragraphs: [],
    tables: [
      kv([
        ['Throttled (429)', count(t.throttled)],
        ['429 without Retry-After', count(t.without_retry_after)],
        ['Server errors (5xx)', count(t.server_errors)],
        ['Healthy afterwards', t.healthy_after === null ? 'not checked' : t.healthy_after ? 'yes' : 'NO'],
      ]),
    ],
  };
}

function audit(report: LoadReport): ReportSection {
  const a = report.data.audit;
  if (a.status === 'not_measured') return { id: 'audit', title: 'Audit accounting', paragraphs: [`Not measured: ${text(a.reason)}.`], tables: [] };
  return {
    id: 'audit',
    title: 'Audit accounting',
    paragraphs: [a.lost > 0 ? `${count(a.lost)} acknowledged decisions are missing from the audit log.` : 'Every acknowledged decision reached the audit log.'],
    tables: [kv([['Acknowledged (200)', count(a.acknowledged)], ['Logged by the server', count(a.logged)], ['Lost', count(a.lost)]])],
  };
}

function generator(report: LoadReport): ReportSection {
  const g = report.data.generator;
  return {
    id: 'generator',
    title: 'Generator health',
    paragraphs: [g.bottleneck ? `The generator was the bottleneck: ${g.reasons.map(text).join('; ')}.` : 'The generator kept up with the load.'],
    tables: [
      kv([
        ['Event-loop lag p99 / max', `${ms(g.event_loop_lag_p99_ms)} / ${ms(g.event_loop_lag_max_ms)}`],
        ['Late sends (> 10 ms)', count(g.late_sends)],
        ['Client CPU max', `${num(g.client_cpu_pct_max)}%`],
        ['Bottleneck', g.bottleneck ? 'YES' : 'no'],
      ]),
    ],
  };
}

function resources(report: LoadReport): ReportSection {
  const r = report.data.resources;
  const peak = (samples: Array<{ cpu_pct: number; rss_bytes: number }>) =>
    samples.length ? `CPU max ${num(Math.max(...samples.map((s) => s.cpu_pct)))}%, RSS max ${megabytes(Math.max(...samples.map((s) => s.rss_bytes)))}` : 'no samples';
  const rows: Array<[string, string]> = [
    ['Client (govctl)', peak(r.client)],
    ['Target process', r.target.status === 'measured' ? peak(r.target.samples) : `not measured: ${text(r.target.reason)}`],
  ];
  if (r.metrics.status === 'not_measured') rows.push(['Server /metrics', `not measured: ${text(r.metrics.reason)}`]);
  const metricRows =
    r.metrics.status === 'measured'
      ? [
          ...Object.entries(r.metrics.counters).map(([k, v]) => ({ cells: [text(k), 'counter delta', num(v)] })),
          ...Object.entries(r.metrics.gauges).map(([k, v]) => ({ cells: [text(k), 'gauge at end', num(v)] })),
        ]
      : [];
  return {
    id: 'resources',
    title: 'Resources',
    paragraphs: [],
    tables: [kv(rows), ...(metricRows.length ? [grid(['server metric', 'kind', 'value'], metricRows, 2)] : [])],
  };
}

function findings(report: LoadReport): ReportSection | null {
  const list = report.data.findings;
  if (list.length === 0) return null;
  return {
    id: 'findings',
    title: 'Findings',
    paragraphs: [],
    tables: [
      grid(
        ['severity', 'title', 'where', 'evidence'],
        list.map((f) => ({ cells: [f.severity, text(f.title), text(describeLocation(f.location)), text(f.evidence)], ...(f.severity === 'info' ? {} : { mark: 'warn' as const }) })),
        4,
      ),
    ],
  };
}
