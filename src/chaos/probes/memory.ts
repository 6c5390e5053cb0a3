import { freemem } from 'node:os';
import { sampleProcess } from '../../target/proc-sample.js';
import { startMemoryBallast, type BallastChild } from '../ballast-memory-child.js';
import type { ChaosTarget, InjectedFault, Probe, ProbeCheck, ProbeContext, ProbeOptions, Sample } from '../types.js';
import { sampleHolds } from '../types.js';

/**
 * memory: a bounded ballast child holds memory on this machine while traffic runs; the server
 * must keep its latency budget or degrade gracefully (slow answers, timeouts, 503s), never
 * crash or refuse connections, and recover once the ballast is gone.
 */

/** Free memory the ballast never takes, whatever --keep-free says: the machine must stay usable. */
export const MIN_MEMORY_MARGIN_BYTES = 256 * 1024 * 1024;
/** Below this there is no meaningful ballast to hold. */
const MIN_BALLAST_BYTES = 1024 * 1024;

/** min(--max-ballast, free memory - the safety margin), never negative. */
export function memoryBallastBytes(options: Pick<ProbeOptions, 'maxBallastBytes' | 'keepFreeBytes'>, freeBytes = freemem()): number {
  const margin = Math.max(options.keepFreeBytes, MIN_MEMORY_MARGIN_BYTES);
  return Math.max(0, Math.min(options.maxBallastBytes, freeBytes - margin));
}

/** The ballast loads this machine: only meaningful for a server running here. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export const memoryProbe: Probe = {
  name: 'memory',

  skipReason(target: ChaosTarget, options: ProbeOptions): string | undefined {
    if (target.kind === 'remote' && !isLoopbackUrl(target.url) && !options.allowRemote) {
      return 'memory pressure is applied to this machine and the target is remote: pass --allow-remote to run it anyway';
    }
    const bytes = memoryBallastBytes(options);
    if (bytes < MIN_BALLAST_BYTES) {
      return `not enough free memory for a ballast: ${mib(freemem())} free, ${mib(Math.max(options.keepFreeBytes, MIN_MEMORY_MARGIN_BYTES))} kept free`;
    }
    return undefined;
  },

  async inject(ctx: ProbeContext): Promise<InjectedFault> {
    const bytes = memoryBallastBytes(ctx.options);
    const serverPid = ctx.target.server?.running ? ctx.target.server.pid : undefined;
    const injectedAt = Date.now();
    const ballast: BallastChild = await startMemoryBallast({ bytes, signal: ctx.options.signal, timeoutMs: ctx.options.budgetMs });
    const rss = sampleProcess(ballast.pid)?.rssBytes;
    let removedAt: number | undefined;
    let removing: Promise<void> | undefined;
    return {
      kind: 'memory-ballast',
      params: { bytes, pid: ballast.pid, held_after_ms: ballast.heldAt - injectedAt, ...(rss !== undefined ? { rss_bytes: rss } : {}) },
      injected_at: injectedAt,
      instantaneous: false,
      remove() {
        removing ??= ballast.release().then(() => {
          removedAt = Date.now();
        });
        return removing;
      },
      async checks(): Promise<ProbeCheck[]> {
        const end = removedAt ?? Date.now();
        const during = ctx.sampler.samples.filter((s) => s.t >= injectedAt && s.t <= end);
        return [serverStayedUp(ctx, serverPid, during), degradedGracefully(during, ctx.options.budgetMs)];
      },
    };
  },
};

function serverStayedUp(ctx: ProbeContext, pidBefore: number | undefined, during: readonly Sample[]): ProbeCheck {
  const name = 'the server stayed up under memory pressure';
  const server = ctx.target.server;
  if (server && pidBefore !== undefined) {
    const same = server.running && server.pid === pidBefore;
    return { name, passed: same, detail: same ? `process ${pidBefore} ran throughout` : `process ${pidBefore} ${server.running ? 'was replaced' : 'exited'}` };
  }
  const refused = during.filter((s) => s.error !== undefined && isHardFailure(s)).length;
  return {
    name,
    passed: refused === 0,
    detail: refused === 0 ? `no sample of ${during.length} saw the server down` : `${refused} of ${during.length} samples saw the server down (refused or reset)`,
  };
}

function degradedGracefully(during: readonly Sample[], budgetMs: number): ProbeCheck {
  const name = 'latency budget kept or degraded gracefully';
  if (during.length === 0) return { name, passed: false, detail: 'no sample was taken while the ballast was held' };
  const holding = during.filter(sampleHolds).length;
  const hard = during.filter(isHardFailure);
  const latencies = during.map((s) => s.check_latency_ms).filter((v): v is number => v !== null);
  const worst = latencies.length === 0 ? 'none' : `${Math.round(Math.max(...latencies))} ms`;
  const summary = `${holding} of ${during.length} samples held the hypothesis; slowest check ${worst} (budget ${budgetMs / 1000} s)`;
  if (hard.length === 0) return { name, passed: true, detail: summary };
  const reasons = [...new Set(hard.map(failureOf))].slice(0, 3).join(', ');
  return { name, passed: false, detail: `${summary}; ${hard.length} failed hard: ${reasons}` };
}

/** Graceful: slow, a timeout, 503 or 429. Hard: refused, reset, any other status. */
function isHardFailure(sample: Sample): boolean {
  if (sampleHolds(sample)) return false;
  const error = sample.error ?? '';
  if (/refused|reset|ECONNREFUSED|ECONNRESET|socket hang up|closed/i.test(error)) return true;
  for (const status of [sample.health_status, sample.check_status]) {
    if (status !== null && status !== 200 && status !== 503 && status !== 429) return true;
  }
  return false;
}

function failureOf(sample: Sample): string {
  return sample.error ?? `health ${sample.health_status ?? '-'} / check ${sample.check_status ?? '-'}`;
}

function mib(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MiB`;
}
