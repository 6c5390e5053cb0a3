import type { Comparator, CriteriaSets, Criterion, CriterionCheck, MetricUnit } from './types.js';

/**
 * Criterion strings, as Keptn writes them: absolute ("<800", "<=0.2", "==0", ">=75", "!=0") or
 * relative to a baseline when the number carries a sign ("<=+10%": at most 10 % above the
 * baseline; "<=+50": at most 50 above it; ">=-5%": at most 5 % below it). A "%" without a sign
 * is accepted only for percentage metrics, where ">=75%" reads as the absolute 75.
 */

const CRITERION = /^(<=|>=|==|!=|<|>)\s*([+-])?\s*(\d+(?:\.\d+)?|\.\d+)\s*(%)?$/;

/** Parses one criterion, or returns what is wrong with it. */
export function parseCriterion(text: string, unit: MetricUnit): Criterion | string {
  const match = CRITERION.exec(text.trim());
  if (!match) return `"${text}" is not a criterion: expected an operator (<, <=, ==, !=, >=, >) and a number, e.g. "<800", "==0", or a change from the baseline, e.g. "<=+10%"`;
  const [, op, sign, digits, percent] = match;
  const magnitude = Number(digits);
  if (sign === undefined) {
    if (percent !== undefined && unit !== '%') {
      return `"${text}": a percentage without a sign is a change from the baseline only with + or - (write "<=+${digits}%"); this metric is in ${unit}`;
    }
    return { text: text.trim(), op: op as Comparator, number: magnitude, relative: null };
  }
  return {
    text: text.trim(),
    op: op as Comparator,
    number: sign === '-' ? -magnitude : magnitude,
    relative: percent === undefined ? 'absolute-delta' : 'percent-delta',
  };
}

export function criteriaText(sets: Criterion[][]): string {
  const list = sets.map((set) => {
    const text = set.map((c) => c.text).join(' and ');
    return sets.length > 1 && set.length > 1 ? `(${text})` : text;
  });
  return list.join(' or ');
}

export function hasRelative(criteria: CriteriaSets | undefined): boolean {
  return criteria?.sets.some((set) => set.some((c) => c.relative !== null)) ?? false;
}

/** The absolute number a criterion compares with; null for a relative one without a baseline. */
export function targetOf(criterion: Criterion, baseline: number | null): number | null {
  if (criterion.relative === null) return criterion.number;
  if (baseline === null) return null;
  return criterion.relative === 'absolute-delta' ? baseline + criterion.number : baseline * (1 + criterion.number / 100);
}

/** Relative targets are rounded to 1e-9 so "<=+10%" of 700 is exactly 770, not 770.0000000000001. */
function compare(value: number, op: Comparator, target: number): boolean {
  const t = Math.round(target * 1e9) / 1e9;
  switch (op) {
    case '<':
      return value < t;
    case '<=':
      return value <= t;
    case '==':
      return value === t;
    case '!=':
      return value !== t;
    case '>=':
      return value >= t;
    case '>':
      return value > t;
  }
}

export interface SetsOutcome {
  ok: boolean;
  checks: CriterionCheck[][];
}

/** AND within a list, OR across lists. A relative criterion without a baseline does not hold. */
export function evaluateSets(criteria: CriteriaSets, value: number, baseline: number | null): SetsOutcome {
  const checks = criteria.sets.map((set) =>
    set.map((c) => {
      const target = targetOf(c, baseline);
      return { text: c.text, target, ok: target !== null && compare(value, c.op, target) };
    }),
  );
  return { ok: checks.some((set) => set.every((c) => c.ok)), checks };
}
