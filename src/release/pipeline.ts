import { join } from 'node:path';
import { writeFileDurable } from '../core/durable-write.js';
import { InterruptedError, messageOf } from '../core/errors.js';
import { withFileSystemErrors } from '../core/fs-errors.js';
import { buildReport, newRunId } from '../core/report.js';
import type { GateEvaluation } from '../gate/types.js';
import { buildManifest, writeManifest, type WrittenManifest } from './manifest.js';
import { writeReleaseReport, type ReleaseReportData, type ReleaseStepResult } from './release-report.js';
import { childSteps } from './steps/child-steps.js';
import { MEASURE_STEPS } from './steps/measure-steps.js';
import type { PipelineContext, ReleaseEvent, ReleasePipelineOptions, StepDef } from './steps/types.js';

export type { ReleaseEvent, ReleasePipelineOptions, ReleaseTarget } from './steps/types.js';

/**
 * `govctl release-check`: every step in turn (scans, audits, load, chaos as govctl children;
 * observability, bootstrap and coverage in-process), each recorded with its status, reason and
 * duration, a failing step never stopping the others; then release.json (which G6 and G7 read),
 * the gates over the release directory (gate.json, junit.xml), and last manifest.json (+ .sig)
 * over every file. After Ctrl-C the running step is interrupted, the rest are recorded as not
 * run, release.json says "interrupted", no gate is evaluated, and the manifest still lists what
 * was written, so a partial release is evidence of exactly what happened.
 */

export const GATE_REPORT_FILE = 'gate.json';
export const JUNIT_FILE = 'junit.xml';

export interface ReleasePipelineResult {
  steps: ReleaseStepResult[];
  interrupted: boolean;
  /** Absent when interrupted, or when the gates could not be evaluated (the gates step says why). */
  evaluation?: GateEvaluation;
  releaseReport: string;
  manifest: WrittenManifest;
}

function elapsedMs(t0: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - t0) / 1e6);
}

async function runStep(step: StepDef, ctx: PipelineContext, index: number, total: number): Promise<ReleaseStepResult> {
  ctx.emit({ type: 'step-start', index, total, name: step.name, title: step.title });
  const t0 = process.hrtime.bigint();
  let outcome: Awaited<ReturnType<StepDef['run']>>;
  try {
    outcome = await step.run(ctx);
  } catch (err) {
    outcome = { status: 'error', reason: ctx.signal?.aborted || err instanceof InterruptedError ? 'interrupted' : messageOf(err) };
  }
  const result: ReleaseStepResult = { name: step.name, ...outcome, duration_ms: elapsedMs(t0) };
  ctx.emit({ type: 'step-end', index, total, name: step.name, status: result.status, ...(result.reason !== undefined ? { reason: result.reason } : {}), duration_ms: result.duration_ms });
  return result;
}

async function evaluate(ctx: PipelineContext, strict: boolean, now: Date): Promise<{ outcome: Omit<ReleaseStepResult, 'name' | 'duration_ms'>; evaluation?: GateEvaluation }> {
  const o = ctx.options;
  const { evaluateGates } = await import('../gate/evaluate.js');
  const evaluation = await evaluateGates({ gates: o.gates, reportsDir: ctx.releaseDir, cwd: o.cwd, now, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  const failed = evaluation.result === 'fail' || (strict && (evaluation.result === 'warn' || evaluation.counts.warn > 0));
  const report = buildReport('gate', { id: newRunId(now), started_at: now.toISOString(), finished_at: new Date().toISOString(), status: failed ? 'failed' : 'passed' }, evaluation);
  const gatePath = join(ctx.releaseDir, GATE_REPORT_FILE);
  await withFileSystemErrors('write', gatePath, () => writeFileDurable(gatePath, `${JSON.stringify(report, null, 2)}\n`));
  const { gateJunit } = await import('../gate/reporters/junit.js');
  const junitPath = join(ctx.releaseDir, JUNIT_FILE);
  await withFileSystemErrors('write', junitPath, () => writeFileDurable(junitPath, gateJunit(evaluation, { cwd: o.cwd, strict })));
  return { outcome: { status: failed ? 'failed' : 'passed', reason: evaluation.reason }, evaluation };
}

export async function runReleasePipeline(options: ReleasePipelineOptions): Promise<ReleasePipelineResult> {
  const startedAt = new Date();
  const runId = newRunId(startedAt);
  const emit = (event: ReleaseEvent) => options.onEvent?.(event);
  const ctx: PipelineContext = { options, releaseDir: options.releaseDir, ...(options.signal ? { signal: options.signal } : {}), data: {}, emit };
  const steps: StepDef[] = [...childSteps(ctx), ...MEASURE_STEPS];
  const total = steps.length + 1;
  const results: ReleaseStepResult[] = [];
  const notRun = (name: string): ReleaseStepResult => ({ name, status: 'skipped', reason: 'not run: interrupted', duration_ms: 0 });

  for (const [i, step] of steps.entries()) {
    if (options.signal?.aborted) results.push(notRun(step.name));
    else results.push(await runStep(step, ctx, i + 1, total));
  }
  const interrupted = options.signal?.aborted === true;

  const data: ReleaseReportData = {
    version: options.version,
    quick: options.quick,
    steps: results,
    ...ctx.data,
    options: {
      load_durations: { normal: options.loadDurations.normal ?? null, burst: options.loadDurations.burst ?? null },
      osv_db: options.osvDb ?? null,
      config: options.config ?? null,
      skip_bootstrap: options.skipBootstrap,
    },
  };
  const target = { url: options.target.url, kind: options.target.kind, ...(options.target.version !== undefined ? { version: options.target.version } : {}) };
  const release = await writeReleaseReport(options.releaseDir, { id: runId, startedAt, finishedAt: new Date(), interrupted }, data, target);

  let evaluation: GateEvaluation | undefined;
  if (interrupted) results.push(notRun('gates'));
  else {
    emit({ type: 'step-start', index: total, total, name: 'gates', title: `gates (${options.gates.name})` });
    const t0 = process.hrtime.bigint();
    let outcome: Omit<ReleaseStepResult, 'name' | 'duration_ms'>;
    try {
      ({ outcome, evaluation } = await evaluate(ctx, options.strict === true, new Date()));
    } catch (err) {
      outcome = { status: 'error', reason: options.signal?.aborted ? 'interrupted' : messageOf(err) };
    }
    const result: ReleaseStepResult = { name: 'gates', ...outcome, duration_ms: elapsedMs(t0) };
    results.push(result);
    emit({ type: 'step-end', index: total, total, name: 'gates', status: result.status, ...(result.reason !== undefined ? { reason: result.reason } : {}), duration_ms: result.duration_ms });
  }

  // Always written, also after Ctrl-C: the manifest is what makes the directory checkable later.
  const finishedAt = new Date();
  const manifest = await buildManifest({
    dir: options.releaseDir,
    version: options.version,
    startedAt,
    finishedAt,
    steps: results.map((s) => ({ name: s.name, status: s.status, ...(s.reason !== undefined ? { reason: s.reason } : {}), duration_ms: s.duration_ms })),
    gitRoot: options.cwd,
    onWarning: (message) => emit({ type: 'warning', message: `manifest: ${message}` }),
  });
  const written = await writeManifest(options.releaseDir, manifest, options.signKey);
  for (const warning of written.warnings) emit({ type: 'warning', message: warning });
  return { steps: results, interrupted: interrupted || options.signal?.aborted === true, ...(evaluation ? { evaluation } : {}), releaseReport: release.path, manifest: written };
}
