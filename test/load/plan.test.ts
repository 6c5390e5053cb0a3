import { describe, expect, it } from 'vitest';
import { ArrivalSchedule, levelAt, stageBounds, stageIndexAt, stageLabel, totalDurationMs, vusAt } from '../../src/load/plan.js';
import { segmentProfile } from '../../src/load/segment.js';
import type { ResolvedProfile, StagePlan } from '../../src/load/types.js';

function profile(model: 'closed' | 'open', stages: StagePlan[], start = 0): ResolvedProfile {
  return {
    name: 't',
    source: 't.json',
    model,
    start,
    stages,
    warmup_ms: 0,
    max_vus: 100,
    keys: 1,
    scenario: 'governance-mix',
    thresholds: {},
    analyses: [],
    timeout_ms: 1000,
    embedded_serve_args: [],
  };
}

function drain(schedule: ArrivalSchedule): number[] {
  const times: number[] = [];
  for (let t = schedule.next(); t !== undefined; t = schedule.next()) times.push(t);
  return times;
}

/** The integral of the rate (arrivals) over [0, endMs], computed stage by stage. */
function integral(p: ResolvedProfile, endMs: number): number {
  let total = 0;
  let begin = 0;
  let previous = p.start;
  for (const stage of p.stages) {
    const rate = stage.rate ?? 0;
    const r0 = stage.ramp ? previous : rate;
    const span = Math.min(Math.max(endMs - begin, 0), stage.duration_ms);
    const rEnd = r0 + ((rate - r0) * span) / stage.duration_ms;
    total += ((r0 + rEnd) / 2) * (span / 1000);
    begin += stage.duration_ms;
    previous = rate;
  }
  return total;
}

const stress = profile('closed', [
  { duration_ms: 10_000, vus: 50, ramp: false },
  { duration_ms: 10_000, vus: 100, ramp: false },
  { duration_ms: 10_000, vus: 200, ramp: false },
  { duration_ms: 10_000, vus: 500, ramp: false, label: 'peak' },
]);

describe('stages and levels', () => {
  it('sums durations and finds the stage with half-open intervals, clamped at both ends', () => {
    expect(totalDurationMs(stress)).toBe(40_000);
    expect(stageBounds(stress)[1]).toEqual({ start_ms: 10_000, end_ms: 20_000 });
    expect(stageIndexAt(stress, -5)).toBe(0);
    expect(stageIndexAt(stress, 0)).toBe(0);
    expect(stageIndexAt(stress, 9_999.9)).toBe(0);
    expect(stageIndexAt(stress, 10_000)).toBe(1);
    expect(stageIndexAt(stress, 39_999)).toBe(3);
    expect(stageIndexAt(stress, 40_000)).toBe(3);
    expect(stageIndexAt(stress, 1e9)).toBe(3);
  });

  it('holds step levels and ramps linearly from the previous level', () => {
    expect(levelAt(stress, 0)).toBe(50);
    expect(levelAt(stress, 15_000)).toBe(100);
    expect(levelAt(stress, 50_000)).toBe(500);
    const normal = profile('closed', [{ duration_ms: 60_000, vus: 50, ramp: true }], 10);
    expect(levelAt(normal, -1)).toBe(10);
    expect(levelAt(normal, 0)).toBe(10);
    expect(levelAt(normal, 30_000)).toBe(30);
    expect(levelAt(normal, 45_000)).toBe(40);
    expect(levelAt(normal, 60_000)).toBe(50);
    expect(vusAt(normal, 1_000)).toBe(11);
    const upDown = profile('closed', [
      { duration_ms: 1000, vus: 100, ramp: true },
      { duration_ms: 1000, vus: 0, ramp: true },
    ]);
    expect(levelAt(upDown, 500)).toBe(50);
    expect(levelAt(upDown, 1000)).toBe(100);
    expect(levelAt(upDown, 1750)).toBe(25);
  });

  it('labels stages by their level unless the file gave a label', () => {
    expect(stageLabel(stress, 0)).toBe('50 VUs');
    expect(stageLabel(stress, 3)).toBe('peak');
    expect(stageLabel(profile('closed', [{ duration_ms: 1, vus: 50, ramp: true }], 10), 0)).toBe('10->50 VUs');
    expect(stageLabel(profile('open', [{ duration_ms: 1, rate: 500, ramp: false }]), 0)).toBe('500/s');
    expect(stageLabel(profile('open', [{ duration_ms: 1, rate: 500, ramp: true }], 100), 0)).toBe('100->500/s');
  });
});

describe('ArrivalSchedule', () => {
  it('spaces arrivals evenly at a constant rate and stops at the end', () => {
    const schedule = new ArrivalSchedule(profile('open', [{ duration_ms: 2000, rate: 500, ramp: false }]));
    const times = drain(schedule);
    expect(times).toHaveLength(1000);
    expect(times[0]).toBe(0);
    expect(times[1]).toBeCloseTo(2, 9);
    expect(times[999]).toBeCloseTo(1998, 6);
    expect(schedule.next()).toBeUndefined();
    expect(schedule.next()).toBeUndefined();
  });

  it('integrates a ramp exactly: the n-th arrival is where the integral reaches n', () => {
    const p = profile('open', [{ duration_ms: 10_000, rate: 1000, ramp: true }]);
    const times = drain(new ArrivalSchedule(p));
    expect(Math.abs(times.length - integral(p, 10_000))).toBeLessThanOrEqual(1);
    for (const n of [1, 10, 100, 2500, 4999]) expect(integral(p, times[n]!)).toBeCloseTo(n, 6);
    // Denser at the end of a ramp up: the second half holds three quarters of the arrivals.
    expect(Math.abs(times.filter((t) => t >= 5000).length - 3750)).toBeLessThanOrEqual(1);
  });

  it('matches the integral over mixed stages: ramps up and down, holds, a pause, a fractional rate', () => {
    const p = profile(
      'open',
      [
        { duration_ms: 3000, rate: 300, ramp: true },
        { duration_ms: 2000, rate: 300, ramp: false },
        { duration_ms: 1500, rate: 0, ramp: true },
        { duration_ms: 1000, rate: 0, ramp: false },
        { duration_ms: 7000, rate: 0.5, ramp: false },
        { duration_ms: 2500, rate: 123.4, ramp: true },
      ],
      50,
    );
    const times = drain(new ArrivalSchedule(p));
    const total = totalDurationMs(p);
    expect(Math.abs(times.length - integral(p, total))).toBeLessThanOrEqual(1);
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
    expect(times[times.length - 1]!).toBeLessThan(total);
    // Nothing during the pause; the 0.5/s stage holds 3 or 4 arrivals (7 s * 0.5/s).
    expect(times.filter((t) => t >= 6500 && t < 7500)).toHaveLength(0);
    const slow = times.filter((t) => t >= 7500 && t < 14_500).length;
    expect(Math.abs(slow - 3.5)).toBeLessThanOrEqual(1);
    for (const t of [1000, 4000, 6000, 12_000, 16_000]) {
      const count = times.filter((x) => x < t).length;
      expect(Math.abs(count - integral(p, t))).toBeLessThanOrEqual(1);
    }
  });

  it('interleaves the segments of a rate exactly into the whole schedule', () => {
    const whole = profile(
      'open',
      [
        { duration_ms: 1000, rate: 700, ramp: true },
        { duration_ms: 1000, rate: 700, ramp: false },
      ],
      100,
    );
    const expected = drain(new ArrivalSchedule(whole));
    const merged = [0, 1, 2].flatMap((i) => drain(new ArrivalSchedule(segmentProfile(whole, i, 3)))).sort((a, b) => a - b);
    expect(merged).toHaveLength(expected.length);
    merged.forEach((t, i) => expect(t).toBeCloseTo(expected[i]!, 6));
  });

  it('refuses a closed-model profile', () => {
    expect(() => new ArrivalSchedule(stress)).toThrow(/open-model/);
  });
});
