import { formatNumber } from './metric-types.js';
import type { GateEvaluation, GateOutcome, GateResult } from './types.js';

/**
 * Keptn's total score: each gate contributes its weight when it passes, half of it when it warns,
 * nothing when it fails; the score is that sum over the total weight, in percent. The evaluation
 * passes at or above `total_score.pass`, warns at or above `total_score.warning`, fails below;
 * and any failed key gate fails it whatever the score.
 */

const CONTRIBUTION: Record<GateOutcome, number> = { pass: 1, warn: 0.5, fail: 0 };

export function gateScore(result: GateOutcome, weight: number): number {
  return CONTRIBUTION[result] * weight;
}

export function worst(results: readonly GateOutcome[]): GateOutcome {
  if (results.includes('fail')) return 'fail';
  if (results.includes('warn')) return 'warn';
  return 'pass';
}

export type Overall = Pick<GateEvaluation, 'result' | 'score' | 'key_failures' | 'reason' | 'counts'>;

export function overallOf(gates: readonly GateResult[], thresholds: { pass: number; warning: number }): Overall {
  const totalWeight = gates.reduce((n, g) => n + g.weight, 0);
  const earned = gates.reduce((n, g) => n + g.score, 0);
  // No weight at all (every gate informational): nothing can lower the score.
  const score = totalWeight > 0 ? (earned / totalWeight) * 100 : 100;
  const keyFailures = gates.filter((g) => g.key && g.result === 'fail').map((g) => g.id);
  const byScore: GateOutcome = score >= thresholds.pass ? 'pass' : score >= thresholds.warning ? 'warn' : 'fail';
  const result: GateOutcome = keyFailures.length > 0 ? 'fail' : byScore;
  const counts = {
    pass: gates.filter((g) => g.result === 'pass').length,
    warn: gates.filter((g) => g.result === 'warn').length,
    fail: gates.filter((g) => g.result === 'fail').length,
    not_measured: gates.filter((g) => !g.measured).length,
    total: gates.length,
  };
  const parts: string[] = [];
  if (keyFailures.length) parts.push(`key gate${keyFailures.length > 1 ? 's' : ''} ${keyFailures.join(', ')} failed`);
  parts.push(`score ${formatNumber(score)}% (pass >= ${formatNumber(thresholds.pass)}%, warning >= ${formatNumber(thresholds.warning)}%)`);
  const failed = gates.filter((g) => g.result === 'fail' && !g.key).map((g) => g.id);
  if (failed.length) parts.push(`failed: ${failed.join(', ')}`);
  const warned = gates.filter((g) => g.result === 'warn').map((g) => g.id);
  if (warned.length) parts.push(`warned: ${warned.join(', ')}`);
  return { result, score: Math.round(score * 10_000) / 10_000, key_failures: keyFailures, reason: `${result}: ${parts.join('; ')}`, counts };
}
