import { setTimeout as delay } from 'node:timers/promises';
import { GovernanceClient } from '../../src/client/governance-client.js';
import { startSampler } from '../../src/chaos/sampler.js';
import { startTraffic } from '../../src/chaos/traffic.js';
import type { ChaosEvent, ChaosTarget, ProbeContext, ProbeOptions, Sample, TrafficRecord } from '../../src/chaos/types.js';

/**
 * A real ProbeContext for driving one probe directly (without the runner): background traffic
 * and the sampler against the target, a client bound to an abort signal and a cleanup client
 * that is not. `close()` stops everything; call it in afterEach.
 */
export interface ProbeHarness {
  ctx: ProbeContext;
  abort: AbortController;
  events: ChaosEvent[];
  /** Resolves once the traffic has acknowledged at least `n` decisions in all. */
  acknowledged(n: number, timeoutMs?: number): Promise<void>;
  /** Resolves with the first sample from `since` on that holds the hypothesis. */
  holding(since: number, timeoutMs?: number): Promise<Sample>;
  close(): Promise<{ traffic: TrafficRecord; samples: Sample[] }>;
}

export interface HarnessOptions {
  target: ChaosTarget;
  adminKey: string;
  /** A user key for traffic and samples. */
  token: string;
  options?: Partial<ProbeOptions>;
  ratePerSecond?: number;
}

export function probeHarness(o: HarnessOptions): ProbeHarness {
  const abort = new AbortController();
  const events: ChaosEvent[] = [];
  const options: ProbeOptions = {
    intervalMs: 50,
    budgetMs: 20_000,
    healthySamples: 3,
    faultDurationMs: 500,
    signal: abort.signal,
    allowRemote: false,
    maxBallastBytes: 64 * 1024 * 1024,
    keepFreeBytes: 256 * 1024 * 1024,
    signalName: 'SIGKILL',
    toxics: [],
    ...o.options,
  };
  const client = new GovernanceClient({ baseUrl: o.target.url, adminKey: o.adminKey, timeoutMs: 5_000, signal: abort.signal });
  const cleanupClient = new GovernanceClient({ baseUrl: o.target.url, adminKey: o.adminKey, timeoutMs: 5_000 });
  const traffic = startTraffic({ url: o.target.url, token: o.token, ratePerSecond: o.ratePerSecond ?? 50, timeoutMs: 2_000, signal: abort.signal });
  const sampler = startSampler({ client, token: o.token, intervalMs: options.intervalMs, latencyBudgetMs: 1_000, timeoutMs: 1_000, signal: abort.signal });
  const ctx: ProbeContext = { target: o.target, client, cleanupClient, options, traffic, sampler, emit: (e) => events.push(e) };
  let closing: Promise<{ traffic: TrafficRecord; samples: Sample[] }> | undefined;
  return {
    ctx,
    abort,
    events,
    async acknowledged(n, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      // The traffic has no event per answer: poll its record until it got there.
      while (traffic.snapshot().acknowledged < n) {
        if (Date.now() > deadline) throw new Error(`the traffic did not get ${n} acknowledgements within ${timeoutMs} ms: ${JSON.stringify(traffic.snapshot().errors)}`);
        await delay(20);
      }
    },
    async holding(since, timeoutMs = 30_000) {
      const sample = await sampler.waitFor((s) => s.healthy && s.check_ok, since, timeoutMs);
      if (!sample) throw new Error(`no holding sample within ${timeoutMs} ms; last: ${JSON.stringify(sampler.samples.at(-1))}`);
      return sample;
    },
    close() {
      closing ??= (async () => {
        const [record, samples] = await Promise.all([traffic.stop(), sampler.stop()]);
        await Promise.all([client.close(), cleanupClient.close()]);
        return { traffic: record, samples };
      })();
      return closing;
    },
  };
}
