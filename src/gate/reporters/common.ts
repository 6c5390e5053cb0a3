import { isAbsolute, relative } from 'node:path';
import type { GateEvaluation, GateResult, MetricSource, ObjectiveResult } from '../types.js';
import { formatValue } from '../metric-types.js';
import type { Finding } from '../../core/findings.js';

/** Shared by the reporters: how a gate, a value and a source are shown, and the findings behind them. */

/** `path` relative to cwd when it is under it, else as it is (absolute). */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** "G2 latency". */
export function gateTitle(gate: Pick<GateResult, 'id' | 'name'>): string {
  return `${gate.id} ${gate.name}`;
}

/** The measured value with its unit, or "not measured" (no input), or "no value" (measured, no number). */
export function valueText(o: Pick<ObjectiveResult, 'value' | 'unit' | 'measured'>): string {
  if (!o.measured) return 'not measured';
  return o.value === null ? 'no value' : formatValue(o.value, o.unit);
}

export const OUTCOME_TEXT = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' } as const;

/** What a source is, in one line: "reports/run-1/load.json" (relative to cwd). */
export function sourceText(source: MetricSource | null, cwd: string): string {
  return source ? displayPath(source.path, cwd) : '-';
}

/** Every finding the evaluation counted (security gates), once each (by fingerprint), with its gate. */
export function gateFindings(evaluation: GateEvaluation): Array<{ gate: GateResult; objective: ObjectiveResult; finding: Finding }> {
  const seen = new Set<string>();
  const out: Array<{ gate: GateResult; objective: ObjectiveResult; finding: Finding }> = [];
  for (const gate of evaluation.gates) {
    for (const objective of gate.objectives) {
      for (const finding of objective.findings ?? []) {
        if (seen.has(finding.fingerprint)) continue;
        seen.add(finding.fingerprint);
        out.push({ gate, objective, finding });
      }
    }
  }
  return out;
}

/** A warned gate counts as failed under --strict. */
export function failsUnder(gate: Pick<GateResult, 'result'>, strict: boolean): boolean {
  return gate.result === 'fail' || (strict && gate.result === 'warn');
}

/** Why a gate has its result: the reasons of the objectives that decided it, each once. */
export function gateReason(gate: Pick<GateResult, 'result' | 'reason' | 'objectives'>): string {
  const reasons = [...new Set(gate.objectives.filter((o) => o.result === gate.result).map((o) => o.reason))];
  return reasons.length > 0 ? reasons.join('; ') : gate.reason;
}
