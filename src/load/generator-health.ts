import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LoadReportData } from './types.js';

/**
 * Is the generator itself the bottleneck? A load generator whose event loop is late sends late
 * and reads responses late: its latencies then measure itself, not the server. This watches the
 * event loop and the open model's send times, and says so in the report instead of letting a
 * wrong number stand.
 */

/** The event-loop delay histogram's sampling resolution, ms: fine enough to see 50 ms stalls. */
const RESOLUTION_MS = 10;
/** A send this late (ms after its intended time) counts as late: beyond timer and scheduling jitter. */
export const LATE_SEND_MS = 10;
/**
 * Event-loop lag p99 above this means one request in a hundred waited this long in our own
 * process before its bytes went out or its answer was read: the same order as the latencies we
 * report (normal's p95 threshold is 500 ms; a healthy server answers in a few ms).
 */
export const MAX_EVENT_LOOP_LAG_P99_MS = 50;
/** More late sends than this fraction of all sends distorts the open model's arrival rate beyond sampling noise. */
export const MAX_LATE_SEND_FRACTION = 0.01;
/** Above this share of one core the generator has no headroom left: timers and reads queue behind work. */
export const MAX_CLIENT_CPU_PCT = 90;

export interface GeneratorHealth {
  /** Reports a send's lateness (ms after its intended time); only those over LATE_SEND_MS count. */
  noteLateSend(lateMs: number): void;
  /** Stops watching and decides whether the generator was the bottleneck. */
  stop(run: { clientCpuMaxPct: number; sent: number }): LoadReportData['generator'];
}

export function startGeneratorHealth(): GeneratorHealth {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  let lateSends = 0;
  let result: LoadReportData['generator'] | undefined;
  return {
    noteLateSend(lateMs) {
      if (lateMs > LATE_SEND_MS) lateSends++;
    },
    stop({ clientCpuMaxPct, sent }) {
      if (result) return result;
      histogram.disable();
      // The histogram holds each timer tick's total delay (ns), resolution included: the lag is
      // what exceeds the resolution.
      const lag = (ns: number) => (histogram.count > 0 ? round(Math.max(0, ns / 1e6 - RESOLUTION_MS)) : 0);
      const lagP99 = lag(histogram.percentile(99));
      const lagMax = lag(histogram.max);
      const reasons: string[] = [];
      if (lagP99 > MAX_EVENT_LOOP_LAG_P99_MS) {
        reasons.push(`event-loop lag p99 ${lagP99} ms is over ${MAX_EVENT_LOOP_LAG_P99_MS} ms: the generator delayed its own sends and reads`);
      }
      if (sent > 0 && lateSends / sent > MAX_LATE_SEND_FRACTION) {
        const pct = round((lateSends / sent) * 100);
        reasons.push(`${lateSends} of ${sent} sends (${pct}%) left more than ${LATE_SEND_MS} ms after their intended time (limit ${MAX_LATE_SEND_FRACTION * 100}%)`);
      }
      if (clientCpuMaxPct > MAX_CLIENT_CPU_PCT) {
        reasons.push(`the generator used ${round(clientCpuMaxPct)}% of a CPU core (limit ${MAX_CLIENT_CPU_PCT}%)`);
      }
      result = {
        event_loop_lag_p99_ms: lagP99,
        event_loop_lag_max_ms: lagMax,
        late_sends: lateSends,
        client_cpu_pct_max: round(clientCpuMaxPct),
        bottleneck: reasons.length > 0,
        reasons,
      };
      return result;
    },
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
