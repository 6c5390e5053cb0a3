import type { PolicyView } from './store/policies.js';

export interface DecisionFlags {
  contains_personal_data: boolean;
  external_model: boolean;
}

export interface Decision {
  allowed: boolean;
  risk_score: number;
  reason: string;
  /** Keys of the policies this decision violated (counted when it is blocked). */
  violated: string[];
}

/** The metadata flags that scoring reads; anything else in metadata is ignored. */
export function readFlags(metadata: Record<string, unknown> | undefined): DecisionFlags {
  return {
    contains_personal_data: metadata?.['contains_personal_data'] === true,
    external_model: metadata?.['is_external_model'] === true || metadata?.['uses_external_model'] === true,
  };
}

const RULES = [
  { policy: 'block_personal_data', flag: 'contains_personal_data', points: 70, reason: 'contains_personal_data' },
  { policy: 'block_external_models', flag: 'external_model', points: 50, reason: 'external_model' },
] as const;

const DEFAULT_MAX_RISK = 50;

/** The `max` of the max_risk_score policy, or undefined when that policy is off. */
export function maxRiskScore(policies: readonly PolicyView[]): number | undefined {
  const policy = policies.find((p) => p.key === 'max_risk_score');
  if (!policy || !policy.enabled) return undefined;
  const max = (policy.value as { max?: unknown } | null)?.max;
  return typeof max === 'number' ? max : DEFAULT_MAX_RISK;
}

/** Scores one operation under the policies in force: pure, so it is tested on its own. */
export function decide(flags: DecisionFlags, policies: readonly PolicyView[]): Decision {
  let risk = 0;
  let top: { points: number; reason: string } | undefined;
  const contributors: string[] = [];
  for (const rule of RULES) {
    if (!flags[rule.flag]) continue;
    const policy = policies.find((p) => p.key === rule.policy);
    if (!policy?.enabled) continue;
    risk += rule.points;
    contributors.push(rule.policy);
    if (!top || rule.points > top.points) top = rule;
  }
  const max = maxRiskScore(policies);
  const allowed = max === undefined || risk < max;
  return {
    allowed,
    risk_score: risk,
    reason: top?.reason ?? 'ok',
    violated: allowed ? [] : [...contributors, 'max_risk_score'],
  };
}
