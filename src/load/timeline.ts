import { ArrivalSchedule, levelAt, stageIndexAt, stageLabel, totalDurationMs } from './plan.js';
import type { ResolvedProfile, StagePlan } from './types.js';

/**
 * The run's clock: a warm-up window (not recorded) followed by the profile's stages. The
 * warm-up runs at the level the first stage starts from, so connections, JIT and the server's
 * caches are warm when measuring begins.
 */
export interface Timeline {
  warmupMs: number;
  /** Warm-up plus stages. */
  totalMs: number;
  /** VUs (closed) or arrivals/s (open) at `elapsedMs` since the run began. */
  levelAt(elapsedMs: number): number;
  /** The profile's stage at `elapsedMs`, or -1 during warm-up. */
  stageAt(elapsedMs: number): number;
  stageLabel(index: number): string;
  /** Stage `index`'s level (a ramp's target). */
  stageLevel(index: number): number;
  /** Open model: intended send times (ms since the run began), warm-up included. */
  arrivals(): ArrivalSchedule;
}

export function buildTimeline(profile: ResolvedProfile): Timeline {
  const warmupMs = profile.warmup_ms;
  const first = profile.stages[0];
  const warmLevel = first === undefined ? 0 : first.ramp ? Math.max(profile.start, 1) : levelOf(profile, first);
  const warmStage: StagePlan = profile.model === 'open' ? { duration_ms: warmupMs, rate: warmLevel, ramp: false } : { duration_ms: warmupMs, vus: warmLevel, ramp: false };
  const withWarmup: ResolvedProfile = warmupMs > 0 ? { ...profile, stages: [warmStage, ...profile.stages] } : profile;
  return {
    warmupMs,
    totalMs: totalDurationMs(withWarmup),
    levelAt: (elapsedMs) => levelAt(withWarmup, elapsedMs),
    stageAt: (elapsedMs) => (elapsedMs < warmupMs ? -1 : stageIndexAt(profile, elapsedMs - warmupMs)),
    stageLabel: (index) => stageLabel(profile, index),
    stageLevel: (index) => {
      const stage = profile.stages[index];
      return stage === undefined ? 0 : levelOf(profile, stage);
    },
    arrivals: () => new ArrivalSchedule(withWarmup),
  };
}

function levelOf(profile: ResolvedProfile, stage: StagePlan): number {
  return (profile.model === 'open' ? stage.rate : stage.vus) ?? 0;
}
