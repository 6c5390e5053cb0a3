import type { ResolvedProfile, StagePlan } from './types.js';

/**
 * The run plan of a profile, as pure functions of the time elapsed since the first stage began:
 * the level (VUs or arrivals/s) at any moment, the stage, and, for the open model, the exact
 * intended time of every arrival. Stage intervals are half-open: [start, end).
 */

function levelOf(profile: ResolvedProfile, stage: StagePlan): number {
  return (profile.model === 'open' ? stage.rate : stage.vus) ?? 0;
}

/** The stages' total duration (ms); any warm-up is not included. */
export function totalDurationMs(profile: ResolvedProfile): number {
  let total = 0;
  for (const stage of profile.stages) total += stage.duration_ms;
  return total;
}

/** Where each stage starts and ends (ms since the first stage began). */
export function stageBounds(profile: ResolvedProfile): Array<{ start_ms: number; end_ms: number }> {
  let start = 0;
  return profile.stages.map((stage) => {
    const bounds = { start_ms: start, end_ms: start + stage.duration_ms };
    start = bounds.end_ms;
    return bounds;
  });
}

/** The stage at `elapsedMs`, clamped: 0 before the start, the last stage at and after the end. */
export function stageIndexAt(profile: ResolvedProfile, elapsedMs: number): number {
  let end = 0;
  const last = profile.stages.length - 1;
  for (let i = 0; i < last; i++) {
    end += profile.stages[i]!.duration_ms;
    if (elapsedMs < end) return i;
  }
  return Math.max(0, last);
}

/**
 * The intended level at `elapsedMs`: a ramp moves linearly from the previous stage's level (or
 * the start level) to its own. Before the start it is the level at 0, after the end the last
 * stage's. Fractional during a ramp: a closed-model engine rounds it (see vusAt).
 */
export function levelAt(profile: ResolvedProfile, elapsedMs: number): number {
  let begin = 0;
  let previous = profile.start;
  const t = Math.max(0, elapsedMs);
  for (const stage of profile.stages) {
    const level = levelOf(profile, stage);
    const end = begin + stage.duration_ms;
    if (t < end) return stage.ramp ? previous + ((level - previous) * (t - begin)) / stage.duration_ms : level;
    begin = end;
    previous = level;
  }
  return previous;
}

/** Closed model: the whole number of virtual users intended at `elapsedMs`. */
export function vusAt(profile: ResolvedProfile, elapsedMs: number): number {
  return Math.round(levelAt(profile, elapsedMs));
}

function formatLevel(profile: ResolvedProfile, level: number): string {
  return profile.model === 'open' ? `${Number(level.toFixed(3))}/s` : `${level} VUs`;
}

/** The stage's label as written, else its level: "50 VUs", "500/s", or "10->50 VUs" for a ramp. */
export function stageLabel(profile: ResolvedProfile, index: number): string {
  const stage = profile.stages[index];
  if (stage === undefined) return `stage ${index + 1}`;
  if (stage.label !== undefined) return stage.label;
  const level = levelOf(profile, stage);
  if (!stage.ramp) return formatLevel(profile, level);
  const from = index === 0 ? profile.start : levelOf(profile, profile.stages[index - 1]!);
  if (from === level) return formatLevel(profile, level);
  const unit = profile.model === 'open' ? '/s' : ' VUs';
  return `${Number(from.toFixed(3))}->${formatLevel(profile, level).replace(unit, '')}${unit}`;
}

/**
 * The open model's arrivals: next() returns the intended time (ms since the first stage began)
 * of each successive arrival, and undefined once the stages are over. The n-th arrival (n from 0)
 * is where the integral of the rate reaches n + phase; over a linear ramp from r0 to r1 that is a
 * quadratic, solved exactly, so the number of arrivals equals the integral (to within one) however
 * the stages ramp. `profile.arrival_phase` offsets a segment's arrivals so the shards interleave.
 */
export class ArrivalSchedule {
  private readonly starts: Float64Array;
  private readonly durations: Float64Array;
  /** Arrivals per ms at the start of each stage, and the change per ms per ms. */
  private readonly a: Float64Array;
  private readonly b: Float64Array;
  /** Cumulative arrivals (the integral) at the start of each stage, and over the stage. */
  private readonly before: Float64Array;
  private readonly within: Float64Array;
  private readonly phase: number;
  private stage = 0;
  private n = 0;

  constructor(profile: ResolvedProfile) {
    if (profile.model !== 'open') throw new Error('ArrivalSchedule needs an open-model profile');
    const count = profile.stages.length;
    this.starts = new Float64Array(count);
    this.durations = new Float64Array(count);
    this.a = new Float64Array(count);
    this.b = new Float64Array(count);
    this.before = new Float64Array(count);
    this.within = new Float64Array(count);
    this.phase = profile.arrival_phase ?? 0;
    let start = 0;
    let cumulative = 0;
    let previous = profile.start;
    profile.stages.forEach((stage, i) => {
      const rate = stage.rate ?? 0;
      const r0 = stage.ramp ? previous : rate;
      const T = stage.duration_ms;
      this.starts[i] = start;
      this.durations[i] = T;
      this.a[i] = r0 / 1000;
      this.b[i] = (rate - r0) / 1000 / T;
      this.before[i] = cumulative;
      this.within[i] = ((r0 + rate) / 2) * (T / 1000);
      cumulative += this.within[i]!;
      start += T;
      previous = rate;
    });
  }

  /** The intended time of the next arrival, or undefined after the last stage. */
  next(): number | undefined {
    const target = this.n + this.phase;
    const count = this.starts.length;
    while (this.stage < count && target >= this.before[this.stage]! + this.within[this.stage]!) this.stage++;
    if (this.stage >= count) return undefined;
    const i = this.stage;
    const u = target - this.before[i]!;
    const a = this.a[i]!;
    const b = this.b[i]!;
    // Solve a*t + b*t^2/2 = u in the form that is stable when b is 0 or tiny.
    const root = Math.sqrt(Math.max(0, a * a + 2 * b * u));
    const t = u <= 0 ? 0 : (2 * u) / (a + root);
    this.n++;
    return this.starts[i]! + Math.min(Math.max(0, t), this.durations[i]!);
  }
}
