/** Which failed attempts are worth another try, and how long to wait first. */

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const RETRY_STATUSES = new Set([429, 502, 503, 504]);

export interface RetryPolicy {
  /** Further attempts after the first. */
  retries: number;
  /** First backoff in ms; doubled each attempt, with jitter. */
  baseDelayMs: number;
  /** No single wait is longer than this; a longer Retry-After gives up instead. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 2, baseDelayMs: 200, maxDelayMs: 10_000 };

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method.toUpperCase());
}

export function isRetriableStatus(status: number): boolean {
  return RETRY_STATUSES.has(status);
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), if it has one. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The wait before attempt `attempt` (1 = first retry): Retry-After when given, else backoff. */
export function backoffMs(policy: RetryPolicy, attempt: number, retryAfter?: number, random = Math.random): number {
  if (retryAfter !== undefined) return retryAfter;
  const exp = policy.baseDelayMs * 2 ** (attempt - 1);
  return Math.min(policy.maxDelayMs, Math.round(exp / 2 + random() * (exp / 2)));
}
