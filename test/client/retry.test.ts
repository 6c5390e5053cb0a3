import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, backoffMs, isIdempotent, isRetriableStatus, retryAfterMs } from '../../src/client/retry.js';

describe('retry policy', () => {
  it('retries only idempotent methods and only transient statuses', () => {
    expect(['GET', 'HEAD', 'DELETE', 'PUT'].every(isIdempotent)).toBe(true);
    expect(['POST', 'PATCH'].some(isIdempotent)).toBe(false);
    expect([429, 502, 503, 504].every(isRetriableStatus)).toBe(true);
    expect([400, 401, 404, 500].some(isRetriableStatus)).toBe(false);
  });

  it('honours Retry-After in seconds or as a date, else backs off exponentially with jitter', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(backoffMs(DEFAULT_RETRY, 1, 1500)).toBe(1500);
    expect(backoffMs(DEFAULT_RETRY, 1, undefined, () => 0)).toBe(100);
    expect(backoffMs(DEFAULT_RETRY, 3, undefined, () => 1)).toBe(800);
    expect(backoffMs(DEFAULT_RETRY, 20, undefined, () => 1)).toBe(DEFAULT_RETRY.maxDelayMs);
  });
});
