import { InvalidInputError } from '../core/errors.js';
import { stageLabel } from './plan.js';
import { deriveSeed } from './rng.js';
import type { ResolvedProfile } from './types.js';

/**
 * Sharding one run over n processes (`--segment i/n`, Kubernetes Indexed Jobs): each shard gets
 * its share of the load and its own seed, and the shards' shares add up exactly to the whole.
 */

export interface Segment {
  /** 0-based, like Kubernetes' JOB_COMPLETION_INDEX. */
  index: number;
  count: number;
}

/** "2/4" -> {index: 2, count: 4}; the index is 0-based: 0 <= index < count. */
export function parseSegment(text: string): Segment {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index >= count) {
    throw new InvalidInputError(`invalid segment "${text}": expected INDEX/COUNT with 0 <= INDEX < COUNT, e.g. 0/4 (INDEX is 0-based, like JOB_COMPLETION_INDEX)`);
  }
  return { index, count };
}

/** Shard `index`'s share of a whole `total` split `count` ways: the remainder goes to the lowest indexes. */
export function integerShare(total: number, index: number, count: number): number {
  return Math.floor(total / count) + (index < total % count ? 1 : 0);
}

/** The seed a shard uses: shard 0 keeps the run's seed (a 1-way split is the whole run). */
export function segmentSeed(seed: number, index: number): number {
  return index === 0 ? seed : deriveSeed(seed, index);
}

/**
 * Shard `index` of `count`'s part of a profile: its share of the VUs (integers, remainder to the
 * lowest indexes) or of the rate (fractional, with an arrival phase so the shards' arrivals
 * interleave into exactly the whole's schedule), of the keys and of the connection cap (at
 * least 1 each). Stage labels are the whole's, so merged step tables read as one run.
 */
export function segmentProfile(profile: ResolvedProfile, index: number, count: number): ResolvedProfile {
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(index) || index < 0 || index >= count) {
    throw new InvalidInputError(`invalid segment ${index}/${count}: expected 0 <= INDEX < COUNT`);
  }
  const labels = profile.stages.map((_, i) => stageLabel(profile, i));
  const shared = {
    keys: Math.max(1, integerShare(profile.keys, index, count)),
    max_vus: Math.max(1, integerShare(profile.max_vus, index, count)),
  };
  if (profile.model === 'open') {
    return {
      ...profile,
      ...shared,
      start: profile.start / count,
      stages: profile.stages.map((stage, i) => ({ ...stage, rate: (stage.rate ?? 0) / count, label: labels[i]! })),
      arrival_phase: ((profile.arrival_phase ?? 0) + index) / count,
    };
  }
  return {
    ...profile,
    ...shared,
    start: integerShare(profile.start, index, count),
    stages: profile.stages.map((stage, i) => ({ ...stage, vus: integerShare(stage.vus ?? 0, index, count), label: labels[i]! })),
  };
}
