import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/server/rate-limit.js';

describe('RateLimiter', () => {
  it('admits the limit per window per key, then refuses with the time to wait', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(3, 60_000, () => now);
    expect([1, 2, 3].map(() => limiter.hit('a').remaining)).toEqual([2, 1, 0]);
    const refused = limiter.hit('a');
    expect(refused).toMatchObject({ allowed: false, remaining: 0, limit: 3, retryAfter: 60, resetAt: Math.ceil(1_060_000 / 1000) });
    expect(limiter.hit('b').allowed).toBe(true);
    now += 30_000;
    expect(limiter.hit('a').retryAfter).toBe(30);
    now += 30_000;
    expect(limiter.hit('a')).toMatchObject({ allowed: true, remaining: 2 });
  });
});
