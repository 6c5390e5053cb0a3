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

/** Options of a rendered table. */
export interface TableOptions {
  /**
   * Terminal columns to fit (a TTY of known width, `-o table`); undefined never truncates
   * (`-o wide`, pipes, files).
   */
  width?: number | undefined;
}

/** A column is never shrunk below this many terminal columns (nor below its own width). */
export const MIN_COLUMN_WIDTH = 5;

const ELLIPSIS = '…';
// Only govctl's own colour codes (SGR, from chalk) reach here: server text was made visible before.
const ESCAPE = /\x1b\[[0-9;]*[A-Za-z]/y;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * `text` cut to `width` terminal columns with a trailing `…`. Never cuts inside an escape
 * sequence or a grapheme (a wide character, an emoji with modifiers); the escape sequences after
 * the cut are kept, so colours are still closed.
 */
export function truncateToWidth(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width < 1) return '';
  const room = width - 1;
  let used = 0;
  let cut = false;
  let out = '';
  let plain = '';
  const flush = (): void => {
    for (const { segment } of graphemes.segment(plain)) {
      if (cut) break;
      const w = displayWidth(segment);
      if (used + w > room) {
        cut = true;
        out += ELLIPSIS;
        break;
      }
      used += w;
      out += segment;
    }
    plain = '';
  };
  for (let i = 0; i < text.length; ) {
    ESCAPE.lastIndex = i;
    const escape = ESCAPE.exec(text);
    if (escape) {
      flush();
      out += escape[0];
      i += escape[0].length;
    } else {
      plain += text[i];
      i += 1;
    }
  }
  flush();
  return cut ? out : `${out}${ELLIPSIS}`;
}

/**
 * The width each column may take so that a row fits `total` terminal columns. The widest
 * columns shrink first: every column wider than a common cap is cut to that cap, chosen as large
 * as fits; narrower columns keep their width. The cap never goes below MIN_COLUMN_WIDTH, so on a
 * very narrow terminal the lines may still be wider than it.
 */
export function fitColumns(widths: number[], total: number): number[] {
  const budget = total - GAP.length * Math.max(0, widths.length - 1);
  const sum = widths.reduce((a, b) => a + b, 0);
  if (sum <= budget) return widths;
  const ascending = [...widths].sort((a, b) => a - b);
  let prefix = 0;
  let cap = 0;
  for (let i = 0; i < ascending.length; i += 1) {
    const rest = ascending.length - i;
    if (prefix + ascending[i]! * rest > budget) {
      cap = Math.floor((budget - prefix) / rest);
      break;
    }
    prefix += ascending[i]!;
  }
  cap = Math.max(cap, MIN_COLUMN_WIDTH);
  return widths.map((w) => Math.min(w, cap));
}

/**
 * Columns padded to their widest cell (display width: colour codes and wide characters
 * counted right), cut with `…` to fit `options.width`. Linear in the number of cells, so 10,000
 * rows render in milliseconds.
 */
function columns(rows: string[][], options: TableOptions = {}): string {
  let widths: number[] = [];
  const measured = rows.map((row) =>
    row.map((cell, i) => {
      const width = displayWidth(cell);
      if (width > (widths[i] ?? 0)) widths[i] = width;
      return width;
    }),
  );
  if (options.width !== undefined && options.width > 0) {
    const caps = fitColumns(widths, options.width);
    rows.forEach((row, r) =>
      row.forEach((cell, i) => {
        if (measured[r]![i]! > caps[i]!) {
          row[i] = truncateToWidth(cell, caps[i]!);
          measured[r]![i] = displayWidth(row[i]!);
        }
      }),
    );
    widths = widths.map((w, i) => Math.min(w, caps[i]!));
  }
  const lines = rows.map((row, r) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(Math.max(0, widths[i]! - measured[r]![i]!))))
      .join(GAP)
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

/** A two-column table of labelled values. */
export function renderKeyValues(rows: Array<[string, Cell]>, style: ChalkInstance, options: TableOptions = {}): string {
  return columns(
    rows.map(([label, value]) => [style.bold(label), cellText(value)]),
    options,
  );
}

/** A table with a header row. */
export function renderTable(head: string[], rows: Cell[][], style: ChalkInstance, options: TableOptions = {}): string {
  return columns([head.map((h) => style.bold(h)), ...rows.map((row) => row.map(cellText))], options);
}
