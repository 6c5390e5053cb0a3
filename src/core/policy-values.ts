/**
 * The shape of each built-in policy's value, shared by the reference server (which answers 422)
 * and govctl (whose --dry-run refuses what the server would refuse). Scoring reads these values,
 * so a value of another shape would silently change decisions.
 */

export interface PolicyValueProblem {
  /** Where inside the value, e.g. ["max"]; [] for the value as a whole. */
  path: string[];
  message: string;
  /** A short machine-readable kind, as in the server's 422 detail. */
  type: 'type_error' | 'value_error' | 'extra_forbidden';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What the value of policy `key` must look like, for messages and help; null when free-form. */
export function expectedPolicyValue(key: string): string | null {
  if (key === 'max_risk_score') return '{"max": <integer >= 0>}';
  if (key.startsWith('block_')) return 'no value (null) or a boolean';
  return null;
}

/**
 * Why `value` is not a valid value of policy `key`, or null when it is. max_risk_score takes
 * {"max": integer >= 0} (no upper bound at 100: scores add up to 120, so a max above that
 * allows everything); block_* policies take no value (null) or a boolean; others are free-form.
 */
export function policyValueProblem(key: string, value: unknown): PolicyValueProblem | null {
  if (key === 'max_risk_score') {
    const needs = `max_risk_score needs ${expectedPolicyValue(key)!}`;
    if (!isObject(value)) return { path: [], message: needs, type: 'type_error' };
    const extra = Object.keys(value).find((k) => k !== 'max');
    if (extra !== undefined) return { path: [extra], message: `max_risk_score takes only "max"; "${extra}" is not a field of it`, type: 'extra_forbidden' };
    const max = value['max'];
    if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 0) return { path: ['max'], message: needs, type: 'value_error' };
    return null;
  }
  if (key.startsWith('block_') && value !== null && typeof value !== 'boolean') {
    return { path: [], message: `${key} takes ${expectedPolicyValue(key)!}`, type: 'type_error' };
  }
  return null;
}
