export type OutputFormat = 'table' | 'json';

/** Stable JSON for scripts: two-space indent, one trailing newline. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
