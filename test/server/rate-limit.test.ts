import { describe, expect, it } from 'vitest';
import { RateLimiter, type RateLimitClock } from '../../src/server/rate-limit.js';

/** A clock the test moves: `monotonic` and `wall` advance together unless told otherwise. */
function testClock(): RateLimitClock & { advance(ms: number): void; stepWall(ms: number): void } {
  let monotonic = 5_000;
  let wall = 1_000_000;
  return {
    monotonic: () => monotonic,
    wall: () => wall,
    advance(ms) {
      monotonic += ms;
      wall += ms;
    },
    stepWall(ms) {
      wall += ms;
    },
  };
}

describe('RateLimiter', () => {
  it('admits the limit per window per key, then refuses with the time to wait', () => {
    const clock = testClock();
    const limiter = new RateLimiter(3, 60_000, { clock });
    expect([1, 2, 3].map(() => limiter.hit('a').remaining)).toEqual([2, 1, 0]);
    const refused = limiter.hit('a');
    expect(refused).toMatchObject({ allowed: false, remaining: 0, limit: 3, retryAfter: 60, resetAt: Math.ceil(1_060_000 / 1000) });
    expect(limiter.hit('b').allowed).toBe(true);
    clock.advance(30_000);
    expect(limiter.hit('a').retryAfter).toBe(30);
    clock.advance(30_000);
    expect(limiter.hit('a')).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('measures windows on the monotonic clock: a wall-clock step neither ends nor stretches a window', () => {
    const clock = testClock();
    const limiter = new RateLimiter(1, 60_000, { clock });
    expect(limiter.hit('a').allowed).toBe(true);
    // The wall clock jumps an hour ahead (NTP, a VM resume): the window is not over.
    clock.stepWall(3_600_000);
    const refused = limiter.hit('a');
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfter).toBe(60);
    // X-RateLimit-Reset is announced on the wall clock as it now reads.
    expect(refused.resetAt).toBe(Math.ceil((1_000_000 + 3_600_000 + 60_000) / 1000));
    // The wall clock jumps back two hours: the window still ends 60 s after it began.
    clock.stepWall(-7_200_000);
    clock.advance(59_999);
    expect(limiter.hit('a').allowed).toBe(false);
    clock.advance(1);
    expect(limiter.hit('a').allowed).toBe(true);
  });

  it('uses a monotonic clock by default', () => {
    const limiter = new RateLimiter(1, 60_000);
    const before = Date.now();
    const verdict = limiter.hit('a');
    expect(verdict.resetAt).toBeGreaterThanOrEqual(Math.ceil((before + 60_000) / 1000));
    expect(verdict.resetAt).toBeLessThanOrEqual(Math.ceil((Date.now() + 60_000) / 1000));
  });
});
