/**
 * Number and time formats the load report's human outputs (Markdown, HTML) share, so a figure
 * reads the same in both. Absent values are shown as "–", never as 0: a report number was
 * measured in that run, or it is absent.
 */

const NONE = '–';
const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

const absent = (v: number | null | undefined): v is null | undefined => v === null || v === undefined || !Number.isFinite(v);

/** 12,345 */
export function count(v: number | null | undefined): string {
  return absent(v) ? NONE : grouped.format(v);
}

/** Milliseconds with about three significant digits: "0.84 ms", "12.3 ms", "1,648 ms". */
export function ms(v: number | null | undefined): string {
  if (absent(v)) return NONE;
  const a = Math.abs(v);
  const text = a < 10 ? v.toFixed(2) : a < 100 ? v.toFixed(1) : grouped.format(v);
  return `${text} ms`;
}

/** Requests per second: "45.2", "1,203". */
export function rps(v: number | null | undefined): string {
  if (absent(v)) return NONE;
  return Math.abs(v) < 100 ? v.toFixed(1) : grouped.format(v);
}

/** A fraction as a percentage: 0.0143 -> "1.43%". */
export function percent(fraction: number | null | undefined): string {
  return absent(fraction) ? NONE : `${(fraction * 100).toFixed(2)}%`;
}

/** A signed percentage change: 12.5 -> "+12.5%". */
export function change(pct: number | null | undefined): string {
  return absent(pct) ? NONE : `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

/** Bytes in megabytes (10^6): "121.4 MB". */
export function megabytes(bytes: number | null | undefined): string {
  return absent(bytes) ? NONE : `${(bytes / 1e6).toFixed(1)} MB`;
}

/** A plain number with up to 4 decimals. */
export function num(v: number | null | undefined): string {
  if (absent(v)) return NONE;
  return Number.isInteger(v) ? grouped.format(v) : String(Number(v.toFixed(4)));
}

/** Wall-clock ms or an ISO string as "2026-01-15 10:00:05Z". */
export function when(t: number | string | null | undefined): string {
  if (t === null || t === undefined) return NONE;
  const ms = typeof t === 'number' ? t : Date.parse(t);
  if (!Number.isFinite(ms)) return String(t);
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** A duration: "850 ms", "40 s", "12 min 5 s", "1 h 2 min". */
export function duration(msValue: number | null | undefined): string {
  if (absent(msValue)) return NONE;
  if (msValue < 1000) return `${Math.round(msValue)} ms`;
  const s = Math.round(msValue / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${Math.floor(m / 60)} h`;
}
