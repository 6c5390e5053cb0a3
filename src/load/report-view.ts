import { analysisSections, thresholdValue } from './report-view-analysis.js';
import { count, duration, megabytes, ms, num, percent, rps, when } from './report-format.js';
import { ERROR_CLASSES, type LatencySummary, type LoadReport, type Totals } from './types.js';
import { grid, kv, text, type LoadReportView, type ReportBanner, type ReportSection } from './report-view-model.js';

export type { Align, LoadReportView, Mark, ReportBanner, ReportRow, ReportSection, ReportTable } from './report-view-model.js';

/** The load report as the human outputs show it (see report-view-model.ts). */
const LATENCY_COLUMNS = ['count', 'min', 'mean', 'stdev', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max'];
const latencyCells = (l: LatencySummary): string[] => [count(l.count), ...[l.min, l.mean, l.stdev, l.p50, l.p90, l.p95, l.p99, l.p999, l.max].map(ms)];

export function loadReportView(report: LoadReport): LoadReportView {
  const { data, run } = report;
  const partial = run.status === 'interrupted';
  return {
    title: `govctl load report: ${text(data.profile.name)}`,
    status: partial ? 'interrupted (partial results)' : run.status,
    partial,
    banners: banners(report),
    sections: [summarySection(report), ...trafficSections(data.totals, report), ...analysisSections(report)],
  };
}

function banners(report: LoadReport): ReportBanner[] {
  const { data, run } = report;
  const list: ReportBanner[] = [];
  if (run.status === 'interrupted') {
    list.push({
      level: 'error',
      title: 'Interrupted: partial results',
      lines: [`The run was stopped at ${when(run.finished_at)} before it finished. Every figure below covers only the part that ran.`],
    });
  } else if (run.status === 'error') {
    list.push({ level: 'error', title: 'The run ended with an error', lines: ['Figures may be incomplete.'] });
  }
  if (data.generator.bottleneck) {
    list.push({
      level: 'warning',
      title: 'The load generator was itself the bottleneck',
      lines: [
        'The client could not keep up with the load it was asked to generate, so throughput and latency below describe the generator as much as the server.',
        ...data.generator.reasons.map(text),
      ],
    });
  }
  const failed = data.thresholds.filter((t) => !t.passed);
  if (failed.length > 0) {
    list.push({
      level: 'error',
      title: `${failed.length} of ${data.thresholds.length} thresholds failed`,
      lines: failed.map((t) => `${text(t.metric)} ${text(t.expression)}: measured ${thresholdValue(t)}${t.reason ? ` (${text(t.reason)})` : ''}`),
    });
  }
  if (data.baseline && !data.baseline.passed) {
    list.push({
      level: 'error',
      title: `Regression against the baseline (${text(data.baseline.source)})`,
      lines: data.baseline.regressions.map((r) => `${text(r.metric)}: ${num(r.baseline)} -> ${num(r.current)} (${text(r.change)}, limit ${text(r.limit)})`),
    });
  }
  if (data.audit.status === 'measured' && data.audit.lost > 0) {
    list.push({
      level: 'error',
      title: 'Lost audit records',
      lines: [`${count(data.audit.lost)} of ${count(data.audit.acknowledged)} acknowledged decisions are missing from the server's audit log.`],
    });
  }
  if (data.memory?.status === 'measured' && data.memory.suspected_leak) {
    list.push({
      level: 'warning',
      title: 'Suspected memory leak',
      lines: [`The server's resident memory grew by ${megabytes(data.memory.slope_bytes_per_min)} per minute during the run.`],
    });
  }
  if (data.keys.revoked === false) {
    list.push({ level: 'warning', title: "The run's API keys were not revoked", lines: ['Revoke them with govctl keys.'] });
  }
  if (data.breaking_point) {
    const bp = data.breaking_point;
    list.push({ level: 'info', title: `Breaking point: ${text(bp.label)}`, lines: bp.reasons.map(text) });
  }
  return list;
}

function summarySection(report: LoadReport): ReportSection {
  const { data, run, target } = report;
  const t = data.totals;
  const p = data.profile;
  const tags = Object.entries(data.options.tags).map(([k, v]) => `${text(k)}=${text(v)}`);
  const keys = data.keys;
  const revoked = keys.revoked === null ? '' : keys.revoked ? ', revoked afterwards' : ', NOT revoked';
  const rows: Array<[string, string]> = [
    ['Status', run.status === 'interrupted' ? 'interrupted (partial results)' : run.status],
    ['Run', `${text(run.id)} (${when(run.started_at)} to ${when(run.finished_at)})`],
    ['Profile', `${text(p.name)} (${text(p.source)})${p.description ? `: ${text(p.description)}` : ''}`],
    ['Model', p.model === 'open' ? 'open (arrival rate; latency from the intended send time)' : 'closed (virtual users)'],
    ['Scenario', `${text(data.scenario.name)} (${text(data.scenario.source)})`],
    ['Target', target ? `${text(target.url)} (${target.kind}${target.version ? `, version ${text(target.version)}` : ''})` : '–'],
    ['API keys', `${count(keys.count)} ${keys.source}${revoked}`],
    ['Window', `${when(data.window.started_at)} to ${when(data.window.ended_at)} (${duration(data.window.ended_at - data.window.started_at)} measured, ${duration(data.window.warmup_ms)} warm-up excluded)`],
    ['Seed', String(data.options.seed)],
  ];
  if (data.options.segment) rows.push(['Segment', `${data.options.segment.index}/${data.options.segment.count}`]);
  if (data.options.workers > 1) rows.push(['Workers', String(data.options.workers)]);
  if (tags.length) rows.push(['Tags', tags.join(', ')]);
  rows.push(
    ['Requests', `${count(t.requests)} (${count(t.ok)} ok)`],
    ['Throughput', `${rps(t.throughput_rps)} req/s`],
    ['Errors', `${count(t.errors)} (${percent(t.error_rate)})`],
    ['Throttled (429)', `${count(t.throttled)}${t.throttled_without_retry_after ? ` (${count(t.throttled_without_retry_after)} without Retry-After)` : ''}`],
    ['Dropped', p.model === 'open' ? count(t.dropped) : `${count(t.dropped)} (closed model)`],
  );
  if (data.stages.length > 0) {
    rows.push(['Breaking point', data.breaking_point ? text(data.breaking_point.label) : 'none: every step held']);
    rows.push(['Max sustained throughput', data.max_sustained_throughput_rps === null ? '–' : `${rps(data.max_sustained_throughput_rps)} req/s`]);
  }
  const latency = grid(['', ...LATENCY_COLUMNS], [
    { cells: [p.model === 'open' ? 'latency (corrected)' : 'latency', ...latencyCells(t.latency_ms)] },
    { cells: ['service time', ...latencyCells(t.service_ms)] },
  ]);
  return {
    id: 'summary',
    title: 'Summary',
    paragraphs: [
      p.model === 'open'
        ? 'Latency is measured from each request’s intended send time (coordinated-omission corrected); service time from when it was actually sent.'
        : 'Closed model: each virtual user waits for its response, so latency and service time are the same measurement.',
    ],
    tables: [kv(rows), latency],
  };
}

function trafficSections(totals: Totals, report: LoadReport): ReportSection[] {
  const { data } = report;
  const requestOf = new Map(data.scenario.requests.map((r) => [r.name, r]));
  const endpointRows = Object.entries(data.endpoints).map(([name, e]) => {
    const r = requestOf.get(name);
    return {
      cells: [
        text(name),
        r ? `${text(r.method)} ${text(r.path)}` : '–',
        count(e.requests),
        rps(e.throughput_rps),
        percent(e.error_rate),
        count(e.throttled),
        ms(e.latency_ms.p50),
        ms(e.latency_ms.p95),
        ms(e.latency_ms.p99),
        ms(e.latency_ms.max),
      ],
      ...(e.error_rate > 0.01 ? { mark: 'bad' as const } : {}),
    };
  });
  const share = (n: number) => percent(totals.requests ? n / totals.requests : null);
  const codes = Object.entries(totals.status_codes).sort(([a], [b]) => Number(a) - Number(b));
  const classes = Object.entries(data.status_classes).map(([cls, c]) => ({
    cells: [text(cls), count(c.requests), share(c.requests), ms(c.latency_ms.p50), ms(c.latency_ms.p99)],
  }));
  return [
    {
      id: 'endpoints',
      title: 'Endpoints',
      paragraphs: endpointRows.length ? [] : ['No requests were recorded.'],
      tables: endpointRows.length
        ? [grid(['endpoint', 'request', 'requests', 'req/s', 'error rate', 'throttled', 'p50', 'p95', 'p99', 'max'], endpointRows, 2)]
        : [],
    },
    {
      id: 'statuses',
      title: 'Status codes and error classes',
      paragraphs: [],
      layout: 'row',
      tables: [
        grid(['status', 'requests', 'share'], codes.map(([code, n]) => ({ cells: [code === '0' ? 'no response' : text(code), count(n), share(n)] }))),
        grid(['status class', 'requests', 'share', 'p50', 'p99'], classes),
        grid(
          ['error class', 'requests', 'share'],
          ERROR_CLASSES.map((c) => ({ cells: [c, count(totals.error_classes[c] ?? 0), share(totals.error_classes[c] ?? 0)] })),
        ),
      ],
    },
  ];
}
