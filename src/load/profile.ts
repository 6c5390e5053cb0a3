import { parseDuration } from '../core/duration.js';
import { InvalidInputError } from '../core/errors.js';
import { readJsonFile } from '../core/json-file.js';
import { resolveDataFile } from './data-files.js';
import { defaultMaxVus, resolveProfile } from './profile-schema.js';
import type { ResolvedProfile, StagePlan } from './types.js';

export { listProfiles } from './data-files.js';

export interface LoadProfileOptions {
  /** Where a relative path is resolved. */
  cwd: string;
}

/**
 * Loads a profile: a bare name ("stress") from the shipped profiles/, anything else as a path
 * relative to `cwd`. Throws InvalidInputError (exit 2) for an unknown name (listing the
 * available ones), an unreadable file, invalid JSON or a value that does not validate.
 */
export async function loadProfile(nameOrPath: string, options: LoadProfileOptions): Promise<ResolvedProfile> {
  const file = resolveDataFile('profile', nameOrPath, options.cwd);
  return resolveProfile(await readJsonFile(file, 'profile'), file);
}

/** The stage's level: VUs (closed) or arrivals per second (open). */
export function stageLevel(profile: ResolvedProfile, stage: StagePlan): number {
  return (profile.model === 'open' ? stage.rate : stage.vus) ?? 0;
}

/** The highest level any stage reaches (the start level included). */
export function peakLevel(profile: ResolvedProfile): number {
  return Math.max(profile.start, ...profile.stages.map((s) => stageLevel(profile, s)));
}

/**
 * An arrival rate: "500/s", "500" (per second), "30000/m", "2/ms", "100/10s". Returns arrivals
 * per second, which must be > 0.
 */
export function parseArrivalRate(text: string, what = 'arrival rate'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(\d*(?:\.\d+)?)\s*(ms|s|m|h)\s*)?$/.exec(text);
  const example = 'e.g. 500/s, 500 (per second) or 30000/m';
  if (!match) throw new InvalidInputError(`invalid ${what} "${text}": expected ARRIVALS[/UNIT], ${example}`);
  const count = Number(match[1]);
  const windowMs = match[3] === undefined ? 1000 : parseDuration(`${match[2] === '' ? '1' : match[2]}${match[3]}`, `${what} window`);
  const perSecond = windowMs > 0 ? (count * 1000) / windowMs : 0;
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) {
    throw new InvalidInputError(`invalid ${what} "${text}": must be more than 0 arrivals per second, ${example}`);
  }
  return perSecond;
}

export interface ProfileOverrides {
  /** New total duration of the stages (ms); every stage is scaled in proportion. */
  durationMs?: number;
  /** Closed model: scale every level so the peak is this many VUs. With `rate`: the connection cap. */
  vus?: number;
  /** Arrivals per second: the open model's peak (a closed profile becomes one constant-rate stage). */
  rate?: number;
  /** Open model: the most connections the engine may open. */
  maxVus?: number;
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidInputError(`invalid ${what} ${value}: expected a whole number of at least 1`);
  return value;
}

/** Stage durations scaled so they add up to `totalMs` exactly (each at least 1 ms). */
function scaleDurations(stages: StagePlan[], totalMs: number): StagePlan[] {
  if (!Number.isFinite(totalMs) || totalMs < 1) {
    throw new InvalidInputError(`invalid duration ${totalMs}ms: must be at least 1ms, e.g. 30s or 2m`);
  }
  const oldTotal = stages.reduce((sum, s) => sum + s.duration_ms, 0);
  let cumulative = 0;
  let previous = 0;
  const scaled = stages.map((stage) => {
    cumulative += stage.duration_ms;
    const boundary = Math.round((cumulative * totalMs) / oldTotal);
    const duration_ms = boundary - previous;
    previous = boundary;
    return { ...stage, duration_ms };
  });
  if (scaled.some((s) => s.duration_ms < 1)) {
    throw new InvalidInputError(`duration ${totalMs}ms is too short for the profile's ${stages.length} stages: give at least 1ms per stage`);
  }
  return scaled;
}

/** Closed model: levels scaled so the peak equals `vus` (a stage keeps at least 1 VU). */
function scaleVus(profile: ResolvedProfile, vus: number): ResolvedProfile {
  const factor = vus / peakLevel(profile);
  const scale = (level: number): number => (level === 0 ? 0 : Math.max(1, Math.round(level * factor)));
  return { ...profile, start: scale(profile.start), stages: profile.stages.map((s) => ({ ...s, vus: scale(s.vus ?? 0) })), max_vus: vus };
}

function withoutLabels(stages: StagePlan[]): StagePlan[] {
  return stages.map(({ label: _label, ...rest }) => rest);
}

/**
 * Applies command-line overrides to a profile (pure: returns a new profile).
 * - durationMs: every stage scaled in proportion to the new total (a 1 h soak becomes 2 min);
 * - vus: closed model, every level scaled so the peak is `vus` (ramps kept, at least 1 VU per
 *   stage); with `rate` it is the connection cap instead;
 * - rate: open model. An open profile's rate stages are scaled so the peak is `rate`; a closed
 *   profile becomes one constant-rate stage over the same total duration, its peak VUs the
 *   connection cap;
 * - maxVus: the open model's connection cap.
 * Bad values (0, negative, fractional VUs) are InvalidInputError.
 */
export function applyOverrides(profile: ResolvedProfile, overrides: ProfileOverrides): ResolvedProfile {
  let result = profile;
  const { vus, rate, maxVus } = overrides;
  if (vus !== undefined) positiveInteger(vus, 'number of virtual users');
  if (maxVus !== undefined) positiveInteger(maxVus, 'maximum of virtual users');
  if (rate !== undefined) {
    if (!Number.isFinite(rate) || rate <= 0) throw new InvalidInputError(`invalid arrival rate ${rate}: must be more than 0 per second`);
    if (result.model === 'open') {
      const factor = rate / peakLevel(result);
      result = { ...result, start: result.start * factor, stages: withoutLabels(result.stages.map((s) => ({ ...s, rate: (s.rate ?? 0) * factor }))) };
    } else {
      const total = result.stages.reduce((sum, s) => sum + s.duration_ms, 0);
      const peakVus = peakLevel(result);
      result = {
        ...result,
        model: 'open',
        start: 0,
        stages: [{ duration_ms: total, rate, ramp: false }],
        max_vus: peakVus >= 1 ? peakVus : defaultMaxVus(rate),
      };
    }
    // With a rate, --vus is the connection cap (an explicit maxVus wins, below).
    if (vus !== undefined) result = { ...result, max_vus: vus };
  } else if (vus !== undefined) {
    if (result.model === 'open') {
      throw new InvalidInputError(`--vus sets the number of virtual users of a closed-model profile; "${profile.name}" is open-model (arrival rates)`, {
        hint: 'use --rate to change its arrival rate and --max-vus to cap its connections',
      });
    }
    result = scaleVus(result, vus);
    result = { ...result, stages: withoutLabels(result.stages) };
  }
  if (maxVus !== undefined) result = { ...result, max_vus: maxVus };
  if (overrides.durationMs !== undefined) result = { ...result, stages: scaleDurations(result.stages, overrides.durationMs) };
  return result;
}
