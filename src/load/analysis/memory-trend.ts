import type { LoadReportData } from '../types.js';

export const MIN_MEMORY_SAMPLES = 5;
/** A leak must grow RSS by more than this much of the starting RSS ... */
export const LEAK_MIN_GROWTH_FRACTION = 0.1;
/** ... and by more than 20 MiB ... */
export const LEAK_MIN_GROWTH_BYTES = 20 * 1024 * 1024;
/** ... along a line that explains at least half the variance (r^2), not a single spike. */
export const LEAK_MIN_R2 = 0.5;

/**
 * The server's memory trend: a least-squares line through RSS over time (slope in bytes per
 * minute). A leak is suspected when the slope is positive, the fitted growth over the samples'
 * span (slope x span) exceeds both 10% of the first sample's RSS and 20 MiB, and the fit is good
 * (r^2 >= 0.5): a steady climb, large in absolute and relative terms. Garbage-collector sawtooth
 * and a warm-up jump that then flattens both fail one of those.
 */
export function analyzeMemory(
  samples: ReadonlyArray<{ t: number; rss_bytes: number }>,
  source: 'metrics' | 'process',
): LoadReportData['memory'] {
  if (samples.length < MIN_MEMORY_SAMPLES) {
    return { status: 'not_measured', reason: `only ${samples.length} memory samples (the trend needs at least ${MIN_MEMORY_SAMPLES})` };
  }
  const sorted = samples.map((s) => ({ t: s.t, rss_bytes: s.rss_bytes })).sort((a, b) => a.t - b.t);
  const fit = leastSquares(sorted.map((s) => (s.t - sorted[0]!.t) / 60_000), sorted.map((s) => s.rss_bytes));
  const spanMin = (sorted[sorted.length - 1]!.t - sorted[0]!.t) / 60_000;
  const growth = fit.slope * spanMin;
  const start = sorted[0]!.rss_bytes;
  const suspected_leak =
    fit.slope > 0 && growth > LEAK_MIN_GROWTH_FRACTION * start && growth > LEAK_MIN_GROWTH_BYTES && fit.r2 >= LEAK_MIN_R2;
  return { status: 'measured', source, samples: sorted, slope_bytes_per_min: fit.slope, suspected_leak };
}

/** Ordinary least squares y = a + b x; r^2 = 0 when y does not vary or x does not. */
export function leastSquares(x: readonly number[], y: readonly number[]): { slope: number; intercept: number; r2: number } {
  const n = x.length;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return { slope: 0, intercept: my, r2: 0 };
  const slope = sxy / sxx;
  const r2 = syy === 0 ? 0 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept: my - slope * mx, r2 };
}
