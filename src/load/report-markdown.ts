import { loadReportView, type ReportBanner, type ReportTable } from './report-view.js';
import type { LoadReport } from './types.js';

/**
 * The load report as GitHub-flavoured Markdown (load.md): the same banners and tables as the
 * HTML report, without the charts. Every piece of text is escaped, so a name with a pipe, a
 * newline, backticks or an HTML tag stays one literal table cell.
 */
export function renderLoadMarkdown(report: LoadReport): string {
  const view = loadReportView(report);
  const out: string[] = [`# ${md(view.title)}`, '', `**Status: ${md(view.status)}**`, ''];
  for (const banner of view.banners) out.push(...bannerLines(banner), '');
  for (const section of view.sections) {
    out.push(`## ${md(section.title)}`, '');
    for (const p of section.paragraphs) out.push(md(p), '');
    for (const table of section.tables) out.push(...tableLines(table), '');
  }
  out.push(`_Written by govctl ${md(report.tool.version)}; charts are in load.html._`, '');
  return out.join('\n');
}

/** Escapes Markdown (and inline HTML) syntax; line breaks become spaces so a cell stays one line. */
export function md(value: string): string {
  return value.replace(/\r\n|[\r\n\u2028\u2029]/g, ' ').replace(/[\\`*_[\]<>#|~&]/g, (c) => `\\${c}`);
}

function bannerLines(banner: ReportBanner): string[] {
  const label = banner.level === 'error' ? '[!CAUTION]' : banner.level === 'warning' ? '[!WARNING]' : '[!NOTE]';
  return [`> ${label}`, `> **${md(banner.title)}**`, ...banner.lines.map((l) => `> - ${md(l)}`)];
}

function tableLines(table: ReportTable): string[] {
  const columns = table.columns ?? ['', ''];
  const cell = (text: string, i: number, marked: boolean) => {
    const escaped = md(text);
    return marked && i === 0 && escaped !== '' ? `**${escaped}**` : escaped;
  };
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const lines = [row(columns.map((c) => md(c))), row(table.align.map((a) => (a === 'right' ? '---:' : '---')))];
  for (const r of table.rows) lines.push(row(r.cells.map((c, i) => cell(c, i, r.mark === 'bad'))));
  return lines;
}
