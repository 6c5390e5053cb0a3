/**
 * Units and values as every human table shows them, so that health, load, keys, policies and
 * backups read alike: durations "8.3 ms" under 10 s and "12.3 s" from there, uptimes "3m12s",
 * and structured values as `key=value` pairs, never raw JSON.
 */

/** A duration in milliseconds: "123.4 ms" under 10 s, "12.3 s" from 10 s on; "-" when absent. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  // Rounded first, so 9999.96 ms reads "10.0 s", not "10000.0 ms".
  const tenths = Math.round(ms * 10) / 10;
  if (Math.abs(tenths) < 10_000) return `${tenths.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** An uptime in seconds, two units at most: "42s", "3m12s", "2h03m", "3d04h"; "-" when absent. */
export function formatUptime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.floor(seconds);
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3_600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3_600)}h${pad(Math.floor((s % 3_600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor((s % 86_400) / 3_600))}h`;
}

/** A scalar inside key=value text: strings with spaces, `=` or quotes are quoted so pairs stay unambiguous. */
function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return value === '' || /[\s="]/.test(value) ? JSON.stringify(value) : value;
  return String(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Leaves of a value as [dotted.key, text]; arrays of scalars stay one comma-joined value. */
function pairs(value: unknown, prefix: string, out: Array<[string, string]>): void {
  if (Array.isArray(value) && value.every((v) => !isPlainObject(v) && !Array.isArray(v))) {
    out.push([prefix, value.length === 0 ? '[]' : value.map(scalar).join(',')]);
    return;
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) {
    out.push([prefix, Array.isArray(value) ? '[]' : '{}']);
    return;
  }
  for (const [key, v] of entries) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (isPlainObject(v) || Array.isArray(v)) pairs(v, path, out);
    else out.push([path, scalar(v)]);
  }
}

/**
 * Any value for a table cell, never raw JSON: a string as is, a number or boolean as written,
 * null/undefined as "-", an array of scalars comma-joined ("a,b"), an object as
 * `key=value key2=value2` with nested keys dotted (`limits.rpm=60`) and an empty one as "{}".
 * The result still goes through the table's escaping of control characters.
 */
export function renderValue(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value;
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value) && value.every((v) => !isPlainObject(v) && !Array.isArray(v))) {
    return value.length === 0 ? '[]' : value.map(scalar).join(',');
  }
  const out: Array<[string, string]> = [];
  pairs(value, '', out);
  return out.map(([k, v]) => (k === '' ? v : `${k}=${v}`)).join(' ');
}
