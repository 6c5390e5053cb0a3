import { describe, expect, it } from 'vitest';
import { computeRecovery, summarizeHypothesis } from '../../src/chaos/recovery.js';
import type { Sample } from '../../src/chaos/types.js';

/** A series from a pattern: one character per sample every 100 ms from t0: "+" holds, "-" fails, "h" healthy but check failing. */
function series(pattern: string, t0 = 1_000, phases?: string): Sample[] {
  return [...pattern].map((c, i) => ({
    t: t0 + i * 100,
    phase: phases === undefined ? 'during' : ({ b: 'before', d: 'during', a: 'after' } as const)[phases[i] as 'b' | 'd' | 'a'],
    healthy: c !== '-',
    health_status: c === '-' ? null : 200,
    check_ok: c === '+',
    check_status: c === '+' ? 200 : c === 'h' ? 503 : null,
    check_latency_ms: c === '-' ? null : 1,
    ...(c === '+' ? {} : { error: c === '-' ? 'refused' : 'check 503' }),
  }));
}

describe('computeRecovery', () => {
  it('measures a kill from the kill: detection at the first failure, recovery at the first of N holding samples', () => {
    // t:        1000 1100 1200 1300 1400 1500 1600 1700
    const samples = series('++--h+++');
    // Killed at 1150: the first failing sample at or after it is 1200.
    expect(computeRecovery(samples, 1150, null, true, 3)).toEqual({ detection_s: 0.05, recovery_s: 0.35, recovered: true });
  });

  it('measures a lasting fault from its removal', () => {
    const samples = series('++----+++');
    // Injected at 1200, removed at 1450; the run of 3 starts at 1600.
    expect(computeRecovery(samples, 1200, 1450, false, 3)).toEqual({ detection_s: 0, recovery_s: 0.15, recovered: true });
  });

  it('a fault that never showed: no detection, recovery at the first run after removal', () => {
    const samples = series('++++++');
    expect(computeRecovery(samples, 1100, 1300, false, 2)).toEqual({ detection_s: null, recovery_s: 0, recovered: true });
    // An instantaneous fault nobody saw: healthy from the kill on.
    expect(computeRecovery(samples, 1100, null, true, 2)).toEqual({ detection_s: null, recovery_s: 0, recovered: true });
  });

  it('never recovered: recovery null, recovered false', () => {
    const samples = series('++---+-+-');
    expect(computeRecovery(samples, 1200, 1300, false, 2)).toEqual({ detection_s: 0, recovery_s: null, recovered: false });
  });

  it('flapping: only N consecutive holding samples count', () => {
    const samples = series('+-+-++-+++');
    // Removed at 1000: 1400-1500 is a run of 2, not 3; the run of 3 starts at 1700.
    expect(computeRecovery(samples, 1000, 1000, false, 3).recovery_s).toBe(0.7);
    expect(computeRecovery(samples, 1000, 1000, false, 2).recovery_s).toBe(0.4);
    expect(computeRecovery(samples, 1000, 1000, false, 1).recovery_s).toBe(0);
  });

  it('exactly N holding samples at the end is a recovery; N-1 is not', () => {
    expect(computeRecovery(series('---++'), 1000, 1050, false, 2)).toMatchObject({ recovery_s: 0.25, recovered: true });
    expect(computeRecovery(series('---++'), 1000, 1050, false, 3)).toMatchObject({ recovery_s: null, recovered: false });
  });

  it('a kill: a sample that held before the outage showed is not the recovery', () => {
    // Killed at 1000; the sample at 1000 still got through, then the outage.
    const samples = series('+---++');
    expect(computeRecovery(samples, 1000, null, true, 1)).toEqual({ detection_s: 0.1, recovery_s: 0.4, recovered: true });
  });

  it('a lasting fault that was never removed never recovered', () => {
    expect(computeRecovery(series('+--+++'), 1000, null, false, 2)).toEqual({ detection_s: 0.1, recovery_s: null, recovered: false });
  });

  it('a sample that is healthy but whose check fails does not hold; samples before the injection are ignored; order does not matter', () => {
    const samples = series('--+hh++');
    expect(computeRecovery(samples.slice().reverse(), 1200, 1250, false, 2)).toEqual({ detection_s: 0.1, recovery_s: 0.25, recovered: true });
  });

  it('no samples at all: nothing detected, nothing recovered', () => {
    expect(computeRecovery([], 1000, 1100, false, 3)).toEqual({ detection_s: null, recovery_s: null, recovered: false });
  });
});

describe('summarizeHypothesis', () => {
  const samples = series('+++--+-++', 1_000, 'bbbdddaaa');

  it('before and during hold only when every sample held', () => {
    expect(summarizeHypothesis(samples, 'before')).toEqual({ samples: 3, holding: 3, held: true });
    expect(summarizeHypothesis(samples, 'during')).toEqual({ samples: 3, holding: 1, held: false });
  });

  it('after holds when the phase ended holding (its last N samples)', () => {
    expect(summarizeHypothesis(samples, 'after')).toEqual({ samples: 3, holding: 2, held: true });
    expect(summarizeHypothesis(samples, 'after', 2)).toEqual({ samples: 3, holding: 2, held: true });
    expect(summarizeHypothesis(samples, 'after', 3)).toEqual({ samples: 3, holding: 2, held: false });
    expect(summarizeHypothesis(series('++-', 0, 'aaa'), 'after')).toEqual({ samples: 3, holding: 2, held: false });
  });

  it('a phase without samples did not hold', () => {
    expect(summarizeHypothesis(series('++', 0, 'bb'), 'after')).toEqual({ samples: 0, holding: 0, held: false });
  });
});
