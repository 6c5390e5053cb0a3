import { messageOf } from '../../core/errors.js';
import { decodeHistogram, percentileDistribution } from '../histogram.js';
import { megabytes } from '../report-format.js';
import type { Interval, LoadReport } from '../types.js';

/**
 * The charts of the HTML report as plain data: uPlot's aligned arrays (one x array, one y array
 * per series) plus labels. The page script only draws them, so everything a chart shows is
 * decided (and testable) here. Series labels may be endpoint names: uPlot sets them as text.
 */

export interface ChartSeries {
  label: string;
  color: string;
  values: Array<number | null>;
  /** Drawn against the right-hand axis. */
  axis?: 'y2';
  dash?: boolean;
  /** Appended to values in the legend ("ms"). */
  unit?: string;
}

export interface ChartSpec {
  id: string;
  title: string;
  caption: string;
  /** Seconds since the start of the measured window, or 1/(1-p) on a log scale (HDR percentile plot). */
  xKind: 'seconds' | 'percentile';
  yLabel: string;
  y2Label?: string;
  /** Start the y axis at 0 (counts and latency); off for memory, so a slope stays visible. */
  yFromZero: boolean;
  /** Connect a series across x values it has no point at (the distribution's series stop at different percentiles). */
  spanGaps: boolean;
  x: number[];
  series: ChartSeries[];
}

export interface ChartBlock {
  spec: ChartSpec;
  /** Nothing to draw: the page shows "no data" (and `note` when set) instead of a canvas. */
  empty: boolean;
  note?: string;
}

const PERCENTILE_COLORS = { p50: '#2a9d8f', p90: '#d4a017', p99: '#e76f51', max: '#9b2226' };
const DISTRIBUTION_COLORS = ['#1d4e89', '#2a9d8f', '#e76f51', '#6a4c93', '#d4a017', '#8d5a97', '#4f772d', '#c1121f'];

const round = (v: number, digits = 3) => Number(v.toFixed(digits));

export function loadCharts(report: LoadReport): ChartBlock[] {
  const blocks = [latencyOverTime(report), throughputOverTime(report), distribution(report)];
  const memory = memoryTrend(report);
  if (memory) blocks.push(memory);
  return blocks;
}

function block(spec: ChartSpec, note?: string): ChartBlock {
  const empty = spec.x.length === 0 || spec.series.every((s) => s.values.every((v) => v === null));
  return { spec, empty, ...(note ? { note } : {}) };
}

function sortedIntervals(report: LoadReport): Interval[] {
  return [...report.data.intervals].sort((a, b) => a.t - b.t);
}

function elapsed(report: LoadReport, t: number): number {
  return round((t - report.data.window.started_at) / 1000, 3);
}

function latencyOverTime(report: LoadReport): ChartBlock {
  const intervals = sortedIntervals(report);
  const pick = (key: 'p50' | 'p90' | 'p99' | 'max') => intervals.map((i) => (i.latency_ms ? round(i.latency_ms[key]) : null));
  const corrected = report.data.profile.model === 'open' ? ' (from the intended send time)' : '';
  return block({
    id: 'chart-latency',
    title: 'Latency over time',
    caption: `Per-second latency percentiles${corrected}; gaps are seconds in which no request completed.`,
    xKind: 'seconds',
    yLabel: 'latency (ms)',
    yFromZero: true,
    spanGaps: false,
    x: intervals.map((i) => elapsed(report, i.t)),
    series: (['p50', 'p90', 'p99', 'max'] as const).map((key) => ({ label: key, color: PERCENTILE_COLORS[key], values: pick(key), unit: 'ms' })),
  });
}

function throughputOverTime(report: LoadReport): ChartBlock {
  const intervals = sortedIntervals(report);
  const open = report.data.profile.model === 'open';
  const series: ChartSeries[] = [
    { label: 'requests/s', color: '#1d4e89', values: intervals.map((i) => i.requests) },
    { label: 'errors/s', color: '#c1121f', values: intervals.map((i) => i.errors) },
    { label: 'throttled/s', color: '#f77f00', values: intervals.map((i) => i.throttled) },
  ];
  if (open) series.push({ label: 'dropped/s', color: '#6a4c93', values: intervals.map((i) => i.dropped) });
  series.push({ label: open ? 'target arrivals/s' : 'VUs', color: '#8d99ae', values: intervals.map((i) => i.level), axis: 'y2', dash: true });
  return block({
    id: 'chart-throughput',
    title: 'Throughput and errors over time',
    caption: `Requests completed, failed, throttled (429)${open ? ' and dropped' : ''} per second; the dashed line is the intended load level (right axis).`,
    xKind: 'seconds',
    yLabel: 'per second',
    y2Label: open ? 'arrivals/s' : 'VUs',
    yFromZero: true,
    spanGaps: false,
    x: intervals.map((i) => elapsed(report, i.t)),
    series,
  });
}

/** HdrHistogram-style percentile plot: x = 1/(1-p) on a log scale, so the tail gets the room. */
function distribution(report: LoadReport): ChartBlock {
  const { data } = report;
  const sources: Array<[string, string]> = [[data.profile.model === 'open' ? 'latency (corrected)' : 'latency', data.totals.histograms.latency]];
  if (data.profile.model === 'open') sources.push(['service time', data.totals.histograms.service]);
  for (const [name, e] of Object.entries(data.endpoints)) sources.push([name, e.histograms.latency]);
  const problems: string[] = [];
  const curves: Array<{ label: string; points: Map<number, number> }> = [];
  for (const [label, encoded] of sources) {
    try {
      const points = percentileDistribution(decodeHistogram(encoded, label));
      if (points.length) curves.push({ label, points: new Map(points.map((p) => [p.percentile, round(p.value_ms)])) });
    } catch (err) {
      problems.push(`${label}: ${messageOf(err)}`);
    }
  }
  const percentiles = [...new Set(curves.flatMap((c) => [...c.points.keys()]))].sort((a, b) => a - b);
  return block(
    {
      id: 'chart-distribution',
      title: 'Latency distribution',
      caption: 'Latency by percentile for the whole run and each endpoint (HDR histograms), on a log scale that stretches the tail like HdrHistogram’s plotter.',
      xKind: 'percentile',
      yLabel: 'latency (ms)',
      yFromZero: true,
      spanGaps: true,
      x: percentiles.map((p) => round(100 / (100 - p), 6)),
      series: curves.map((c, i) => ({
        label: c.label,
        color: DISTRIBUTION_COLORS[i % DISTRIBUTION_COLORS.length]!,
        values: percentiles.map((p) => c.points.get(p) ?? null),
        unit: 'ms',
        ...(i === 1 && data.profile.model === 'open' ? { dash: true } : {}),
      })),
    },
    problems.length ? `Some histograms could not be read: ${problems.join('; ')}` : undefined,
  );
}

function memoryTrend(report: LoadReport): ChartBlock | null {
  const memory = report.data.memory;
  if (!memory) return null;
  const spec: ChartSpec = {
    id: 'chart-memory',
    title: 'Server memory over time',
    caption: '',
    xKind: 'seconds',
    yLabel: 'RSS (MB)',
    yFromZero: false,
    spanGaps: false,
    x: [],
    series: [],
  };
  if (memory.status === 'not_measured') return { spec, empty: true, note: `not measured: ${memory.reason}` };
  const samples = [...memory.samples].sort((a, b) => a.t - b.t);
  const x = samples.map((s) => elapsed(report, s.t));
  const y = samples.map((s) => round(s.rss_bytes / 1e6));
  // The trend line through the samples' mean with the reported slope (least squares passes there).
  const mx = x.reduce((a, b) => a + b, 0) / (x.length || 1);
  const my = y.reduce((a, b) => a + b, 0) / (y.length || 1);
  const perSecond = memory.slope_bytes_per_min / 60 / 1e6;
  spec.caption = `Resident memory of the server (${memory.source === 'metrics' ? '/metrics' : 'managed process'}); dashed: the fitted trend, ${megabytes(memory.slope_bytes_per_min)}/min${memory.suspected_leak ? ' (suspected leak)' : ''}.`;
  spec.x = x;
  spec.series = [
    { label: 'RSS', color: '#1d4e89', values: y, unit: 'MB' },
    { label: 'trend', color: memory.suspected_leak ? '#c1121f' : '#8d99ae', values: x.map((v) => round(my + (v - mx) * perSecond)), dash: true, unit: 'MB' },
  ];
  return block(spec);
}
