import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InterruptedError, InvalidInputError } from '../core/errors.js';
import { fileSystemError } from '../core/fs-errors.js';
import { readReport, type ReportEnvelope } from '../core/report.js';
import { readLoadReport } from '../load/report-schema.js';
import { checkReportData } from './report-data.js';
import type { IgnoredReport, MetricSource } from './types.js';

/**
 * Finds the evidence in a reports directory: govctl reports (`<kind>.json`, as writeReport names
 * them, at any depth) of the kinds the gates read, each read through core/report.ts (envelope,
 * schema id and version checked: an unknown version is an InvalidInputError, exit 2), and
 * coverage files (`coverage-summary.json`, `lcov.info`). Gate reports are outputs, not inputs.
 */

/** The report kinds gates read. */
export type InputKind = 'load' | 'chaos' | 'scan' | 'audit' | 'release';

export const INPUT_KINDS: readonly InputKind[] = ['load', 'chaos', 'scan', 'audit', 'release'];

export const COVERAGE_FILE_NAMES = ['coverage-summary.json', 'lcov.info'] as const;

export interface IndexedReport<T = Record<string, unknown>> {
  kind: InputKind;
  path: string;
  report: ReportEnvelope<T>;
  finishedAt: number;
}

export interface IndexedFile {
  path: string;
  mtime: Date;
}

export interface ReportIndex {
  dir: string;
  /** Newest first (run.finished_at), per kind. */
  reports: Map<InputKind, IndexedReport[]>;
  coverage: IndexedFile[];
  ignored: IgnoredReport[];
}

const MAX_DEPTH = 6;
const SKIP_DIRS = new Set(['node_modules', '.git']);

export function reportSource(entry: IndexedReport<unknown>): MetricSource {
  return { kind: 'report', path: entry.path, schema: entry.report.schema, run_id: entry.report.run.id, finished_at: entry.report.run.finished_at };
}

/** The newest report of a kind that satisfies `accept`. */
export function latest<T>(index: ReportIndex, kind: InputKind, accept: (entry: IndexedReport<T>) => boolean = () => true): IndexedReport<T> | undefined {
  return (index.reports.get(kind) as IndexedReport<T>[] | undefined)?.find(accept);
}

async function walk(dir: string, depth: number, found: { reports: Array<{ kind: InputKind; path: string }>; coverage: string[] }, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw new InterruptedError();
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw fileSystemError(err, 'read the reports directory', dir);
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (depth < MAX_DEPTH && !SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.')) await walk(path, depth + 1, found, signal);
    } else if (entry.isFile()) {
      const kind = entry.name.endsWith('.json') ? entry.name.slice(0, -'.json'.length) : '';
      if ((INPUT_KINDS as readonly string[]).includes(kind)) found.reports.push({ kind: kind as InputKind, path });
      else if ((COVERAGE_FILE_NAMES as readonly string[]).includes(entry.name)) found.coverage.push(path);
    }
  }
}

/** Checks that a directory given by the user exists (a missing one is bad input, exit 2). */
export async function assertDirectory(dir: string, what: string): Promise<void> {
  let info;
  try {
    info = await stat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new InvalidInputError(`${what} ${dir} does not exist`, { hint: 'run the commands that write reports first, or pass --reports DIR' });
    throw fileSystemError(err, `read the ${what}`, dir);
  }
  if (!info.isDirectory()) throw new InvalidInputError(`${what} ${dir} is not a directory`);
}

/**
 * Indexes `dir`: reads and checks every report of `kinds`. Interrupted runs (partial evidence)
 * and load shards (a segment: gate on the merged report) are left out and listed in `ignored`.
 */
export async function indexReports(dir: string, kinds: ReadonlySet<InputKind>, signal?: AbortSignal): Promise<ReportIndex> {
  const found = { reports: [] as Array<{ kind: InputKind; path: string }>, coverage: [] as string[] };
  await walk(dir, 0, found, signal);
  const index: ReportIndex = { dir, reports: new Map(), coverage: [], ignored: [] };
  for (const { kind, path } of found.reports) {
    if (!kinds.has(kind)) continue;
    if (signal?.aborted) throw new InterruptedError();
    const report = kind === 'load' ? await readLoadReport(path) : checkReportData(kind, path, (await readReport(path, { kind })).report);
    const status = report.run.status;
    if (status === 'interrupted') {
      index.ignored.push({ path, reason: 'the run was interrupted: its figures are partial' });
      continue;
    }
    const segment = kind === 'load' ? (report.data as { options?: { segment?: { index: number; count: number } | null } }).options?.segment : null;
    if (segment) {
      index.ignored.push({ path, reason: `a shard (segment ${segment.index}/${segment.count}) of a split run: gates read the merged report (govctl report merge)` });
      continue;
    }
    const list = index.reports.get(kind) ?? [];
    list.push({ kind, path, report: report as ReportEnvelope<Record<string, unknown>>, finishedAt: Date.parse(report.run.finished_at) });
    index.reports.set(kind, list);
  }
  for (const list of index.reports.values()) list.sort((a, b) => b.finishedAt - a.finishedAt || a.path.localeCompare(b.path));
  for (const path of found.coverage) {
    try {
      index.coverage.push({ path, mtime: (await stat(path)).mtime });
    } catch (err) {
      throw fileSystemError(err, 'read the coverage file', path);
    }
  }
  return index;
}
