import { performance } from 'node:perf_hooks';
import { judge } from './outcome.js';
import type { LoadRecorder } from './recorder.js';
import type { RequestTable } from './request-table.js';
import type { ErrorClass, HttpConnection, RawResponse, RequestOutcome, ScenarioRequest } from './types.js';

const ORIGIN = performance.timeOrigin;

/** performance.now() as wall-clock ms: one clock for latencies and for the per-second series. */
export function wallOf(perfMs: number): number {
  return ORIGIN + perfMs;
}

/** The counters a run keeps besides the recorder's: what the audit accounting compares. */
export interface SendCounters {
  /** Requests written (warm-up included). */
  sent: number;
  /** Audited 200s, per key index, warm-up included: every one must be in the server's log. */
  acknowledged: number[];
  inFlight: number;
}

/** What both schedulers share: the pre-serialised requests, the seeded mix, the recorder. */
export interface SendContext {
  requests: readonly ScenarioRequest[];
  table: RequestTable;
  recorder: LoadRecorder;
  /** The next request index of the seeded mix. */
  pick: () => number;
  /** A random number in [0, 1) from the seeded generator (body variants). */
  random: () => number;
  counters: SendCounters;
}

/**
 * Sends one request of the mix on `connection` (bound to key `key`) and records its outcome.
 * `intendedAt` is performance.now() of when the request should have gone out: latency is
 * measured from it, so time spent waiting for the generator is not hidden (coordinated omission).
 */
export function sendOne(ctx: SendContext, connection: HttpConnection, key: number, intendedAt: number, done: (transportError: boolean) => void): void {
  const index = ctx.pick();
  const variants = ctx.table.bytes[key % ctx.table.keyCount]![index]!;
  const bytes = variants.length === 1 ? variants[0]! : variants[Math.floor(ctx.random() * variants.length)]!;
  const counters = ctx.counters;
  counters.sent++;
  counters.inFlight++;
  connection.request(bytes, ctx.table.wantsBody[index]!, (error: ErrorClass | undefined, response: RawResponse | undefined, sentAt: number) => {
    const now = performance.now();
    counters.inFlight--;
    const verdict = judge(ctx.requests[index]!.expect, error, response);
    if (verdict.error === undefined && !verdict.throttled && verdict.status === 200 && ctx.table.audited[index]) {
      counters.acknowledged[key % ctx.table.keyCount]!++;
    }
    // One plain object of a fixed shape per request: the recorder's hot path stays monomorphic.
    const outcome: RequestOutcome = {
      request: index,
      status: verdict.status,
      latencyUs: Math.max(0, (now - intendedAt) * 1000),
      serviceUs: Math.max(0, (now - sentAt) * 1000),
      error: verdict.error,
      throttled: verdict.throttled,
      retryAfter: verdict.retryAfter,
      at: ORIGIN + now,
    };
    ctx.recorder.record(outcome);
    done(verdict.status === 0);
  });
}
