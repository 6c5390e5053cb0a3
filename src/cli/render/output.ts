import Table from 'cli-table3';
import type { ChalkInstance } from 'chalk';

export type Cell = string | number | boolean | null | undefined;

function cellText(value: Cell): string {
  if (value === null || value === undefined) return '-';
  return String(value);
}

/** A two-column table of labelled values. */
export function renderKeyValues(rows: Array<[string, Cell]>, style: ChalkInstance): string {
  const table = new Table({ style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 }, chars: borderless });
  for (const [label, value] of rows) table.push([style.bold(label), cellText(value)]);
  return `${table.toString().replace(/ +$/gm, '')}\n`;
}

/** A table with a header row. */
export function renderTable(head: string[], rows: Cell[][], style: ChalkInstance): string {
  const table = new Table({
    head: head.map((h) => style.bold(h)),
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    chars: borderless,
  });
  for (const row of rows) table.push(row.map(cellText));
  return `${table.toString().replace(/ +$/gm, '')}\n`;
}

const borderless = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '',
  middle: '  ',
};
