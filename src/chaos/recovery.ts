import { sampleHolds, type HypothesisSummary, type RecoveryResult, type Sample } from './types.js';

/**
 * Detection and recovery times from a probe's samples (pure). Times are the samples' start
 * times (wall ms); results are in seconds.
 *
 * - detection: the first failing sample at or after the injection, minus the injection.
 * - recovery: the first sample of `healthySamples` consecutive holding samples at or after the
 *   removal, minus the removal. An instantaneous fault (a kill) is over at once: the run is
 *   searched from the injection and measured from it; and when the outage was seen at all, only
 *   a run after its first failing sample counts (a sample that slipped in before the kill took
 *   effect is not a recovery). A lasting fault never removed (removedAt null) never recovered.
 */
export function computeRecovery(
  samples: Sample[],
  injectedAt: number,
  removedAt: number | null,
  instantaneous: boolean,
  healthySamples: number,
): RecoveryResult {
  const ordered = samples.filter((s) => s.t >= injectedAt).sort((a, b) => a.t - b.t);
  const firstFailure = ordered.find((s) => !sampleHolds(s));
  const detection_s = firstFailure === undefined ? null : seconds(firstFailure.t - injectedAt);

  const from = instantaneous ? injectedAt : removedAt;
  if (from === null) return { detection_s, recovery_s: null, recovered: false };
  const searchFrom = instantaneous && firstFailure !== undefined ? firstFailure.t : from;
  const needed = Math.max(1, Math.floor(healthySamples));
  let run = 0;
  let runStart: Sample | undefined;
  for (const s of ordered) {
    if (s.t < searchFrom) continue;
    if (!sampleHolds(s)) {
      run = 0;
      runStart = undefined;
      continue;
    }
    if (run === 0) runStart = s;
    run++;
    if (run >= needed) return { detection_s, recovery_s: seconds(runStart!.t - from), recovered: true };
  }
  return { detection_s, recovery_s: null, recovered: false };
}

/**
 * The hypothesis over one phase. `held`: before and during, every sample held; after, the
 * phase ended holding (its last `healthySamples` samples, or as many as it has, held). No samples: not held.
 */
export function summarizeHypothesis(samples: Sample[], phase: Sample['phase'], healthySamples = 1): HypothesisSummary {
  const ofPhase = samples.filter((s) => s.phase === phase).sort((a, b) => a.t - b.t);
  const holding = ofPhase.filter(sampleHolds).length;
  let held: boolean;
  if (ofPhase.length === 0) held = false;
  else if (phase === 'after') {
    held = ofPhase.slice(-Math.max(1, Math.floor(healthySamples))).every(sampleHolds);
  } else held = holding === ofPhase.length;
  return { samples: ofPhase.length, holding, held };
}

/** Milliseconds as seconds, to the millisecond. */
function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}
