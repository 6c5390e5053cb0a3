/**
 * sarif is for commands that report findings (scan, audit, gate). wide is a table that is never
 * cut to the terminal's width.
 */
export type OutputFormat = 'table' | 'wide' | 'json' | 'sarif';

/** Stable JSON for scripts: two-space indent, one trailing newline. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
