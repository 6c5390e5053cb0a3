import { basename, dirname, join } from 'node:path';
import { writeFileDurable } from '../core/durable-write.js';
import { writeReport } from '../core/report.js';
import { renderLoadHtml } from './report-html.js';
import { renderLoadMarkdown } from './report-markdown.js';
import { readLoadReport } from './report-schema.js';
import type { LoadReport } from './types.js';

export interface LoadReportFiles {
  json: string;
  markdown: string;
  html: string;
}

/**
 * Writes a run's three files, `<dir>/<run-id>/load.json`, `load.md` and `load.html`, each
 * atomically (temp file, fsync, rename): a reader never sees a torn file, and an interrupted
 * write leaves the previous one. The JSON goes first, so the evidence exists even if rendering
 * a view were to fail.
 */
export async function writeLoadReportFiles(dir: string, report: LoadReport): Promise<LoadReportFiles> {
  const json = await writeReport(dir, 'load', report);
  const runDir = dirname(json);
  const markdown = join(runDir, 'load.md');
  const html = join(runDir, 'load.html');
  await writeFileDurable(markdown, renderLoadMarkdown(report));
  await writeFileDurable(html, renderLoadHtml(report));
  return { json, markdown, html };
}

export type LoadViewFormat = 'html' | 'markdown';

export interface RenderLoadReportFilesOptions {
  /** Directory for the output; by default the input's directory. */
  outDir?: string;
  /** Which views to write (default both). */
  formats?: readonly LoadViewFormat[];
}

export interface RenderedLoadReportFiles {
  report: LoadReport;
  html?: string;
  markdown?: string;
}

/**
 * Re-renders the views of a saved load report (`govctl report html FILE`): reads and validates
 * FILE, then writes `<name>.html` / `<name>.md` (load.json -> load.html, load.md) next to it or
 * into `outDir`, atomically. Returns the paths written.
 */
export async function renderLoadReportFiles(file: string, options: RenderLoadReportFilesOptions = {}): Promise<RenderedLoadReportFiles> {
  const report = await readLoadReport(file);
  const formats = options.formats ?? ['html', 'markdown'];
  const stem = basename(file).replace(/\.json$/i, '');
  const dir = options.outDir ?? dirname(file);
  const result: RenderedLoadReportFiles = { report };
  if (formats.includes('html')) {
    result.html = join(dir, `${stem}.html`);
    await writeFileDurable(result.html, renderLoadHtml(report));
  }
  if (formats.includes('markdown')) {
    result.markdown = join(dir, `${stem}.md`);
    await writeFileDurable(result.markdown, renderLoadMarkdown(report));
  }
  return result;
}
