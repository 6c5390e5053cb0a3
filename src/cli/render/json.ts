/** sarif is for commands that report findings (scan, audit, gate). */
export type OutputFormat = 'table' | 'json' | 'sarif';

/** Stable JSON for scripts: two-space indent, one trailing newline. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
