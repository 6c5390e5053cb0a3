import { InvalidInputError } from '../core/errors.js';
import { decodeHistogram, percentileMs } from './histogram.js';
import { STATUS_CLASSES } from './recorder.js';
import type { LoadReportData, ThresholdResult, ThresholdSpec, Totals } from './types.js';

/**
 * Thresholds in k6's syntax: `{"latency{endpoint:check_allowed}": ["p(99)<800", "avg<200"]}`.
 * Metrics (k6 aliases in brackets): latency [http_req_duration] and service_time are trends in ms
 * (avg, min, max, med, p(N)); errors [http_req_failed] and throttled are rates (rate, count);
 * dropped [dropped_iterations] and requests [http_reqs] are counters (count, rate per second).
 * One tag filter at most: endpoint:<name> or status:<2xx|3xx|4xx|5xx|none>.
 */
export type ThresholdMetricName = 'latency' | 'service_time' | 'errors' | 'throttled' | 'dropped' | 'requests';
export type ThresholdKind = 'trend' | 'rate' | 'counter';
export type ThresholdOperator = '<' | '<=' | '>' | '>=' | '==' | '!=';
export type ThresholdAggregation = 'avg' | 'min' | 'max' | 'med' | 'p' | 'rate' | 'count';

export interface ThresholdFilter {
  tag: 'endpoint' | 'status';
  value: string;
}

export interface ParsedMetric {
  /** As written. */
  key: string;
  name: ThresholdMetricName;
  kind: ThresholdKind;
  filter: ThresholdFilter | null;
}

export interface ParsedThreshold extends ParsedMetric {
  expression: string;
  aggregation: ThresholdAggregation;
  /** For p(N). */
  percentile?: number;
  operator: ThresholdOperator;
  limit: number;
}

const METRICS: Record<string, ThresholdMetricName> = {
  latency: 'latency',
  http_req_duration: 'latency',
  service_time: 'service_time',
  errors: 'errors',
  http_req_failed: 'errors',
  throttled: 'throttled',
  dropped: 'dropped',
  dropped_iterations: 'dropped',
  requests: 'requests',
  http_reqs: 'requests',
};

const KINDS: Record<ThresholdMetricName, ThresholdKind> = {
  latency: 'trend',
  service_time: 'trend',
  errors: 'rate',
  throttled: 'rate',
  dropped: 'counter',
  requests: 'counter',
};

const AGGREGATIONS: Record<ThresholdKind, readonly string[]> = {
  trend: ['avg', 'min', 'max', 'med', 'p(N)'],
  rate: ['rate', 'count'],
  counter: ['count', 'rate'],
};

const STATUS_FILTERS = ['2xx', '3xx', '4xx', '5xx', 'none'];
const METRIC_KEY = /^\s*([A-Za-z_]+)\s*(?:\{\s*([A-Za-z_]+)\s*:\s*([^{}]*?)\s*\})?\s*$/;
const EXPRESSION = /^\s*(avg|min|max|med|count|rate|p\(\s*([0-9]+(?:\.[0-9]+)?)\s*\))\s*(<=|>=|==|!=|<|>)\s*(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)\s*$/;

/** Parses `latency{endpoint:x}`; the error text says what was expected (the caller adds where). */
export function parseMetricKey(key: string): ParsedMetric | string {
  const m = METRIC_KEY.exec(key);
  if (!m) return `expected a metric name with an optional filter like "latency{endpoint:check_allowed}", found ${JSON.stringify(key)}`;
  const name = METRICS[m[1]!];
  if (!name) return `unknown metric ${JSON.stringify(m[1])}: expected one of ${Object.keys(METRICS).join(', ')}`;
  let filter: ThresholdFilter | null = null;
  if (m[2] !== undefined) {
    const tag = m[2];
    const value = m[3] ?? '';
    if (tag !== 'endpoint' && tag !== 'status') return `unknown tag filter "${tag}": expected endpoint:<request name> or status:<${STATUS_FILTERS.join('|')}>`;
    if (value === '') return `empty ${tag} filter: expected ${tag}:<value>`;
    if (tag === 'status' && !STATUS_FILTERS.includes(value)) return `status filter "${value}": expected one of ${STATUS_FILTERS.join(', ')}`;
    if (tag === 'status' && name === 'dropped') return 'dropped arrivals have no status: filter dropped by endpoint only';
    filter = { tag, value };
  }
  return { key, name, kind: KINDS[name], filter };
}

/**
 * Validates a profile's thresholds. `where` names the source (a file); errors add the JSON path
 * ($.thresholds['latency'][0]) and what was expected.
 */
export function parseThresholdSpec(spec: ThresholdSpec, where: string): ParsedThreshold[] {
  const fail = (path: string, what: string): never => {
    throw new InvalidInputError(`${where} is invalid: $.thresholds${path}: ${what}`);
  };
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) fail('', 'expected an object of metric -> list of expressions');
  const parsed: ParsedThreshold[] = [];
  for (const [key, expressions] of Object.entries(spec)) {
    const path = `['${key}']`;
    const metric = parseMetricKey(key);
    if (typeof metric === 'string') return fail(path, metric);
    if (!Array.isArray(expressions) || expressions.length === 0) fail(path, 'expected a non-empty list of expressions like ["p(99)<800"]');
    expressions.forEach((expression, i) => {
      if (typeof expression !== 'string') return fail(`${path}[${i}]`, `expected a string expression, found ${JSON.stringify(expression)}`);
      const result = parseExpression(metric, expression);
      if (typeof result === 'string') return fail(`${path}[${i}]`, result);
      parsed.push(result);
    });
  }
  return parsed;
}

function parseExpression(metric: ParsedMetric, expression: string): ParsedThreshold | string {
  const allowed = AGGREGATIONS[metric.kind];
  const m = EXPRESSION.exec(expression);
  if (!m) {
    return `expected an expression like "${metric.kind === 'trend' ? 'p(99)<800' : metric.kind === 'rate' ? 'rate<0.01' : 'count==0'}" (${allowed.join(', ')} then < <= > >= == != and a number), found ${JSON.stringify(expression)}`;
  }
  const aggregation = (m[2] !== undefined ? 'p' : m[1]) as ThresholdAggregation;
  const name = aggregation === 'p' ? 'p(N)' : aggregation;
  if (!allowed.includes(name)) return `${metric.name} is a ${metric.kind}: expected ${allowed.join(', ')}, found "${m[1]}" in ${JSON.stringify(expression)}`;
  const parsed: ParsedThreshold = { ...metric, expression, aggregation, operator: m[3] as ThresholdOperator, limit: Number(m[4]) };
  if (aggregation === 'p') {
    const percentile = Number(m[2]);
    if (!(percentile > 0 && percentile <= 100)) return `percentile out of range in ${JSON.stringify(expression)}: expected p(N) with 0 < N <= 100`;
    parsed.percentile = percentile;
  }
  return parsed;
}

/** Evaluates every threshold on the data (a merged run's as well as one run's). */
export function evaluateThresholds(spec: ThresholdSpec, data: LoadReportData, where = 'thresholds'): ThresholdResult[] {
  return parseThresholdSpec(spec, where).map((t) => evaluateOne(t, data));
}

function evaluateOne(t: ParsedThreshold, data: LoadReportData): ThresholdResult {
  const base = { metric: t.key, expression: t.expression };
  const notMeasured = (reason: string): ThresholdResult => ({ ...base, value: null, passed: false, reason: `not measured: ${reason}` });
  const totals = totalsFor(t.filter, data);
  const label = t.filter ? ` for ${t.filter.tag}:${t.filter.value}` : '';
  if (t.filter && (!totals || (totals.requests === 0 && totals.dropped === 0))) {
    // A count over a group the run knows (a scenario endpoint, a status class) that received
    // nothing is a measured 0 once the run sent anything: "no 5xx" holds when no 5xx came.
    if (t.aggregation === 'count' && knownGroup(t.filter, data) && data.totals.requests > 0) {
      return { ...base, value: 0, passed: compare(0, t.operator, t.limit) };
    }
    return notMeasured(`no requests${label}`);
  }
  if (!totals) return notMeasured('no totals');
  const value = measure(t, totals);
  if (value === null) return notMeasured(totals.requests === 0 ? `no requests${label}` : `no measured window${label}`);
  return { ...base, value, passed: compare(value, t.operator, t.limit) };
}

function knownGroup(filter: ThresholdFilter, data: LoadReportData): boolean {
  if (filter.tag === 'endpoint') return data.scenario.requests.some((r) => r.name === filter.value);
  return (STATUS_CLASSES as readonly string[]).includes(filter.value);
}

function totalsFor(filter: ThresholdFilter | null, data: LoadReportData): Totals | undefined {
  if (!filter) return data.totals;
  const table = filter.tag === 'endpoint' ? data.endpoints : data.status_classes;
  return Object.hasOwn(table, filter.value) ? table[filter.value] : undefined;
}

/** The measured value, null when there is nothing to measure it on. */
function measure(t: ParsedThreshold, totals: Totals): number | null {
  const seconds = totals.duration_ms / 1000;
  switch (t.name) {
    case 'latency':
    case 'service_time': {
      if (totals.requests === 0) return null;
      const summary = t.name === 'latency' ? totals.latency_ms : totals.service_ms;
      switch (t.aggregation) {
        case 'avg':
          return summary.mean;
        case 'min':
          return summary.min;
        case 'max':
          return summary.max;
        case 'med':
          return summary.p50;
        default: {
          const encoded = t.name === 'latency' ? totals.histograms.latency : totals.histograms.service;
          return percentileMs(decodeHistogram(encoded, `${t.key} histogram`), t.percentile!);
        }
      }
    }
    case 'errors':
      if (t.aggregation === 'count') return totals.errors;
      return totals.requests > 0 ? totals.errors / totals.requests : null;
    case 'throttled':
      if (t.aggregation === 'count') return totals.throttled;
      return totals.requests > 0 ? totals.throttled / totals.requests : null;
    case 'dropped':
      if (t.aggregation === 'count') return totals.dropped;
      return seconds > 0 ? totals.dropped / seconds : null;
    case 'requests':
      if (t.aggregation === 'count') return totals.requests;
      return seconds > 0 ? totals.requests / seconds : null;
  }
}

function compare(value: number, op: ThresholdOperator, limit: number): boolean {
  switch (op) {
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '==':
      return value === limit;
    case '!=':
      return value !== limit;
  }
}

/** True when every threshold passed (an empty list passes). */
export function thresholdsPassed(results: readonly ThresholdResult[]): boolean {
  return results.every((r) => r.passed);
}

export function failedThresholds(results: readonly ThresholdResult[]): ThresholdResult[] {
  return results.filter((r) => !r.passed);
}

/** The measured value with its unit: "812.3 ms", "0.4%" (rates), "12" (counts), "35.2/s". */
export function formatThresholdValue(result: Pick<ThresholdResult, 'metric' | 'expression' | 'value'>): string {
  if (result.value === null) return 'not measured';
  const metric = parseMetricKey(result.metric);
  const aggregation = /^\s*(avg|min|max|med|count|rate|p)/.exec(result.expression)?.[1];
  const v = result.value;
  if (typeof metric === 'string') return String(v);
  if (metric.kind === 'trend') return `${trim(v)} ms`;
  if (aggregation === 'count') return String(v);
  if (metric.kind === 'rate') return `${trim(v * 100)}%`;
  return `${trim(v)}/s`;
}

/** One line: "latency{endpoint:x} p(99)<800: 812.3 ms — failed". */
export function describeThresholdResult(result: ThresholdResult): string {
  const outcome = result.passed ? 'passed' : result.reason ? `failed (${result.reason})` : 'failed';
  return `${result.metric} ${result.expression}: ${formatThresholdValue(result)} — ${outcome}`;
}

/**
 * The p99 limit (ms) a stress profile's step analysis uses: the tightest `p(99)<N` or `p(99)<=N`
 * on the unfiltered latency metric, undefined when there is none.
 */
export function p99LimitFrom(spec: ThresholdSpec): number | undefined {
  let limit: number | undefined;
  for (const [key, expressions] of Object.entries(spec)) {
    const metric = parseMetricKey(key);
    if (typeof metric === 'string' || metric.name !== 'latency' || metric.filter || !Array.isArray(expressions)) continue;
    for (const expression of expressions) {
      if (typeof expression !== 'string') continue;
      const t = parseExpression(metric, expression);
      if (typeof t === 'string' || t.aggregation !== 'p' || t.percentile !== 99 || (t.operator !== '<' && t.operator !== '<=')) continue;
      limit = limit === undefined ? t.limit : Math.min(limit, t.limit);
    }
  }
  return limit;
}

const trim = (n: number): string => String(Math.round(n * 1000) / 1000);
