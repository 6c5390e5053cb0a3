let lastMs = Number.NaN;
let lastIso = '';

/**
 * `new Date().toISOString()`, formatted at most once per millisecond: every decision stamps its
 * log row and its key's last use, thousands of times a second, mostly within the same ms.
 */
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
