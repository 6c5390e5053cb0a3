import { dirname, join } from 'node:path';
import { writeFileDurable } from '../core/durable-write.js';
import { writeReport } from '../core/report.js';
import { renderChaosMarkdown } from './journal-markdown.js';
import type { ChaosReport } from './types.js';

export interface ChaosReportFiles {
  json: string;
  markdown: string;
}

/**
 * Writes `<dir>/<run-id>/chaos.json` and `chaos.md`, each atomically (temp file, fsync, rename).
 * The JSON goes first: the evidence exists even if rendering the view were to fail.
 */
export async function writeChaosReportFiles(dir: string, report: ChaosReport): Promise<ChaosReportFiles> {
  const json = await writeReport(dir, 'chaos', report);
  const markdown = join(dirname(json), 'chaos.md');
  await writeFileDurable(markdown, renderChaosMarkdown(report));
  return { json, markdown };
}
