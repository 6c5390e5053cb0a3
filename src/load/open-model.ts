import { performance } from 'node:perf_hooks';
import type { ArrivalSchedule } from './plan.js';
import { sendOne, wallOf, type SendContext } from './send.js';
import type { HttpConnection } from './types.js';

/** A send later than this after its intended time is the generator's fault, and is counted. */
export const LATE_SEND_MS = 10;

/** Arrivals waiting for a connection beyond this many are dropped at once (memory stays bounded). */
export const MAX_QUEUED = 100_000;

export interface OpenModelOptions {
  /** Intended arrival times, ms since `startedAt`. */
  schedule: ArrivalSchedule;
  /** performance.now() when the run began. */
  startedAt: number;
  /** The most connections to open (k6's maxVUs, wrk2's connections). */
  maxConnections: number;
  /** An arrival still waiting for a connection this long after its intended time is dropped. */
  dropAfterMs: number;
  onLateSend?: (lateMs: number) => void;
}

export interface OpenModel {
  /** Resolves when the schedule is exhausted (or stop() was called) and nothing is in flight. */
  readonly finished: Promise<void>;
  stop(): void;
  /** Connections open now. */
  readonly connections: number;
  close(): void;
}

/**
 * The open model (k6's arrival-rate executors, wrk2): requests are due on a schedule whatever the
 * server does. An arrival that finds every allowed connection busy waits for the next free one,
 * and its latency is measured from its intended start: a server stall shows in the corrected
 * percentiles as it would for real users, instead of silently slowing the sender down
 * (coordinated omission); the service time, from the actual send, is kept beside it. An arrival
 * that cannot be sent within `dropAfterMs` is dropped and counted (k6's dropped_iterations).
 */
export function startOpenModel(ctx: SendContext, newConnection: () => HttpConnection, options: OpenModelOptions): OpenModel {
  type Slot = { connection: HttpConnection; key: number };
  const idle: Slot[] = [];
  const all: HttpConnection[] = [];
  // Intended elapsed times of arrivals waiting for a connection, oldest first (a ring would be
  // leaner; an array with a moving head is enough at these sizes).
  let queue: number[] = [];
  let head = 0;
  let next = options.schedule.next();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => {
    resolveFinished = resolve;
  });

  const queued = () => queue.length - head;
  const settleIfDone = (): void => {
    if ((stopped || (next === undefined && queued() === 0)) && ctx.counters.inFlight === 0) resolveFinished();
  };

  const send = (slot: Slot, intendedElapsed: number, now: number): void => {
    const intendedAt = options.startedAt + intendedElapsed;
    // Late because the generator was busy (not because connections were): its own bottleneck.
    if (queued() === 0 && now - intendedAt > LATE_SEND_MS) options.onLateSend?.(now - intendedAt);
    sendOne(ctx, slot.connection, slot.key, intendedAt, () => release(slot));
  };

  /** A connection is free: it takes the oldest waiting arrival still worth sending. */
  const release = (slot: Slot): void => {
    const now = performance.now();
    const elapsed = now - options.startedAt;
    while (!stopped && queued() > 0) {
      const intended = queue[head++]!;
      if (head > 1024 && head * 2 > queue.length) {
        queue = queue.slice(head);
        head = 0;
      }
      if (elapsed - intended > options.dropAfterMs) {
        ctx.recorder.dropped(wallOf(options.startedAt + intended));
        continue;
      }
      send(slot, intended, now);
      return;
    }
    idle.push(slot);
    settleIfDone();
  };

  const dispatch = (intendedElapsed: number, now: number): void => {
    let slot = idle.pop();
    if (slot === undefined && all.length < options.maxConnections) {
      slot = { connection: newConnection(), key: all.length };
      all.push(slot.connection);
    }
    if (slot !== undefined) return send(slot, intendedElapsed, now);
    if (queued() >= MAX_QUEUED) ctx.recorder.dropped(wallOf(options.startedAt + intendedElapsed));
    else queue.push(intendedElapsed);
  };

  const tick = (): void => {
    timer = undefined;
    if (stopped) return settleIfDone();
    const now = performance.now();
    const elapsed = now - options.startedAt;
    while (next !== undefined && next <= elapsed) {
      dispatch(next, now);
      next = options.schedule.next();
    }
    if (next === undefined) return settleIfDone();
    // A long queue waits for connections, not the clock; the timer still runs to enqueue arrivals.
    // Timers have millisecond granularity: arrivals due within it go out in one batch next tick.
    timer = setTimeout(tick, Math.max(0, Math.floor(next - elapsed)));
  };
  tick();

  return {
    finished,
    get connections() {
      return all.length;
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      // Arrivals still waiting at the end were never sent on time: dropped, not silently lost.
      while (queued() > 0) ctx.recorder.dropped(wallOf(options.startedAt + queue[head++]!));
      settleIfDone();
    },
    close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const connection of all) connection.close();
      resolveFinished();
    },
  };
}
