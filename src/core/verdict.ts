import { atOrAbove, SEVERITIES, type Finding, type Severity } from './findings.js';

/** The severity at or above which a finding fails the run; "none" never fails. */
export type FailOn = Severity | 'none';

export const FAIL_ON_CHOICES: readonly FailOn[] = [...SEVERITIES, 'none'];

/**
 * The outcome of a run that produces findings: a failed check is data, not an exception; the cli
 * turns `passed: false` into exit 1.
 */
export interface Verdict {
  fail_on: FailOn;
  passed: boolean;
  /** Findings at or above fail_on. */
  failing: number;
  /** Every reported finding, by severity. */
  counts: Record<Severity, number>;
}

export function verdictOf(findings: readonly Pick<Finding, 'severity'>[], failOn: FailOn): Verdict {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  let failing = 0;
  for (const f of findings) {
    counts[f.severity] += 1;
    if (failOn !== 'none' && atOrAbove(f.severity, failOn)) failing += 1;
  }
  return { fail_on: failOn, passed: failing === 0, failing, counts };
}
