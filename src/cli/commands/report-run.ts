import { dirname, resolve } from 'node:path';
import { writeFileDurable } from '../../core/durable-write.js';
import { ExitCode, InvalidInputError } from '../../core/errors.js';
import { ensureWritableDir, ensureWritableFile, withFileSystemErrors } from '../../core/fs-errors.js';
import { newRunId, readReport, type ReportEnvelope } from '../../core/report.js';
import { visible } from '../../core/visible-text.js';
import { count } from '../../load/report-format.js';
import { readLoadReport } from '../../load/report-schema.js';
import type { LoadReport, Totals } from '../../load/types.js';
import type { CliApp } from '../app.js';
import { renderDeltaTable, renderLoadReport, renderThresholdTable } from '../render/load-tables.js';
import { renderKeyValues } from '../render/output.js';
import { shortTime } from '../render/time.js';

export interface ReportMergeFlags {
  out: string;
}

export interface ReportHtmlFlags {
  out?: string;
}

async function readLoad(app: CliApp, file: string): Promise<{ path: string; report: LoadReport }> {
  const path = resolve(app.io.cwd, file);
  return { path, report: await readLoadReport(path) };
}

/** The figures of a load report without the encoded histograms (for -o json). */
function withoutHistograms({ histograms: _, ...rest }: Totals): Omit<Totals, 'histograms'> {
  return rest;
}

export async function reportShowCommand(app: CliApp, file: string): Promise<number> {
  const path = resolve(app.io.cwd, file);
  const { kind, report } = await readReport(path);
  if (kind !== 'load') {
    if (app.json) app.printJson({ file: path, schema: report.schema, kind, run: report.run, target: report.target ?? null });
    else app.print(renderEnvelope(app, path, kind, report));
    return ExitCode.ok;
  }
  const load = await readLoadReport(path);
  const d = load.data;
  if (app.json) {
    app.printJson({
      file: path,
      schema: load.schema,
      run: load.run,
      target: load.target ?? null,
      profile: d.profile.name,
      model: d.profile.model,
      segment: d.options.segment ?? null,
      totals: withoutHistograms(d.totals),
      endpoints: Object.fromEntries(Object.entries(d.endpoints).map(([name, t]) => [name, withoutHistograms(t)])),
      stages: d.stages,
      breaking_point: d.breaking_point ?? null,
      max_sustained_throughput_rps: d.max_sustained_throughput_rps ?? null,
      thresholds: d.thresholds,
      baseline: d.baseline ?? null,
      generator: d.generator,
      audit: d.audit,
    });
  } else {
    app.print(renderLoadReport(load, app.style));
  }
  return ExitCode.ok;
}

function renderEnvelope(app: CliApp, path: string, kind: string, report: ReportEnvelope<Record<string, unknown>>): string {
  return renderKeyValues(
    [
      ['file', path],
      ['kind', `${kind} (${report.schema})`],
      ['run', report.run.id],
      ['status', report.run.status],
      ['started', shortTime(report.run.started_at)],
      ['finished', shortTime(report.run.finished_at)],
      ['target', report.target ? `${report.target.url} (${report.target.kind})` : null],
      ['govctl', report.tool.version],
    ],
    app.style,
  );
}

export async function reportCompareCommand(app: CliApp, baselineFile: string, currentFile: string): Promise<number> {
  const baseline = await readLoad(app, baselineFile);
  const current = await readLoad(app, currentFile);
  if (baseline.report.data.profile.name !== current.report.data.profile.name) {
    app.warn(`comparing different profiles: ${baseline.report.data.profile.name} (baseline) and ${current.report.data.profile.name}`);
  }
  const { compareToBaseline } = await import('../../load/baseline-compare.js');
  const result = compareToBaseline(current.report.data, baseline.report.data, baseline.path);
  if (app.json) {
    app.printJson({ baseline: baseline.path, current: current.path, ...result });
  } else {
    const s = app.style;
    app.print(`${s.bold('Baseline')} ${baseline.path} (${baseline.report.run.id})\n${s.bold('Current')}  ${current.path} (${current.report.run.id})\n`);
    app.print(renderDeltaTable(result, s));
    app.print(result.passed ? 'no regression' : s.red(`${result.regressions.length} regression(s)`));
  }
  return result.passed ? ExitCode.ok : ExitCode.failed;
}

export async function reportMergeCommand(app: CliApp, files: string[], flags: ReportMergeFlags): Promise<number> {
  // Checked before any work, so a bad --out never throws a finished merge away.
  const outDir = resolve(app.io.cwd, flags.out);
  await ensureWritableDir(outDir, '--out');
  const reports: LoadReport[] = [];
  const paths: string[] = [];
  for (const file of files) {
    const { path, report } = await readLoad(app, file);
    paths.push(path);
    reports.push(report);
  }
  checkSegments(app, reports, paths);
  const [{ mergeReportEnvelopes }, { writeLoadReportFiles }] = await Promise.all([import('../../load/merge.js'), import('../../load/report-files.js')]);
  const merged = mergeReportEnvelopes(reports, newRunId(), { labels: paths });
  const written = await withFileSystemErrors('write the merged report under', outDir, () => writeLoadReportFiles(outDir, merged));
  const failed = merged.data.thresholds.filter((t) => !t.passed);
  const status = merged.run.status;
  if (app.json) {
    app.printJson({ run: merged.run, segments: paths, files: written, totals: withoutHistograms(merged.data.totals), thresholds: merged.data.thresholds });
  } else {
    const s = app.style;
    app.print(`merged ${reports.length} report(s): ${count(merged.data.totals.requests)} requests, status ${status}`);
    for (const path of [written.json, written.markdown, written.html]) app.print(`  ${visible(path)}`);
    if (merged.data.thresholds.length > 0) app.print(`\n${s.bold('Thresholds')} (evaluated on the merged result)\n${renderThresholdTable(merged.data.thresholds, s)}`);
    if (failed.length > 0) app.print(s.red(`${failed.length} threshold(s) failed`));
  }
  // A shard that was interrupted or failed leaves the merged run incomplete: not a pass either.
  if (status === 'interrupted' || status === 'error') app.warn(`a segment's run was ${status === 'error' ? 'in error' : 'interrupted'}: the merged report covers only part of the load`);
  return status === 'passed' ? ExitCode.ok : ExitCode.failed;
}

/**
 * Shards of one run each once: the same file or run twice would be counted twice, and segments of
 * different splits do not add up to a whole. A missing segment is allowed, but said.
 */
function checkSegments(app: CliApp, reports: LoadReport[], paths: string[]): void {
  const seenPath = new Map<string, number>();
  const seenRun = new Map<string, number>();
  const seenSegment = new Map<number, number>();
  let split: number | undefined;
  reports.forEach((report, i) => {
    const name = visible(paths[i]!);
    const twice = (j: number | undefined, what: string) => {
      if (j !== undefined) throw new InvalidInputError(`${name} ${what} ${visible(paths[j]!)}: it would be counted twice`);
    };
    if (seenPath.has(paths[i]!)) throw new InvalidInputError(`${name} is given twice: it would be counted twice`);
    seenPath.set(paths[i]!, i);
    twice(seenRun.get(report.run.id), `is the same run (${visible(report.run.id)}) as`);
    seenRun.set(report.run.id, i);
    const segment = report.data.options.segment;
    if (!segment) return;
    if (split !== undefined && segment.count !== split) {
      throw new InvalidInputError(`${name} is segment ${segment.index}/${segment.count}, the others are of ${split}: segments of different splits do not add up to one run`);
    }
    split = segment.count;
    twice(seenSegment.get(segment.index), `is segment ${segment.index}/${segment.count}, like`);
    seenSegment.set(segment.index, i);
  });
  if (split !== undefined && seenSegment.size < split) {
    app.warn(`merging ${seenSegment.size} of ${split} segments: the merged report covers only part of the load`);
  }
}

export async function reportHtmlCommand(app: CliApp, file: string, flags: ReportHtmlFlags): Promise<number> {
  const { path, report } = await readLoad(app, file);
  const out = flags.out === undefined ? resolve(dirname(path), 'load.html') : resolve(app.io.cwd, flags.out);
  await ensureWritableFile(out, true);
  const { renderLoadHtml } = await import('../../load/report-html.js');
  const html = renderLoadHtml(report);
  await withFileSystemErrors('write', out, () => writeFileDurable(out, html));
  if (app.json) app.printJson({ file: path, html: out });
  else app.print(out);
  return ExitCode.ok;
}
