import { isAbsolute, relative, resolve } from 'node:path';
import { InterruptedError } from '../core/errors.js';
import { evaluateSets, hasRelative } from './criteria.js';
import { formatValue, type MeasureContext, type Measurement } from './metric-types.js';
import { metricDef } from './metrics.js';
import { assertDirectory, indexReports, type InputKind, type ReportIndex } from './reports.js';
import { gateScore, overallOf, worst } from './score.js';
import type { BaselineComparison, CriteriaSets, CriterionCheck, GateEvaluation, GateFile, GateResult, GateSpec, MetricSource, ObjectiveResult, ObjectiveSpec, GateOutcome } from './types.js';

/**
 * Evaluates a gate file over the reports in a directory: each objective's metric is measured
 * from the newest matching report (or file), compared with its pass and warning criteria (and,
 * for relative criteria, the same metric read from the baseline directory); a gate is its worst
 * objective; the evaluation is the weighted score and the key gates. An input that does not
 * exist fails its gate as "not measured: <the command that measures it>", never a default.
 * Bad input (a report of an unknown schema version, an invalid coverage file, a missing
 * directory) is an InvalidInputError (exit 2).
 */

export interface EvaluateGatesOptions {
  gates: GateFile;
  /** Where the reports are (relative to cwd, or absolute). */
  reportsDir: string;
  /** Earlier reports of the same kinds, for relative criteria and baseline values. */
  baselineDir?: string;
  cwd: string;
  /** The evaluation time (docs are measured "now"); default new Date(). */
  now?: Date;
  signal?: AbortSignal;
}

function label(dir: string, cwd: string): string {
  const rel = relative(cwd, dir);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? dir : rel;
}

function context(index: ReportIndex, options: EvaluateGatesOptions, reportsDir: string, now: Date, baseline: boolean): MeasureContext {
  const outFlag = reportsDir === resolve(options.cwd, 'reports') ? '' : ` --out ${label(reportsDir, options.cwd)}`;
  return { index, cwd: options.cwd, now, outFlag, dirLabel: label(index.dir, options.cwd), baseline };
}

function criteriaLine(spec: ObjectiveSpec): string {
  return `pass: ${spec.pass.text}${spec.warning ? `; warning: ${spec.warning.text}` : ''}`;
}

/** "< 800", "<= +10% of the baseline 700 ms (770 ms)", "<= +10% of the baseline (not measured: ...)". */
function describeCheck(criteria: CriteriaSets, check: CriterionCheck, baseline: BaselineComparison | undefined, unit: ObjectiveResult['unit']): string {
  const criterion = criteria.sets.flat().find((c) => c.text === check.text)!;
  if (criterion.relative === null) return `${criterion.op} ${formatValue(criterion.number, unit)}`;
  const text = criterion.text.replace(/^(<=|>=|==|!=|<|>)\s*/, '$1 ');
  if (check.target === null) return `${text} of the baseline (not measured: ${baseline?.reason ?? 'no baseline value'})`;
  return `${text} of the baseline ${formatValue(baseline!.value!, unit)} (${formatValue(check.target, unit)})`;
}

/** What the value failed to meet: per OR-list, the criteria that did not hold. */
function unmet(criteria: CriteriaSets, checks: CriterionCheck[][], baseline: BaselineComparison | undefined, unit: ObjectiveResult['unit']): string {
  return checks.map((set) => set.filter((c) => !c.ok).map((c) => describeCheck(criteria, c, baseline, unit)).join(' and ')).join(' or ');
}

function met(checks: CriterionCheck[][]): string {
  return checks.find((set) => set.every((c) => c.ok))!.map((c) => c.text).join(' and ');
}

async function measureBaseline(spec: ObjectiveSpec, ctx: MeasureContext | undefined): Promise<BaselineComparison | undefined> {
  const def = metricDef(spec.metric);
  const needed = hasRelative(spec.pass) || hasRelative(spec.warning);
  if (!def.baseline) return undefined;
  if (!ctx) return needed ? { value: null, source: null, reason: 'no baseline directory given (--baseline DIR with earlier reports)' } : undefined;
  const m: Measurement = await def.measure(spec.filter, ctx);
  if (m.status === 'measured') return { value: m.value, source: m.sources[0] ?? null };
  if (m.status === 'failed') return { value: null, source: m.sources[0] ?? null, reason: `the baseline has no value: ${m.detail}` };
  return { value: null, source: null, reason: `no baseline value in ${ctx.dirLabel}: ${m.why}` };
}

async function evaluateObjective(spec: ObjectiveSpec, current: MeasureContext, baselineCtx: MeasureContext | undefined): Promise<ObjectiveResult> {
  const def = metricDef(spec.metric);
  const base = { label: def.label(spec.filter), metric: spec.metric, filter: spec.filter, unit: def.unit, criteria: criteriaLine(spec) };
  const m = await def.measure(spec.filter, current);
  if (m.status === 'not_measured') {
    return { ...base, value: null, result: 'fail', reason: `not measured: ${m.command} (${m.why})`, measured: false, description: m.why, source: null, sources: [], checks: { pass: [] } };
  }
  if (m.status === 'failed') {
    return { ...base, value: null, result: 'fail', reason: `${base.label}: ${m.detail}`, measured: true, description: m.description, source: m.sources[0] ?? null, sources: m.sources, checks: { pass: [] } };
  }
  const baseline = await measureBaseline(spec, baselineCtx);
  const baselineValue = baseline?.value ?? null;
  const pass = evaluateSets(spec.pass, m.value, baselineValue);
  const warning = !pass.ok && spec.warning ? evaluateSets(spec.warning, m.value, baselineValue) : undefined;
  const result = pass.ok ? 'pass' : warning?.ok ? 'warn' : 'fail';
  const shown = `${base.label}: ${formatValue(m.value, def.unit)}`;
  let reason: string;
  if (result === 'pass') reason = `${shown}, meets ${met(pass.checks)}`;
  else {
    reason = `${shown}, needs ${unmet(spec.pass, pass.checks, baseline, def.unit)}`;
    if (result === 'warn') reason += `; meets warning ${met(warning!.checks)}`;
    else if (warning) reason += `; warning needs ${unmet(spec.warning!, warning.checks, baseline, def.unit)}`;
    if (m.detail) reason += ` (${m.detail})`;
  }
  return {
    ...base,
    value: m.value,
    result,
    reason,
    measured: true,
    description: m.description,
    source: m.sources[0] ?? null,
    sources: m.sources,
    ...(baseline ? { baseline } : {}),
    checks: { pass: pass.checks, ...(warning ? { warning: warning.checks } : {}) },
    ...(m.findings ? { findings: m.findings } : {}),
  };
}

async function evaluateGate(gate: GateSpec, current: MeasureContext, baselineCtx: MeasureContext | undefined): Promise<GateResult> {
  const objectives: ObjectiveResult[] = [];
  for (const spec of gate.objectives) objectives.push(await evaluateObjective(spec, current, baselineCtx));
  const measured = worst(objectives.map((o) => o.result));
  const deciding = objectives.find((o) => o.result === measured)!;
  // A warn-level gate reports its failure as a warning: seen, scored, never failing by itself.
  const result: GateOutcome = gate.level === 'warn' && measured === 'fail' ? 'warn' : measured;
  return {
    id: gate.id,
    name: gate.name,
    ...(gate.description !== undefined ? { description: gate.description } : {}),
    key: gate.key,
    weight: gate.weight,
    result,
    measured: objectives.every((o) => o.measured),
    metric: deciding.metric,
    value: deciding.value,
    unit: deciding.unit,
    criteria: deciding.criteria,
    // Every objective with the gate's result: all of them when it passes, the failing ones when it fails.
    reason: `${result !== measured ? '(level warn) ' : ''}${objectives.filter((o) => o.result === measured).map((o) => o.reason).join('; ')}`,
    source: deciding.source,
    ...(deciding.baseline ? { baseline_value: deciding.baseline.value } : {}),
    score: gateScore(result, gate.weight),
    objectives,
  };
}

export async function evaluateGates(options: EvaluateGatesOptions): Promise<GateEvaluation> {
  const now = options.now ?? new Date();
  const reportsDir = resolve(options.cwd, options.reportsDir);
  const baselineDir = options.baselineDir === undefined ? undefined : resolve(options.cwd, options.baselineDir);
  await assertDirectory(reportsDir, 'reports directory');
  if (baselineDir !== undefined) await assertDirectory(baselineDir, 'baseline directory');

  const specs = options.gates.gates.flatMap((g) => g.objectives);
  const kinds = new Set<InputKind>(specs.flatMap((s) => metricDef(s.metric).kinds));
  const index = await indexReports(reportsDir, kinds, options.signal);
  const current = context(index, options, reportsDir, now, false);
  let baselineCtx: MeasureContext | undefined;
  if (baselineDir !== undefined) {
    const baselineKinds = new Set<InputKind>(specs.filter((s) => metricDef(s.metric).baseline).flatMap((s) => metricDef(s.metric).kinds));
    baselineCtx = context(await indexReports(baselineDir, baselineKinds, options.signal), options, reportsDir, now, true);
  }

  const gates: GateResult[] = [];
  for (const gate of options.gates.gates) {
    if (options.signal?.aborted) throw new InterruptedError();
    gates.push(await evaluateGate(gate, current, baselineCtx));
  }
  const used = new Map<string, MetricSource>();
  for (const o of gates.flatMap((g) => g.objectives)) for (const s of o.sources) used.set(`${s.kind}:${s.path}`, s);
  return {
    gates_file: { name: options.gates.name, source: options.gates.source },
    evaluated_at: now.toISOString(),
    reports_dir: reportsDir,
    baseline_dir: baselineDir ?? null,
    ...overallOf(gates, options.gates.total_score),
    total_score: options.gates.total_score,
    gates,
    reports: { used: [...used.values()], ignored: [...index.ignored, ...(baselineCtx?.index.ignored ?? [])] },
  };
}
