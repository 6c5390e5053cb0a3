import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, backoffMs, isIdempotent, isRetriableStatus, retryAfterMs } from '../../src/client/retry.js';
import { toApiKey, toPolicy, unwrapList } from '../../src/client/shapes.js';

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

describe('field shapes', () => {
  it('unwraps bare and wrapped lists, and refuses anything else', () => {
    expect(unwrapList([1], 'keys', 'x')).toEqual([1]);
    expect(unwrapList({ keys: [2] }, 'keys', 'x')).toEqual([2]);
    expect(unwrapList({ items: [3] }, 'keys', 'x')).toEqual([3]);
    expect(() => unwrapList({ keys: 'no' }, 'keys', 'the key list')).toThrow('the key list with an unexpected shape');
  });

  it('normalises keys and policies with missing or renamed fields', () => {
    expect(toApiKey({ id: 'a', name: 'n' })).toEqual({ id: 'a', key_id: 'a', name: 'n', role: 'user', active: true, last_used: null });
    expect(toApiKey({ key_id: 'b', name: 'n', is_admin: true, is_active: 0 })).toMatchObject({ role: 'admin', active: false });
    expect(toPolicy({ id: 4, enabled: 1 })).toEqual({ id: 4, enabled: true });
  });
});
