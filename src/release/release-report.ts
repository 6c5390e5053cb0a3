import { join } from 'node:path';
import { writeFileDurable } from '../core/durable-write.js';
import { withFileSystemErrors } from '../core/fs-errors.js';
import { buildReport, type ReportEnvelope, type ReportTarget, type RunStatus } from '../core/report.js';
import type { ReleaseGateInputs } from '../gate/report-data.js';
import type { StepStatus } from './manifest.js';

/**
 * The `govctl.release/v1` report (release.json at the top of the release directory): what
 * release-check ran, each step's outcome, and the figures only release-check measures (bootstrap
 * time for G7, the target's observability for G6). It is written before the gates are evaluated,
 * so they can read it; the gates' own result is gate.json beside it.
 */

export const RELEASE_REPORT_FILE = 'release.json';

export interface ReleaseStepResult {
  name: string;
  status: StepStatus;
  reason?: string;
  duration_ms: number;
  /** The command a child step ran (no secrets: the admin key goes by environment). */
  command?: string;
  exit_code?: number | null;
  /** Its output, relative to the release directory. */
  log?: string;
}

export interface ReleaseReportData extends ReleaseGateInputs {
  version: string;
  quick: boolean;
  steps: ReleaseStepResult[];
  /** Each bootstrap step (install, first run) with its time. */
  bootstrap_steps?: Array<{ name: string; seconds: number; ok: boolean }>;
  /** Where the coverage summary in the release directory came from. */
  coverage?: { source: string; file: string } | { status: 'not_measured'; reason: string };
  /** How the run was asked for: options that change what was measured. */
  options: {
    load_durations: { normal: string | null; burst: string | null };
    osv_db: string | null;
    config: string | null;
    skip_bootstrap: boolean;
  };
}

/** passed: every step passed or was skipped; failed: one failed; error: one could not run. */
export function releaseRunStatus(steps: readonly ReleaseStepResult[], interrupted: boolean): RunStatus {
  if (interrupted) return 'interrupted';
  if (steps.some((s) => s.status === 'error')) return 'error';
  if (steps.some((s) => s.status === 'failed')) return 'failed';
  return 'passed';
}

export async function writeReleaseReport(
  dir: string,
  run: { id: string; startedAt: Date; finishedAt: Date; interrupted: boolean },
  data: ReleaseReportData,
  target: ReportTarget,
): Promise<{ path: string; report: ReportEnvelope<ReleaseReportData> }> {
  const report = buildReport(
    'release',
    { id: run.id, started_at: run.startedAt.toISOString(), finished_at: run.finishedAt.toISOString(), status: releaseRunStatus(data.steps, run.interrupted) },
    data,
    target,
  );
  const path = join(dir, RELEASE_REPORT_FILE);
  await withFileSystemErrors('write', path, () => writeFileDurable(path, `${JSON.stringify(report, null, 2)}\n`));
  return { path, report };
}
