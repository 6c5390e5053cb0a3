import { visible } from '../core/visible-text.js';

/**
 * The load report as formatted text in banners, sections and tables: what the Markdown and HTML
 * writers both show, so they cannot drift apart. Cells are plain text (server-supplied names
 * already have their control characters made visible); each writer escapes for its own syntax.
 */

export type Align = 'left' | 'right';
export type Mark = 'bad' | 'good' | 'warn';

export interface ReportRow {
  cells: string[];
  mark?: Mark;
}

export interface ReportTable {
  /** Column headings; null for a two-column key/value table. */
  columns: string[] | null;
  align: Align[];
  rows: ReportRow[];
}

export interface ReportSection {
  id: string;
  title: string;
  paragraphs: string[];
  tables: ReportTable[];
  /** Small tables side by side where there is room (HTML only). */
  layout?: 'row';
}

export interface ReportBanner {
  level: 'error' | 'warning' | 'info';
  title: string;
  lines: string[];
}

export interface LoadReportView {
  title: string;
  /** The run's status in words ("interrupted (partial results)"). */
  status: string;
  partial: boolean;
  banners: ReportBanner[];
  sections: ReportSection[];
}

/** Server- or user-supplied text, safe to show on one line. */
export const text = (value: unknown): string => visible(String(value));

export function kv(rows: Array<[string, string]>): ReportTable {
  return { columns: null, align: ['left', 'left'], rows: rows.map((cells) => ({ cells })) };
}

/** A table whose first `textColumns` columns (and any in `alsoText`) are text and the rest numbers (right-aligned). */
export function grid(columns: string[], rows: ReportRow[], textColumns = 1, alsoText: number[] = []): ReportTable {
  return { columns, align: columns.map((_, i) => (i < textColumns || alsoText.includes(i) ? 'left' : 'right')), rows };
}

