import type { Finding } from '../core/findings.js';
import type { InputKind, ReportIndex } from './reports.js';
import type { MetricFilter, MetricSource, MetricUnit } from './types.js';

/** What a metric's measure function sees: the indexed directory (reports or baseline) and where it runs. */
export interface MeasureContext {
  index: ReportIndex;
  cwd: string;
  now: Date;
  /** " --out reports/x" when the reports directory is not the commands' default (reports), else "". */
  outFlag: string;
  /** The directory as the user sees it (relative to cwd when inside it). */
  dirLabel: string;
  /** True when measuring the baseline directory. */
  baseline: boolean;
}

export type Measurement =
  | {
      status: 'measured';
      value: number;
      description: string;
      sources: MetricSource[];
      /** Appended to the reason when the objective does not pass ("restart 75 s"). */
      detail?: string;
      findings?: Finding[];
    }
  /** Measured, and the measurement itself is a failure without a number (a probe never recovered). */
  | { status: 'failed'; description: string; sources: MetricSource[]; detail: string }
  /** The input does not exist: the command that produces it, and why it is missing. */
  | { status: 'not_measured'; command: string; why: string };

export type FilterKey = keyof MetricFilter;

export interface MetricDef {
  name: string;
  unit: MetricUnit;
  /** "p99 latency (profile normal)". */
  label(filter: MetricFilter): string;
  /** Filter fields the metric needs, and those it accepts besides. */
  required: readonly FilterKey[];
  optional: readonly FilterKey[];
  /** Whether relative criteria apply (the same metric can be read from a baseline directory). */
  baseline: boolean;
  /** Report kinds to index for it. */
  kinds: readonly InputKind[];
  measure(filter: MetricFilter, ctx: MeasureContext): Promise<Measurement> | Measurement;
}

export function notMeasured(command: string, why: string): Measurement {
  return { status: 'not_measured', command, why };
}

/** 812 -> "812", 0.35 -> "0.35", 12.3456 -> "12.35", 1234.6 -> "1235". */
export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 1 ? 2 : 3;
  return String(Number(value.toFixed(digits)));
}

export function formatValue(value: number, unit: MetricUnit): string {
  switch (unit) {
    case '%':
      return `${formatNumber(value)}%`;
    case 'ms':
    case 's':
    case 'rps':
      return `${formatNumber(value)} ${unit}`;
    case 'bool':
      return value === 1 ? 'yes' : 'no';
    default:
      return formatNumber(value);
  }
}
