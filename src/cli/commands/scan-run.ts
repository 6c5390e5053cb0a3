import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseBytes } from '../../core/bytes.js';
import { ExitCode, UsageError } from '../../core/errors.js';
import { describeLocation, SEVERITIES, type Severity } from '../../core/findings.js';
import { ensureWritableDir, ensureWritableFile, withFileSystemErrors } from '../../core/fs-errors.js';
import { buildReport, newRunId, writeReport } from '../../core/report.js';
import type { FailOn } from '../../core/verdict.js';
import type { ScanResult } from '../../scan/scanner.js';
import type { CliApp } from '../app.js';
import { renderTable, styled } from '../render/output.js';
import { humanBytes } from '../render/time.js';

export interface ScanFlags {
  rules?: string;
  disable: string[];
  baseline?: string;
  writeBaseline?: string;
  gitignore: boolean;
  /** gitignore-syntax patterns (repeatable `--exclude`). */
  exclude?: string[];
  git?: boolean;
  failOn: FailOn;
  maxFileSize: string;
  workers?: string;
  out?: string | true;
}

async function loadRules(kind: 'secrets' | 'patterns', flags: Pick<ScanFlags, 'rules' | 'disable'>): Promise<unknown> {
  const options = { ...(flags.rules ? { extraRulesFile: flags.rules } : {}), disable: flags.disable };
  if (kind === 'secrets') return (await import('../../scan/rules/secret-rules.js')).loadSecretRules(options);
  return (await import('../../scan/patterns/engine.js')).loadPatternRules(options);
}

export async function scanCommand(app: CliApp, kind: 'secrets' | 'patterns', path: string, flags: ScanFlags): Promise<number> {
  const root = resolve(app.io.cwd, path);
  const workers = flags.workers === undefined ? undefined : Number(flags.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 0 || workers > 64)) {
    throw new UsageError(`invalid --workers "${flags.workers}": use 0 (this thread) to 64`);
  }
  const maxFileBytes = parseBytes(flags.maxFileSize, '--max-file-size');
  if (maxFileBytes < 1) throw new UsageError(`invalid --max-file-size "${flags.maxFileSize}": it must be at least 1 byte (a scan that reads nothing cannot pass)`);

  // Output destinations are checked before the scan, so a bad one never throws a finished scan away.
  const outDir = flags.out === undefined ? undefined : resolve(app.io.cwd, flags.out === true ? 'reports' : flags.out);
  if (outDir !== undefined) await ensureWritableDir(outDir, '--out');
  const baselineOut = flags.writeBaseline === undefined ? undefined : resolve(app.io.cwd, flags.writeBaseline);
  if (baselineOut !== undefined) await ensureWritableFile(baselineOut, true);

  const rules = await loadRules(kind, flags);
  const { readBaseline, writeBaseline } = await import('../../core/baseline.js');
  const baseline = flags.baseline ? await readBaseline(resolve(app.io.cwd, flags.baseline)) : undefined;
  const { runScan } = await import('../../scan/scanner.js');

  const startedAt = new Date();
  const result = await runScan({
    kind,
    root,
    rules,
    maxFileBytes,
    failOn: flags.failOn,
    gitignore: flags.gitignore,
    exclude: flags.exclude ?? [],
    git: flags.git === true,
    env: app.io.env,
    signal: app.signal,
    onEvent: (event) => {
      if (event.type === 'warning') app.warn(event.message);
    },
    ...(outDir !== undefined ? { excludeDirs: [outDir] } : {}),
    ...(workers !== undefined ? { workers } : {}),
    ...(baseline ? { baseline } : {}),
  });
  const finishedAt = new Date();

  const status = result.partial ? 'interrupted' : result.verdict.passed ? 'passed' : 'failed';
  const report = buildReport(
    'scan',
    { id: newRunId(startedAt), started_at: startedAt.toISOString(), finished_at: finishedAt.toISOString(), status },
    {
      kind,
      root,
      fail_on: result.verdict.fail_on,
      verdict: result.verdict,
      partial: result.partial,
      findings: result.findings,
      summary: result.summary,
      skipped_files: result.skipped_files,
      excluded_paths: result.excluded_paths,
      exclude_sources: result.exclude_sources,
    },
  );

  if (baselineOut !== undefined) {
    if (result.partial) app.warn('interrupted: the baseline was not written (the scan is incomplete)');
    else {
      await writeBaseline(baselineOut, result.findings);
      app.info(`baseline of ${result.findings.length} finding(s) written to ${flags.writeBaseline}`);
    }
  }
  if (outDir !== undefined) {
    app.info(`report: ${await withFileSystemErrors('write the report into', outDir, () => writeReport(outDir, 'scan', report))}`);
  }

  const output = app.globals.output;
  if (output === 'json') app.printJson(report);
  else if (output === 'sarif') {
    const { toSarif } = await import('../../core/sarif.js');
    app.printJson(toSarif(result.findings, { srcRoot: pathToFileURL(join(root, '/')).href }));
  } else app.print(renderScan(app, result));

  if (result.partial) return ExitCode.interrupted;
  return result.verdict.passed ? ExitCode.ok : ExitCode.failed;
}

function renderScan(app: CliApp, result: ScanResult): string {
  const failOn = result.verdict.fail_on;
  const s = app.style;
  const colour: Record<Severity, (t: string) => string> = { critical: s.red.bold, high: s.red, medium: s.yellow, low: s.cyan, info: s.dim };
  const sum = result.summary;
  const lines: string[] = [];
  if (result.findings.length > 0) {
    lines.push(
      renderTable(
        ['SEVERITY', 'RULE', 'LOCATION', 'EVIDENCE'],
        result.findings.map((f) => [styled(colour[f.severity](f.severity)), f.rule, describeLocation(f.location), f.evidence]),
        s,
      ).trimEnd(),
      '',
    );
  }
  const counts = SEVERITIES.filter((sev) => sum.findings_by_severity[sev] > 0).map((sev) => `${sum.findings_by_severity[sev]} ${sev}`);
  const skipped = Object.entries(sum.skipped).filter(([, n]) => n > 0).map(([why, n]) => `${n} ${why.replace('_', ' ')}`);
  lines.push(
    `${result.findings.length === 0 ? s.green('no findings') : `${result.findings.length} finding(s): ${counts.join(', ')}`} (fail on ${failOn})`,
    `scanned ${sum.files_scanned} file(s), ${humanBytes(sum.bytes_scanned)} in ${(sum.duration_ms / 1000).toFixed(2)} s` +
      (sum.commits_scanned !== undefined ? `, ${sum.commits_scanned} commit(s)` : ''),
  );
  const notes = [
    skipped.length > 0 ? `skipped ${skipped.join(', ')}` : '',
    sum.ignored_by_gitignore > 0 ? `${sum.ignored_by_gitignore} ignored by .gitignore` : '',
    sum.excluded > 0 ? `${sum.excluded} excluded by ${result.exclude_sources.join(' and ')}` : '',
    sum.excluded_in_history ? `${sum.excluded_in_history} changed file(s) in history excluded` : '',
    sum.suppressed_inline > 0 ? `${sum.suppressed_inline} suppressed inline` : '',
    sum.suppressed_by_baseline > 0 ? `${sum.suppressed_by_baseline} in the baseline` : '',
    sum.report_dirs_skipped > 0 ? `${sum.report_dirs_skipped} report dir(s) not scanned` : '',
  ].filter(Boolean);
  if (notes.length > 0) lines.push(notes.join('; '));
  if (result.partial) lines.push(s.yellow('interrupted: the scan is incomplete'));
  return `${lines.join('\n')}\n`;
}

export interface ScanRulesFlags {
  rules?: string;
}

/** `scan rules`: the rule ids --disable takes, with severity and title (built in, plus a --rules file). */
export async function scanRulesCommand(app: CliApp, kind: 'secrets' | 'patterns' | undefined, flags: ScanRulesFlags): Promise<number> {
  if (flags.rules !== undefined && kind === undefined) {
    throw new UsageError('--rules needs the kind of its rules: govctl scan rules secrets --rules FILE (or patterns)');
  }
  const kinds = kind === undefined ? (['secrets', 'patterns'] as const) : [kind];
  const rows: Array<{ kind: 'secrets' | 'patterns'; id: string; severity: Severity; title: string }> = [];
  for (const k of kinds) {
    const { rules } = (await loadRules(k, { ...flags, disable: [] })) as { rules: Array<{ id: string; severity: Severity; title: string }> };
    for (const rule of rules) rows.push({ kind: k, id: rule.id, severity: rule.severity, title: rule.title });
  }
  if (app.globals.output === 'json') app.printJson({ rules: rows });
  else if (app.globals.quiet) app.print(rows.map((r) => r.id).join('\n'));
  else app.print(renderTable(['KIND', 'ID', 'SEVERITY', 'TITLE'], rows.map((r) => [r.kind, r.id, r.severity, r.title]), app.style));
  return ExitCode.ok;
}
