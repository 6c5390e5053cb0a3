import { ERROR_CLASSES, type ErrorCounts, type Totals } from './types.js';
import { encodeHistogram, summarize, type Hdr } from './histogram.js';

/**
 * Plain counters over a set of requests, and turning counters + histograms into `Totals`. Shared
 * by the recorder (which fills them) and merge (which sums them), so both build Totals one way.
 */
export interface Counters {
  requests: number;
  ok: number;
  errors: number;
  error_classes: ErrorCounts;
  throttled: number;
  throttled_without_retry_after: number;
  dropped: number;
  /** Status code -> count. */
  status: Map<number, number>;
}

export function zeroErrorCounts(): ErrorCounts {
  const counts = {} as ErrorCounts;
  for (const c of ERROR_CLASSES) counts[c] = 0;
  return counts;
}

export function newCounters(): Counters {
  return {
    requests: 0,
    ok: 0,
    errors: 0,
    error_classes: zeroErrorCounts(),
    throttled: 0,
    throttled_without_retry_after: 0,
    dropped: 0,
    status: new Map(),
  };
}

export function addCounters(target: Counters, source: Counters): void {
  target.requests += source.requests;
  target.ok += source.ok;
  target.errors += source.errors;
  for (const c of ERROR_CLASSES) target.error_classes[c] += source.error_classes[c];
  target.throttled += source.throttled;
  target.throttled_without_retry_after += source.throttled_without_retry_after;
  target.dropped += source.dropped;
  for (const [code, n] of source.status) target.status.set(code, (target.status.get(code) ?? 0) + n);
}

export function resetCounters(c: Counters): void {
  c.requests = c.ok = c.errors = c.throttled = c.throttled_without_retry_after = c.dropped = 0;
  for (const k of ERROR_CLASSES) c.error_classes[k] = 0;
  c.status.clear();
}

/** Counters read back from a report's Totals (for merges). */
export function countersOf(t: Omit<Totals, 'histograms'>): Counters {
  const c = newCounters();
  c.requests = t.requests;
  c.ok = t.ok;
  c.errors = t.errors;
  for (const k of ERROR_CLASSES) c.error_classes[k] = t.error_classes[k] ?? 0;
  c.throttled = t.throttled;
  c.throttled_without_retry_after = t.throttled_without_retry_after;
  c.dropped = t.dropped;
  for (const [code, n] of Object.entries(t.status_codes)) c.status.set(Number(code), n);
  return c;
}

/** errors / requests, 0 when nothing was sent. */
export function rate(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}

export function buildTotals(c: Counters, latency: Hdr, service: Hdr, durationMs: number): Totals {
  const status_codes: Record<string, number> = {};
  for (const code of [...c.status.keys()].sort((a, b) => a - b)) status_codes[String(code)] = c.status.get(code)!;
  const duration_ms = Math.max(0, durationMs);
  return {
    requests: c.requests,
    ok: c.ok,
    errors: c.errors,
    error_classes: { ...c.error_classes },
    throttled: c.throttled,
    throttled_without_retry_after: c.throttled_without_retry_after,
    dropped: c.dropped,
    status_codes,
    duration_ms,
    throughput_rps: duration_ms > 0 ? c.requests / (duration_ms / 1000) : 0,
    error_rate: rate(c.errors, c.requests),
    latency_ms: summarize(latency),
    service_ms: summarize(service),
    histograms: { latency: encodeHistogram(latency), service: encodeHistogram(service) },
  };
}
