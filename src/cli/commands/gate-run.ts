import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileDurable } from '../../core/durable-write.js';
import { ExitCode, UsageError } from '../../core/errors.js';
import { ensureWritableDir, ensureWritableFile, withFileSystemErrors } from '../../core/fs-errors.js';
import { buildReport, newRunId, writeReport } from '../../core/report.js';
import { displayPath } from '../../gate/reporters/common.js';
import type { GateEvaluation } from '../../gate/types.js';
import type { CliApp } from '../app.js';

export interface GateFlags {
  gates: string;
  reports: string;
  baseline?: string;
  strict?: boolean;
  junit?: string;
  sarif?: string;
  codequality?: string;
  /** A directory; absent: the --reports directory; false: --no-out. */
  out?: string | false;
}

export interface GateInitFlags {
  out: string;
  force?: boolean;
}

/** Exit 1 when the evaluation fails, or (--strict) when it or any gate warned. */
export function gateFailed(evaluation: GateEvaluation, strict: boolean): boolean {
  return evaluation.result === 'fail' || (strict && (evaluation.result === 'warn' || evaluation.counts.warn > 0));
}

/** The output files given, resolved; two flags naming one file would overwrite each other. */
function outputFiles(app: CliApp, flags: GateFlags): Record<'junit' | 'sarif' | 'codequality', string | undefined> {
  const cwd = app.io.cwd;
  const files = {
    junit: flags.junit === undefined ? undefined : resolve(cwd, flags.junit),
    sarif: flags.sarif === undefined ? undefined : resolve(cwd, flags.sarif),
    codequality: flags.codequality === undefined ? undefined : resolve(cwd, flags.codequality),
  };
  const seen = new Map<string, string>();
  for (const [flag, path] of Object.entries(files)) {
    if (path === undefined) continue;
    const other = seen.get(path);
    if (other !== undefined) throw new UsageError(`--${other} and --${flag} name the same file ${path}: give each its own`);
    seen.set(path, flag);
  }
  return files;
}

async function writeOutput(path: string, text: string): Promise<void> {
  await withFileSystemErrors('write', path, () => writeFileDurable(path, text));
}

export async function gateCommand(app: CliApp, flags: GateFlags): Promise<number> {
  const cwd = app.io.cwd;
  const strict = flags.strict === true;
  const env = app.io.env;
  // Destinations are checked before the evaluation, so a bad one never throws a finished one away.
  const files = outputFiles(app, flags);
  for (const path of Object.values(files)) if (path !== undefined) await ensureWritableFile(path, true);
  const summary = env['GITHUB_STEP_SUMMARY'] ? resolve(cwd, env['GITHUB_STEP_SUMMARY']) : undefined;
  if (summary !== undefined) await ensureWritableFile(summary, true);

  const { loadGateFile } = await import('../../gate/schema.js');
  const { assertDirectory } = await import('../../gate/reports.js');
  const { evaluateGates } = await import('../../gate/evaluate.js');
  const gates = await loadGateFile(flags.gates, { cwd });
  const reportsDir = resolve(cwd, flags.reports);
  // Before --out (which defaults to it, and would create it): a missing reports dir is bad input.
  await assertDirectory(reportsDir, 'reports directory');
  const outDir = flags.out === false ? undefined : resolve(cwd, flags.out ?? flags.reports);
  if (outDir !== undefined) await ensureWritableDir(outDir, '--out');

  const startedAt = new Date();
  const evaluation = await evaluateGates({
    gates,
    reportsDir,
    cwd,
    now: startedAt,
    signal: app.signal,
    ...(flags.baseline !== undefined ? { baselineDir: flags.baseline } : {}),
  });
  const finishedAt = new Date();
  const failed = gateFailed(evaluation, strict);
  for (const ignored of evaluation.reports.ignored) app.info(`ignored ${displayPath(ignored.path, cwd)}: ${ignored.reason}`);

  const report = buildReport('gate', { id: newRunId(startedAt), started_at: startedAt.toISOString(), finished_at: finishedAt.toISOString(), status: failed ? 'failed' : 'passed' }, evaluation);
  if (outDir !== undefined) {
    // gate.json is evidence only: the evaluation never reads it back (it is not a report kind gates read).
    app.info(`gate report: ${displayPath(await withFileSystemErrors('write the report into', outDir, () => writeReport(outDir, 'gate', report)), cwd)}`);
  }
  const srcRoot = pathToFileURL(join(cwd, '/')).href;
  const { gateSarif } = await import('../../gate/reporters/sarif.js');
  if (files.junit !== undefined) {
    const { gateJunit } = await import('../../gate/reporters/junit.js');
    await writeOutput(files.junit, gateJunit(evaluation, { cwd, strict }));
    app.info(`JUnit: ${displayPath(files.junit, cwd)}`);
  }
  if (files.sarif !== undefined) {
    await writeOutput(files.sarif, `${JSON.stringify(gateSarif(evaluation, { srcRoot }), null, 2)}\n`);
    app.info(`SARIF: ${displayPath(files.sarif, cwd)}`);
  }
  if (files.codequality !== undefined) {
    const { gateCodeQuality } = await import('../../gate/reporters/codequality.js');
    // The gate file's text points each gate's issue at its line; the shipped set is read the same way.
    const gateFileText = await readFile(gates.source, 'utf8').catch(() => undefined);
    const issues = gateCodeQuality(evaluation, { cwd, ...(gateFileText !== undefined ? { gateFileText } : {}) });
    await writeOutput(files.codequality, `${JSON.stringify(issues, null, 2)}\n`);
    app.info(`code quality: ${displayPath(files.codequality, cwd)} (${issues.length} issue(s))`);
  }
  if (summary !== undefined) {
    const { gateMarkdown } = await import('../../gate/reporters/markdown.js');
    // Appended, never replaced: other steps of the job write to the same summary.
    await withFileSystemErrors('append to $GITHUB_STEP_SUMMARY', summary, () => appendFile(summary, gateMarkdown(evaluation, { cwd, strict })));
  }
  if (env['GITHUB_ACTIONS'] === 'true') {
    const { gateAnnotations } = await import('../../gate/reporters/annotations.js');
    // On stderr: the runner reads workflow commands there too, and stdout stays the result.
    for (const line of gateAnnotations(evaluation, { strict })) app.io.stderr.write(`${line}\n`);
  }

  const output = app.globals.output;
  if (output === 'json') app.printJson(report);
  else if (output === 'sarif') app.printJson(gateSarif(evaluation, { srcRoot }));
  else {
    const { renderGate } = await import('../render/gate-tables.js');
    app.print(renderGate(evaluation, app.style, { width: app.tableWidth, cwd, strict, wide: output === 'wide' }));
  }
  return failed ? ExitCode.failed : ExitCode.ok;
}

/** `gate init`: the starter gate file with "$schema" naming its sidecar JSON Schema. */
export async function gateInitCommand(app: CliApp, flags: GateInitFlags): Promise<number> {
  const cwd = app.io.cwd;
  const path = resolve(cwd, flags.out);
  const schemaPath = join(dirname(path), `${basename(path).replace(/\.json$/i, '')}.schema.json`);
  const force = flags.force === true;
  await withFileSystemErrors('create the directory of', path, () => mkdir(dirname(path), { recursive: true }));
  await ensureWritableFile(path, force);
  await ensureWritableFile(schemaPath, force);

  const { starterGateFile } = await import('../../gate/init.js');
  const { gateFileJsonSchema } = await import('../../gate/schema.js');
  const starter = JSON.parse(starterGateFile()) as Record<string, unknown>;
  // The schema first: the gate file names it.
  await writeOutput(schemaPath, `${JSON.stringify(gateFileJsonSchema(), null, 2)}\n`);
  await writeOutput(path, `${JSON.stringify({ $schema: `./${basename(schemaPath)}`, ...starter }, null, 2)}\n`);

  if (app.globals.output === 'json') app.printJson({ gates_file: path, schema_file: schemaPath });
  else {
    app.print(`wrote ${displayPath(path, cwd)} and its JSON Schema ${displayPath(schemaPath, cwd)}`);
    app.info(`evaluate it with: govctl gate --gates ${displayPath(path, cwd)} --reports reports`);
  }
  return ExitCode.ok;
}
