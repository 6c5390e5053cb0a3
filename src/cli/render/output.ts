import type { ChalkInstance } from 'chalk';
import stringWidth from 'string-width';
import { visible } from './visible.js';

/** Text govctl itself styled (colour codes included); shown as is, unlike every other cell. */
export interface Styled {
  readonly styled: string;
}

/** Marks text that govctl composed and coloured, so the table does not escape its colour codes. */
export function styled(text: string): Styled {
  return { styled: text };
}

export type Cell = string | number | boolean | null | undefined | Styled;

const GAP = '  ';

const PLAIN_ASCII = /^[\x20-\x7e]*$/;

/** Terminal columns a cell takes; plain ASCII (most cells) skips the costly general case. */
function displayWidth(text: string): number {
  return PLAIN_ASCII.test(text) ? text.length : stringWidth(text);
}

function cellText(value: Cell): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'object') return value.styled;
  // Cells carry server- and tenant-supplied text: never let it reach the terminal raw.
  return visible(String(value));
}

/**
 * Columns padded to their widest cell (display width: colour codes and wide characters
 * counted right). Linear in the number of cells, so 10,000 rows render in milliseconds.
 */
function columns(rows: string[][]): string {
  const widths: number[] = [];
  const measured = rows.map((row) =>
    row.map((cell, i) => {
      const width = displayWidth(cell);
      if (width > (widths[i] ?? 0)) widths[i] = width;
      return width;
    }),
  );
  const lines = rows.map((row, r) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - measured[r]![i]!)))
      .join(GAP)
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

/** A two-column table of labelled values. */
export function renderKeyValues(rows: Array<[string, Cell]>, style: ChalkInstance): string {
  return columns(rows.map(([label, value]) => [style.bold(label), cellText(value)]));
}

/** A table with a header row. */
export function renderTable(head: string[], rows: Cell[][], style: ChalkInstance): string {
  return columns([head.map((h) => style.bold(h)), ...rows.map((row) => row.map(cellText))]);
}
