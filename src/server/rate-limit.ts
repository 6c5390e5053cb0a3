export interface RateLimitVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch seconds at which the current window ends. */
  resetAt: number;
  /** Seconds until a request will be accepted again (only meaningful when not allowed). */
  retryAfter: number;
}

/** The limiter's clocks, both in milliseconds; injectable so tests need not wait. */
export interface RateLimitClock {
  /** Monotonic time: windows are measured on it, so a wall-clock step cannot stretch or end one. */
  monotonic: () => number;
  /** Wall-clock time, used only to announce X-RateLimit-Reset as epoch seconds. */
  wall: () => number;
}

export const SYSTEM_CLOCK: RateLimitClock = { monotonic: () => performance.now(), wall: () => Date.now() };

export interface RateLimiterOptions {
  clock?: RateLimitClock;
}

/**
 * Fixed-window request counter per API key, in memory. Windows start at each key's first
 * request; expired entries are swept so idle keys do not accumulate.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private lastSweep = -Infinity;
  private readonly clock: RateLimitClock;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    options: RateLimiterOptions = {},
  ) {
    this.clock = options.clock ?? SYSTEM_CLOCK;
  }

  hit(key: string): RateLimitVerdict {
    const now = this.clock.monotonic();
    this.sweep(now);
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count += 1;
    const left = window.start + this.windowMs - now;
    const allowed = window.count <= this.limit;
    return {
      allowed,
      limit: this.limit,
      remaining: Math.max(0, this.limit - window.count),
      resetAt: Math.ceil((this.clock.wall() + left) / 1000),
      retryAfter: Math.max(1, Math.ceil(left / 1000)),
    };
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [key, window] of this.windows) {
      if (now - window.start >= this.windowMs) this.windows.delete(key);
    }
  }
}
