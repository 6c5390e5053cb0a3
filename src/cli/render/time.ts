import { visible } from '../../core/visible-text.js';

/** "2026-11-22 06:06:31" in UTC, or "-" when absent: compact and sortable in a table. Server text that is no date is shown escaped. */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return visible(iso);
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Bytes as "1.4 MiB". */
export function humanBytes(bytes: number | null | undefined): string {
  if (bytes === undefined || bytes === null) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
