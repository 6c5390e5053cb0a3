import { setTimeout as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { MAX_CLIENT_CPU_PCT, MAX_EVENT_LOOP_LAG_P99_MS, startGeneratorHealth } from '../../src/load/generator-health.js';

/** Keeps the event loop busy for `ms` (the generator being its own bottleneck). */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

describe('generator health', () => {
  it('a blocked event loop makes the generator the bottleneck, with the reason', async () => {
    const health = startGeneratorHealth();
    for (let i = 0; i < 4; i++) {
      block(120);
      await tick(15);
    }
    const result = health.stop({ clientCpuMaxPct: 40, sent: 100 });
    expect(result.event_loop_lag_max_ms).toBeGreaterThanOrEqual(100);
    expect(result.event_loop_lag_p99_ms).toBeGreaterThan(MAX_EVENT_LOOP_LAG_P99_MS);
    expect(result.bottleneck).toBe(true);
    expect(result.reasons.join()).toMatch(/event-loop lag p99/);
    expect(health.stop({ clientCpuMaxPct: 0, sent: 0 })).toBe(result);
  });

  it('late sends count only beyond 10 ms, and more than 1% of sends is a bottleneck', () => {
    const health = startGeneratorHealth();
    for (const late of [0, 5, 10, 10.5, 30, 200]) health.noteLateSend(late);
    const result = health.stop({ clientCpuMaxPct: 10, sent: 200 });
    expect(result.late_sends).toBe(3);
    expect(result.reasons.join()).toMatch(/3 of 200 sends \(1\.5%\)/);
    expect(result.bottleneck).toBe(true);

    const fine = startGeneratorHealth();
    fine.noteLateSend(50);
    expect(fine.stop({ clientCpuMaxPct: 10, sent: 1000 }).reasons.join()).not.toMatch(/sends/);
  });

  it('a saturated client CPU is a bottleneck; an idle generator is not', () => {
    const busy = startGeneratorHealth().stop({ clientCpuMaxPct: MAX_CLIENT_CPU_PCT + 5, sent: 10 });
    expect(busy.bottleneck).toBe(true);
    expect(busy.reasons.join()).toMatch(/95% of a CPU core/);
    const idle = startGeneratorHealth().stop({ clientCpuMaxPct: 3, sent: 10 });
    expect(idle).toMatchObject({ bottleneck: false, reasons: [], late_sends: 0, client_cpu_pct_max: 3 });
  });
});
