import { join } from 'node:path';
import { NotFoundError } from '../core/errors.js';
import { readReport } from '../core/report.js';
import { assertValid, compileSchema, type Validator } from '../core/schema.js';
import type { LoadReportData } from './types.js';

/** When a run counts as a regression against its baseline. */
export interface RegressionRules {
  /** Largest allowed rise of p95, percent (default 10). */
  p95_increase_pct: number;
  /** Largest allowed rise of p99, percent (default 15). */
  p99_increase_pct: number;
  /** Largest allowed fall of throughput, percent (default 10). */
  throughput_decrease_pct: number;
  /** Largest allowed rise of the error rate, as a fraction (default 0.01 = 1 point). */
  error_rate_increase: number;
}

export const DEFAULT_REGRESSION_RULES: Readonly<RegressionRules> = Object.freeze({
  p95_increase_pct: 10,
  p99_increase_pct: 15,
  throughput_decrease_pct: 10,
  error_rate_increase: 0.01,
});

export type BaselineComparison = NonNullable<LoadReportData['baseline']>;

type Delta = BaselineComparison['deltas'][number];

/**
 * Compares a run with a baseline run. Regressions (each against its rule): p95 and p99 rising by
 * more than their percent, throughput falling by more than its percent, the error rate rising by
 * more than its points. Deltas (informative) for p50, p95, p99, throughput, error rate, throttled
 * rate and dropped arrivals. Latencies are not compared when either run had no request.
 */
export function compareToBaseline(
  current: LoadReportData,
  baseline: LoadReportData,
  source: string,
  rules: Partial<RegressionRules> = {},
): BaselineComparison {
  const r: RegressionRules = { ...DEFAULT_REGRESSION_RULES, ...definedOnly(rules) };
  const cur = current.totals;
  const base = baseline.totals;
  const latency = (t: typeof cur, key: 'p50' | 'p95' | 'p99'): number | null => (t.requests > 0 ? t.latency_ms[key] : null);
  const throttledRate = (t: typeof cur): number | null => (t.requests > 0 ? t.throttled / t.requests : null);
  const errorRate = (t: typeof cur): number | null => (t.requests > 0 ? t.error_rate : null);

  const deltas: Delta[] = [
    relative('p50_ms', latency(base, 'p50'), latency(cur, 'p50')),
    relative('p95_ms', latency(base, 'p95'), latency(cur, 'p95')),
    relative('p99_ms', latency(base, 'p99'), latency(cur, 'p99')),
    relative('throughput_rps', base.throughput_rps, cur.throughput_rps),
    points('error_rate', errorRate(base), errorRate(cur)),
    points('throttled_rate', throttledRate(base), throttledRate(cur)),
    absolute('dropped', base.dropped, cur.dropped),
  ];

  const regressions: BaselineComparison['regressions'] = [];
  const check = (metric: string, b: number | null, c: number | null, exceeded: (b: number, c: number) => boolean, change: string, limit: string): void => {
    if (b !== null && c !== null && exceeded(b, c)) regressions.push({ metric, baseline: b, current: c, change, limit });
  };
  const changeOf = (metric: string): string => deltas.find((d) => d.metric === metric)!.change;
  check('p95_ms', latency(base, 'p95'), latency(cur, 'p95'), (b, c) => b > 0 && ((c - b) / b) * 100 > r.p95_increase_pct, changeOf('p95_ms'), `+${r.p95_increase_pct}%`);
  check('p99_ms', latency(base, 'p99'), latency(cur, 'p99'), (b, c) => b > 0 && ((c - b) / b) * 100 > r.p99_increase_pct, changeOf('p99_ms'), `+${r.p99_increase_pct}%`);
  check('throughput_rps', base.throughput_rps, cur.throughput_rps, (b, c) => b > 0 && ((b - c) / b) * 100 > r.throughput_decrease_pct, changeOf('throughput_rps'), `-${r.throughput_decrease_pct}%`);
  check('error_rate', errorRate(base), errorRate(cur), (b, c) => c - b > r.error_rate_increase + 1e-12, changeOf('error_rate'), `+${fmt(r.error_rate_increase * 100)} pt`);

  return { source, regressions, deltas, passed: regressions.length === 0 };
}

function definedOnly(rules: Partial<RegressionRules>): Partial<RegressionRules> {
  return Object.fromEntries(Object.entries(rules).filter(([, v]) => v !== undefined)) as Partial<RegressionRules>;
}

const fmt = (n: number): string => String(Math.round(n * 10) / 10);
const signed = (n: number): string => (n >= 0 ? `+${fmt(n)}` : `-${fmt(-n)}`);

/** "+12.3%"; "n/a" when either side is missing, "new" when the baseline was 0 and now is not. */
function relative(metric: string, baseline: number | null, current: number | null): Delta {
  let change = 'n/a';
  if (baseline !== null && current !== null) change = baseline === 0 ? (current === 0 ? '+0%' : 'new') : `${signed(((current - baseline) / baseline) * 100)}%`;
  return { metric, baseline, current, change };
}

/** Rates compared in percentage points: "+0.4 pt". */
function points(metric: string, baseline: number | null, current: number | null): Delta {
  const change = baseline !== null && current !== null ? `${signed((current - baseline) * 100)} pt` : 'n/a';
  return { metric, baseline, current, change };
}

/** Counts compared as a difference: "+12". */
function absolute(metric: string, baseline: number, current: number): Delta {
  const d = current - baseline;
  return { metric, baseline, current, change: d >= 0 ? `+${d}` : String(d) };
}

/** `baselines/<profile>.json` under `dir` (what `--baseline auto` reads and `--save-baseline` writes). */
export function autoBaselinePath(dir: string, profile: string): string {
  return join(dir, `${profile}.json`);
}

const summary = {
  type: 'object',
  required: ['p50', 'p95', 'p99'],
  properties: { p50: { type: 'number' }, p95: { type: 'number' }, p99: { type: 'number' } },
};
/** The part of a load report's data that a comparison reads. */
const baselineDataSchema = {
  type: 'object',
  required: ['totals'],
  properties: {
    totals: {
      type: 'object',
      required: ['requests', 'throughput_rps', 'error_rate', 'throttled', 'dropped', 'latency_ms'],
      properties: {
        requests: { type: 'number', minimum: 0 },
        throughput_rps: { type: 'number', minimum: 0 },
        error_rate: { type: 'number', minimum: 0 },
        throttled: { type: 'number', minimum: 0 },
        dropped: { type: 'number', minimum: 0 },
        latency_ms: summary,
      },
    },
  },
};
let validateBaseline: Validator<LoadReportData> | undefined;

/**
 * Reads a baseline (a `govctl.load/v1` report). A missing file is NotFoundError (exit 5), unless
 * `auto` (`--baseline auto` before any baseline was saved): then undefined. Anything else wrong is
 * an InvalidInputError naming the file and path.
 */
export async function loadBaseline(path: string): Promise<LoadReportData>;
export async function loadBaseline(path: string, options: { auto?: boolean }): Promise<LoadReportData | undefined>;
export async function loadBaseline(path: string, options: { auto?: boolean } = {}): Promise<LoadReportData | undefined> {
  try {
    const { report } = await readReport<LoadReportData>(path, { kind: 'load' });
    validateBaseline ??= compileSchema<LoadReportData>(baselineDataSchema);
    // Paths in errors are relative to the report's `data`.
    assertValid(validateBaseline, report.data, `baseline ${path} (data)`);
    return report.data;
  } catch (err) {
    if (options.auto && err instanceof NotFoundError) return undefined;
    if (err instanceof NotFoundError) throw new NotFoundError(`baseline ${path} does not exist`, { cause: err, hint: 'run with --save-baseline to create it' });
    throw err;
  }
}
