import { Float64Histogram, decodeFromCompressedBase64, encodeIntoCompressedBase64, type JsHistogram } from 'hdr-histogram-js';
import { InvalidInputError, messageOf } from '../core/errors.js';
import type { LatencySummary } from './types.js';

/**
 * Every HDR histogram setting of govctl in one place (like autocannon's histUtil): values in
 * microseconds from 1 us to 1 hour, 3 significant digits, the plain JS implementation, 64-bit
 * counts (a day-long soak cannot overflow a bucket; 32-bit would wrap at 2^31). One histogram is
 * a 23,552-slot Float64Array (184 KiB) whatever it holds, so memory stays flat however long a run
 * lasts; the recorder keeps two and counts in typed arrays of the same layout (see below).
 */
export const LOWEST_US = 1;
export const HIGHEST_US = 3_600_000_000;
export const SIGNIFICANT_DIGITS = 3;

export type Hdr = JsHistogram;

export function newHistogram(): Hdr {
  return new Float64Histogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS);
}

/** Records one value in microseconds: rounded, negatives as 0, above one hour clamped (never thrown). */
export function recordUs(h: Hdr, us: number): void {
  h.recordValue(us >= HIGHEST_US ? HIGHEST_US : us > 0 ? Math.round(us) : 0);
}

/*
 * The recorder's counting: plain typed arrays in the histograms' own bucket layout (unit magnitude
 * 0, 2048 sub-buckets, so index = bucket * 1024 + (value >>> bucket)), the index computed with one
 * clz32 instead of the library's log2/pow. Every value fits 32 bits (HIGHEST_US < 2^32). Adding
 * two count arrays is one loop; countsToHistogram turns counts into a real histogram (to encode or
 * take percentiles) through its public API.
 */
const SUB_BUCKET_MASK = 2047;
const SUB_BUCKET_HALF_MAGNITUDE = 10;
export const COUNTS_LENGTH = newHistogram().countsArrayLength;

/** Per-second counts (a bucket cannot reach 2^32 in a second). */
export function newCounts(): Uint32Array {
  return new Uint32Array(COUNTS_LENGTH);
}

/** Counts for a whole run (exact to 2^53 per bucket). */
export function newWideCounts(): Float64Array {
  return new Float64Array(COUNTS_LENGTH);
}

/** The counts index of a value in microseconds (rounded and clamped as recordUs does). */
export function countsIndexUs(us: number): number {
  const v = us >= HIGHEST_US ? HIGHEST_US : us > 0 ? (us + 0.5) >>> 0 : 0;
  const bucket = 21 - Math.clz32(v | SUB_BUCKET_MASK);
  return (bucket << SUB_BUCKET_HALF_MAGNITUDE) + (v >>> bucket);
}

export function countUs(counts: Uint32Array | Float64Array, us: number): void {
  counts[countsIndexUs(us)]!++;
}

/** target += source, bucket by bucket. */
export function addCounts(target: Uint32Array | Float64Array, source: Uint32Array | Float64Array): void {
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c !== 0) target[i]! += c;
  }
}

/** Replaces the contents of `into` (a histogram of newHistogram's layout) with the counts. */
export function countsToHistogram(counts: Uint32Array | Float64Array, into: Hdr = newHistogram()): Hdr {
  into.reset();
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c !== 0) into.setCountAtIndex(i, c);
  }
  into.establishInternalTackingValues(counts.length);
  return into;
}

export function encodeHistogram(h: Hdr): string {
  return encodeIntoCompressedBase64(h);
}

/**
 * Decodes a compressed base64 histogram into one of govctl's layout (so additions take the fast,
 * same-layout path). `where` names the source for the error when the text is not a histogram.
 */
export function decodeHistogram(encoded: string, where = 'histogram'): Hdr {
  try {
    return decodeFromCompressedBase64(encoded, 64, false, HIGHEST_US) as Hdr;
  } catch (err) {
    throw new InvalidInputError(`${where}: expected a compressed base64 HDR histogram (${messageOf(err)})`, { cause: err });
  }
}

/** target += source (exact: same buckets, counts added). */
export function addInto(target: Hdr, source: Hdr): void {
  if (source.totalCount > 0) target.add(source);
}

/** Empties a histogram in place; cheaper than a new one (no allocation, one fill of the counts). */
export function resetHistogram(h: Hdr): void {
  h.reset();
}

export const EMPTY_SUMMARY: Readonly<LatencySummary> = Object.freeze({
  count: 0, min: 0, mean: 0, stdev: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0,
});

const ms = (us: number): number => us / 1000;

/** The value at a percentile (0..100], ms. */
export function percentileMs(h: Hdr, percentile: number): number {
  return ms(h.getValueAtPercentile(percentile));
}

/**
 * The latency summary in ms. min and max are bucket-equivalent values (as HdrHistogram's
 * getMinValue/getMaxValue), so a histogram and its decoded copy summarise identically.
 */
export function summarize(h: Hdr): LatencySummary {
  const count = h.totalCount;
  if (count === 0) return { ...EMPTY_SUMMARY };
  const { mean, stdev } = moments(h);
  return {
    count,
    min: ms(h.getValueAtPercentile(0)),
    mean: Math.round(mean) / 1000,
    stdev: Math.round(stdev) / 1000,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.getValueAtPercentile(100)),
  };
}

/**
 * Mean and standard deviation over bucket midpoints (as HdrHistogram computes them), in two plain
 * passes over the counts up to the maximum: the library's iterator-based getters are several
 * times slower, and merges summarise hundreds of histograms.
 */
function moments(h: Hdr): { mean: number; stdev: number } {
  const last = Math.min(h.countsArrayIndex(h.maxValue), h.countsArrayLength - 1);
  const total = h.totalCount;
  let sum = 0;
  for (let i = 0; i <= last; i++) {
    const c = h.getCountAtIndex(i);
    if (c !== 0) sum += h.medianEquivalentValue(h.valueFromIndex(i)) * c;
  }
  const mean = sum / total;
  let squares = 0;
  for (let i = 0; i <= last; i++) {
    const c = h.getCountAtIndex(i);
    if (c !== 0) {
      const d = h.medianEquivalentValue(h.valueFromIndex(i)) - mean;
      squares += d * d * c;
    }
  }
  return { mean, stdev: Math.sqrt(squares / total) };
}

/** Summarises an encoded histogram. */
export function summarizeEncoded(encoded: string, where?: string): LatencySummary {
  return summarize(decodeHistogram(encoded, where));
}

export interface PercentilePoint {
  /** 0 .. 99.9999 */
  percentile: number;
  value_ms: number;
}

/** The highest percentile plotted: 1/(1-p) = 10^6 on the plot's log x-axis. */
export const PLOT_PERCENTILE_LIMIT = 99.9999;

/**
 * Points for an HDR percentile plot, at the percentile levels HdrHistogram's
 * outputPercentileDistribution reports: `ticksPerHalfDistance` points in each exponentially
 * decreasing half-distance to 100% (0, 10, ... 50, 55, ... 75, 77.5 ...), up to 99.9999. Stops once
 * every recorded value is covered (a level past 1 - 1/count) with the maximum as the last point.
 * Empty when nothing was recorded.
 */
export function percentileDistribution(h: Hdr, ticksPerHalfDistance = 5): PercentilePoint[] {
  const count = h.totalCount;
  if (count === 0) return [];
  const points: PercentilePoint[] = [];
  const covered = 100 * (1 - 1 / count);
  let level = 0;
  while (level <= PLOT_PERCENTILE_LIMIT) {
    points.push({ percentile: level, value_ms: percentileMs(h, level) });
    if (level >= covered) break;
    const halfDistances = Math.floor(Math.log2(100 / (100 - level))) + 1;
    level += 100 / (ticksPerHalfDistance * 2 ** halfDistances);
  }
  const max = percentileMs(h, 100);
  const last = points[points.length - 1]!;
  if (last.value_ms < max) points.push({ percentile: Math.min(level, PLOT_PERCENTILE_LIMIT), value_ms: max });
  return points;
}
