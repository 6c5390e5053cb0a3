import type { Finding, Severity } from '../core/findings.js';
import type { ProbeName } from '../chaos/types.js';

/**
 * The shapes of `govctl gate`: a gate file as loaded (normalised, criteria parsed), and the
 * evaluation the cli renders and the reporters (JUnit, SARIF, Markdown, annotations, code
 * quality) are written against. The evaluation is the `data` of a `govctl.gate/v1` report.
 */

export type GateOutcome = 'pass' | 'warn' | 'fail';

/** What a value is measured in. Percentages are 0..100 (75 means 75 %), never fractions. */
export type MetricUnit = '%' | 'ms' | 's' | 'count' | 'bool' | 'rps';

export type Comparator = '<' | '<=' | '==' | '!=' | '>=' | '>';

/**
 * One parsed criterion. Absolute: `value <op> target`. Relative (a sign in the text): the target
 * is the baseline plus a delta, either absolute ("<=+50") or a percentage of it ("<=+10%").
 */
export interface Criterion {
  /** As written: "<800", "<=+10%". */
  text: string;
  op: Comparator;
  /** The number as written (10 for "<=+10%", -5 for ">=-5%"). */
  number: number;
  relative: 'absolute-delta' | 'percent-delta' | null;
}

/** AND within a list, OR across lists (Keptn). */
export interface CriteriaSets {
  sets: Criterion[][];
  /** "<800 or (<=+10% and <1000)". */
  text: string;
}

/** Audit steps and scan kinds a security count may read. */
export type SecuritySource = 'scan:secrets' | 'scan:patterns' | 'audit:sbom' | 'audit:vulns' | 'audit:api' | 'audit:config';

export const SECURITY_SOURCES: readonly SecuritySource[] = ['scan:secrets', 'scan:patterns', 'audit:sbom', 'audit:vulns', 'audit:api', 'audit:config'];

/** One document the documentation gate requires (see docs.ts for what "non-trivial" means). */
export interface DocRequirement {
  /** For people: "runbook". */
  name: string;
  /** Candidate paths relative to cwd; the first that exists is checked. */
  paths: string[];
  /** A heading (case-insensitive regular expression) whose section must be non-trivial, e.g. "quick ?start". */
  heading?: string;
  min_bytes: number;
  min_prose_lines: number;
  min_headings: number;
  /** Lines of content (prose, lists or code) the `heading` section needs. */
  min_section_lines: number;
}

/** What a metric is taken from; which fields apply depends on the metric (schema.ts checks). */
export interface MetricFilter {
  /** load: the profile name the report records (data.profile.name). */
  profile?: string;
  /** load: one endpoint (scenario request name) instead of the whole run. */
  endpoint?: string;
  /** chaos: one probe instead of every probe of the run. */
  probe?: ProbeName;
  /** security.findings: count findings at or above this severity (default high). */
  severity?: Severity;
  /** security.findings: which scans and audit steps must have run (default: all of them). */
  sources?: SecuritySource[];
  /** coverage: only files under this path prefix ("src/core/") or matching this glob ("src/**\/*.ts"). */
  path?: string;
  /** coverage: leave files under these prefixes/globs out (per-path overrides judge them). */
  exclude?: string[];
  /** coverage: read these files (relative to cwd) instead of searching. */
  files?: string[];
  /** docs: the documents required. */
  docs?: DocRequirement[];
}

/** One measured objective of a gate: a metric, its filter, and pass/warning criteria. */
export interface ObjectiveSpec {
  metric: string;
  filter: MetricFilter;
  pass: CriteriaSets;
  warning?: CriteriaSets;
  /** JSON path of the objective in the gate file (for messages). */
  path: string;
}

export interface GateSpec {
  id: string;
  name: string;
  description?: string;
  /** A failing key gate fails the whole evaluation, whatever the score. */
  key: boolean;
  /**
   * error (default): a gate that fails, fails. warn: its failure (not measured included) is
   * reported as a warning and never fails the evaluation by itself (it still costs score).
   */
  level: 'error' | 'warn';
  weight: number;
  /** Every objective must pass for the gate to pass (a gate's result is its worst objective's). */
  objectives: ObjectiveSpec[];
}

export interface GateFile {
  /** The file it came from (absolute), or the shipped file for "release". */
  source: string;
  name: string;
  description?: string;
  /** Score thresholds in percent (0..100). */
  total_score: { pass: number; warning: number };
  gates: GateSpec[];
}

/** Where a value came from: a govctl report, another file (coverage), or measured live (docs). */
export interface MetricSource {
  kind: 'report' | 'file' | 'live';
  /** Absolute path of the report or file (the first document for docs). */
  path: string;
  /** "govctl.load/v1" for a report. */
  schema?: string;
  /** The report's run id; null for files and live measurements. */
  run_id: string | null;
  /** The report's run.finished_at; a file's modification time; the evaluation time for live ones. */
  finished_at: string;
}

export interface BaselineComparison {
  /** The same metric read from the baseline directory; null when it could not be. */
  value: number | null;
  source: MetricSource | null;
  /** Why there is no baseline value ("no baseline directory given", "not measured: ..."). */
  reason?: string;
}

/** One criterion as evaluated. */
export interface CriterionCheck {
  text: string;
  /** The absolute number the value was compared with (relative ones: computed from the baseline); null without a baseline. */
  target: number | null;
  ok: boolean;
}

export interface ObjectiveResult {
  /** For people: "p99 latency (profile normal)". */
  label: string;
  metric: string;
  filter: MetricFilter;
  /** The measured value; null when not measured (or measured without a number, e.g. never recovered). */
  value: number | null;
  unit: MetricUnit;
  /** "pass: <800; warning: <1000". */
  criteria: string;
  result: GateOutcome;
  /** One line: "p99 812 ms, needs < 800", "not measured: govctl load --profile normal (...)". */
  reason: string;
  /** False when the input did not exist (no report, no step, no metric): the objective fails. */
  measured: boolean;
  /** What exactly was measured, in words (requests, window, files, probes). */
  description: string;
  /** The main source (the newest, when several). */
  source: MetricSource | null;
  /** Every source the value was computed from (security: each scan and audit report). */
  sources: MetricSource[];
  baseline?: BaselineComparison;
  /** Which criteria held: pass sets, then warning sets (when evaluated). */
  checks: { pass: CriterionCheck[][]; warning?: CriterionCheck[][] };
  /** Findings-based metrics: the findings counted (for SARIF and code quality). */
  findings?: Finding[];
}

export interface GateResult {
  id: string;
  name: string;
  description?: string;
  key: boolean;
  weight: number;
  result: GateOutcome;
  /** False when any objective was not measured. */
  measured: boolean;
  /** The deciding objective's (the first with the gate's result): metric, value, unit, criteria, reason, source. */
  metric: string;
  value: number | null;
  unit: MetricUnit;
  criteria: string;
  reason: string;
  source: MetricSource | null;
  baseline_value?: number | null;
  /** Score contribution: weight (pass), weight / 2 (warn), 0 (fail). */
  score: number;
  objectives: ObjectiveResult[];
}

/** A report found in the reports or baseline directory that was not used, and why. */
export interface IgnoredReport {
  path: string;
  reason: string;
}

export interface GateEvaluation {
  /** Name and source of the gate file. */
  gates_file: { name: string; source: string };
  evaluated_at: string;
  reports_dir: string;
  baseline_dir: string | null;
  result: GateOutcome;
  /** 0..100: (weights of passed gates + half the weights of warned ones) / total weight. */
  score: number;
  total_score: { pass: number; warning: number };
  /** Ids of key gates that failed (any one fails the evaluation). */
  key_failures: string[];
  /** One line: "fail: key gate G5 failed; score 81.3% (pass >= 90%)". */
  reason: string;
  counts: { pass: number; warn: number; fail: number; not_measured: number; total: number };
  gates: GateResult[];
  /** Every report and file a value was read from, and the reports left out with why. */
  reports: { used: MetricSource[]; ignored: IgnoredReport[] };
}
