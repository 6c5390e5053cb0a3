import { InvalidInputError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "250ms", "10s", "5m", "1h", "2d" (or a bare number of seconds) into milliseconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) {
    throw new InvalidInputError(`invalid ${what} "${text}": expected a number with a unit, e.g. 500ms, 10s, 5m, 1h`);
  }
  const value = Number(match[1]) * UNIT_MS[match[2] ?? 's']!;
  return Math.round(value);
}

/**
 * A duration that must be at least 1 ms: a timeout or an interval of 0 would mean "expire at
 * once" to some callers and "never" to others, so it is refused rather than guessed.
 */
export function parsePositiveDuration(text: string, what = 'duration'): number {
  const ms = parseDuration(text, what);
  if (ms < 1) throw new InvalidInputError(`invalid ${what} "${text}": must be at least 1ms, e.g. 500ms or 10s`);
  return ms;
}

export interface RateSpec {
  limit: number;
  windowMs: number;
}

/** Parses a rate limit "100/60s" (requests per window); "100/m" means per one minute. */
export function parseRate(text: string): RateSpec {
  const match = /^\s*(\d+)\s*\/\s*(\d*(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!match) {
    throw new InvalidInputError(`invalid rate limit "${text}": expected REQUESTS/WINDOW, e.g. 100/60s or 1000/1m`);
  }
  const limit = Number(match[1]);
  const windowMs = parseDuration(`${match[2] === '' ? '1' : match[2]}${match[3]}`, 'rate-limit window');
  if (limit < 1 || windowMs < 1) {
    throw new InvalidInputError(`invalid rate limit "${text}": requests and window must be positive`);
  }
  return { limit, windowMs };
}
