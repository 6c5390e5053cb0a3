import { addInto, decodeHistogram, newHistogram, percentileMs } from '../histogram.js';
import type { Interval, LoadReportData } from '../types.js';

/** Fewer seconds than this and a tenth is too short to say anything. */
export const MIN_DRIFT_INTERVALS = 20;

type Tenth = { throughput_rps: number; p99_ms: number | null };

/**
 * Soak drift: throughput and p99 of the first tenth of the per-second series against the last
 * tenth. Each tenth's p99 comes from the sum of its seconds' histograms (a p99 of p99s is not a
 * p99). Seconds are wall-clock aligned, so the first and last may be partial: with `window` each
 * second counts only for the part of it inside the window, otherwise for a whole second.
 */
export function analyzeDrift(intervals: readonly Interval[], window?: { started_at: number; ended_at: number }): LoadReportData['drift'] {
  if (intervals.length < MIN_DRIFT_INTERVALS) {
    return { status: 'not_measured', reason: `only ${intervals.length} seconds recorded (drift needs at least ${MIN_DRIFT_INTERVALS})` };
  }
  const sorted = [...intervals].sort((a, b) => a.t - b.t);
  const size = Math.floor(sorted.length / 10);
  const first = tenth(sorted.slice(0, size), window);
  const last = tenth(sorted.slice(sorted.length - size), window);
  return {
    status: 'measured',
    first_tenth: first,
    last_tenth: last,
    throughput_change_pct: change(first.throughput_rps, last.throughput_rps),
    p99_change_pct: first.p99_ms === null || last.p99_ms === null ? null : change(first.p99_ms, last.p99_ms),
  };
}

function tenth(seconds: readonly Interval[], window?: { started_at: number; ended_at: number }): Tenth {
  const h = newHistogram();
  let requests = 0;
  let covered = 0;
  for (const s of seconds) {
    requests += s.requests;
    covered += window ? Math.max(0, Math.min(s.t + 1000, window.ended_at) - Math.max(s.t, window.started_at)) : 1000;
    addInto(h, decodeHistogram(s.histogram, `interval t=${s.t}`));
  }
  return {
    throughput_rps: covered > 0 ? requests / (covered / 1000) : 0,
    p99_ms: h.totalCount > 0 ? percentileMs(h, 99) : null,
  };
}

/** Percent change from `from` to `to`; null when `from` is 0. */
function change(from: number, to: number): number | null {
  return from === 0 ? null : ((to - from) / from) * 100;
}
