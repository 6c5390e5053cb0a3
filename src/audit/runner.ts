import { ExitCode, GovctlError, isGovctlError, messageOf, type ExitCodeValue } from '../core/errors.js';
import { describeLocation, type Finding } from '../core/findings.js';
import { filterByBaseline } from '../core/baseline.js';
import { verdictOf, type FailOn, type Verdict } from '../core/verdict.js';
import type { ApiProbeOptions } from './api/probe-api.js';
import type { AuditStepName, PackageRef, SbomResult, StepContext, StepRecord } from './types.js';

/**
 * `govctl audit`: runs the steps asked for (sbom, vulns, api, config) in one pass over one
 * findings model. A step that cannot run is recorded as not run, with why, and the run cannot
 * pass; it never counts as clean. Steps are independent: one failing does not hide the others.
 */

export interface AuditOptions extends StepContext {
  /** Build an SBOM from the lockfiles in `dir`, or read `file` (an existing CycloneDX JSON SBOM). */
  sbom?: { dir: string; spec: '1.5' | '1.6'; reproducible: boolean; file?: string };
  /** Match components against an OSV database; `osvDb` absent: the step is not run, and says so. */
  vulns?: { dir: string; osvDb?: string; spec: '1.5' | '1.6' };
  api?: Omit<ApiProbeOptions, keyof StepContext>;
  config?: { file: string; environment?: string; env: Record<string, string | undefined>; cwd?: string };
  failOn: FailOn;
  /** Fingerprints of known findings (core/baseline.ts): not reported. */
  baseline?: ReadonlySet<string>;
}

export interface AuditData {
  fail_on: FailOn;
  verdict: Verdict;
  /** True when every step asked for completed. */
  complete: boolean;
  steps: StepRecord[];
  findings: Finding[];
  suppressed_by_baseline: number;
  /** The SBOM written beside audit.json, when one was built. */
  sbom_file?: string;
}

export interface AuditOutcome {
  data: AuditData;
  /** The CycloneDX document to write, when --sbom built one. */
  bomJson?: string;
  /** Why the run cannot pass besides findings: the first step that did not run, as an exit code. */
  stepExitCode?: ExitCodeValue;
  interrupted: boolean;
  /** Every finding, before the baseline (for --write-baseline). */
  allFindings: Finding[];
}

interface StepRun {
  record: StepRecord;
  findings: Finding[];
  exitCode?: ExitCodeValue;
}

/** Runs one step; an expected failure (bad input, unreachable, refused) becomes "not run" with why. */
async function runStep<R extends { findings: Finding[] }>(
  step: AuditStepName,
  ctx: StepContext,
  work: () => Promise<R>,
  summarise: (result: R) => unknown,
): Promise<StepRun & { result?: R }> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  ctx.onEvent?.({ type: 'step', step, phase: 'start' });
  try {
    const result = await work();
    const partial = (result as { partial?: boolean }).partial === true || ctx.signal?.aborted === true;
    const record: StepRecord = {
      step,
      status: partial ? 'interrupted' : 'completed',
      findings: result.findings.length,
      duration_ms: elapsed(),
      summary: summarise(result),
    };
    ctx.onEvent?.({ type: 'step', step, phase: 'done' });
    return { record, findings: result.findings, result };
  } catch (err) {
    if (ctx.signal?.aborted) {
      return { record: { step, status: 'interrupted', reason: 'interrupted', findings: 0, duration_ms: elapsed() }, findings: [] };
    }
    // A bug (or an invalid BOM, which is one) is not a step that "did not run": it stops the run.
    if (!isGovctlError(err) || err.exitCode === ExitCode.internal) throw err;
    const reason = err.hint ? `${messageOf(err)} (${err.hint})` : messageOf(err);
    ctx.onEvent?.({ type: 'step', step, phase: 'done', message: `not run: ${reason}` });
    return { record: { step, status: 'not_run', reason, findings: 0, duration_ms: elapsed() }, findings: [], exitCode: err.exitCode };
  }
}

function notRun(step: AuditStepName, reason: string, exitCode: ExitCodeValue = ExitCode.usage): StepRun {
  return { record: { step, status: 'not_run', reason, findings: 0, duration_ms: 0 }, findings: [], exitCode };
}

const sbomSummary = (r: SbomResult) => ({ spec: r.spec, ...r.summary });

/** The components vulnerability matching uses: those of the SBOM step, else built from `dir` now. */
async function componentsFor(options: AuditOptions, sbom: SbomResult | undefined, sbomRun: StepRun | undefined, ctx: StepContext) {
  if (sbom) return { components: sbom.components, findings: [] as Finding[] };
  if (sbomRun) {
    throw new GovctlError('GOVCTL_AUDIT_NO_COMPONENTS', sbomRun.exitCode ?? ExitCode.usage, `no components to match: the SBOM step did not run (${sbomRun.record.reason ?? 'see above'})`);
  }
  const { buildSbom } = await import('./sbom/build-sbom.js');
  const built = await buildSbom({ dir: options.vulns!.dir, spec: options.vulns!.spec, reproducible: true, ...ctx });
  // Parse findings (an unpinned requirement cannot be matched) belong to this step when no --sbom ran.
  return { components: built.components, findings: built.findings };
}

export async function runAudit(options: AuditOptions): Promise<AuditOutcome> {
  const ctx: StepContext = {
    fingerprintKey: options.fingerprintKey,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  };
  const runs: StepRun[] = [];
  let sbom: SbomResult | undefined;
  let sbomRun: StepRun | undefined;
  let bomJson: string | undefined;

  if (options.sbom) {
    const s = options.sbom;
    const run = await runStep('sbom', ctx, async () => {
      if (s.file !== undefined) return (await import('./sbom/build-sbom.js')).readSbomFile(s.file);
      return (await import('./sbom/build-sbom.js')).buildSbom({ dir: s.dir, spec: s.spec, reproducible: s.reproducible, ...ctx });
    }, sbomSummary);
    sbom = run.result;
    bomJson = sbom?.bomJson;
    sbomRun = run;
    runs.push(run);
  }

  if (options.vulns && !ctx.signal?.aborted) {
    const v = options.vulns;
    if (v.osvDb === undefined) {
      runs.push(notRun('vulns', 'no --osv-db given: pass --osv-db PATH (a directory of OSV JSON files or an ecosystem all.zip)'));
    } else {
      const osvDb = v.osvDb;
      runs.push(
        await runStep('vulns', ctx, async () => {
          const { components, findings } = await componentsFor(options, sbom, sbomRun, ctx);
          const { matchVulns } = await import('./vulns/match.js');
          const result = await matchVulns({ components: components as PackageRef[], osvDb, ...ctx });
          return { ...result, findings: [...findings, ...result.findings] };
        }, (r) => r.summary),
      );
    }
  }

  if (options.api && !ctx.signal?.aborted) {
    const a = options.api;
    runs.push(await runStep('api', ctx, async () => (await import('./api/probe-api.js')).probeApi({ ...a, ...ctx }), (r) => r.summary));
  }

  if (options.config && !ctx.signal?.aborted) {
    const c = options.config;
    runs.push(await runStep('config', ctx, async () => (await import('./config/audit-config.js')).auditConfig({ ...c, ...ctx }), (r) => r.summary));
  }

  const interrupted = ctx.signal?.aborted === true || runs.some((r) => r.record.status === 'interrupted');
  const allFindings = uniqueIds(runs.flatMap((r) => r.findings));
  const { kept, suppressed } = filterByBaseline(allFindings, options.baseline);
  const findings = sortFindings(kept);
  const verdict = verdictOf(findings, options.failOn);
  const complete = runs.every((r) => r.record.status === 'completed');
  const stepExitCode = runs.find((r) => r.exitCode !== undefined)?.exitCode;
  return {
    data: {
      fail_on: options.failOn,
      verdict: { ...verdict, passed: verdict.passed && complete },
      complete,
      steps: runs.map((r) => r.record),
      findings,
      suppressed_by_baseline: suppressed,
      ...(bomJson !== undefined ? { sbom_file: 'sbom.cdx.json' } : {}),
    },
    ...(bomJson !== undefined ? { bomJson } : {}),
    ...(stepExitCode !== undefined ? { stepExitCode } : {}),
    interrupted,
    allFindings,
  };
}

/**
 * One finding per fingerprint (a requirements file parsed alone and through an include reports
 * the same line twice); ids that still collide across steps get a suffix, so an id names one finding.
 */
function uniqueIds(findings: Finding[]): Finding[] {
  const fingerprints = new Set<string>();
  const ids = new Set<string>();
  const out: Finding[] = [];
  for (const f of findings) {
    if (fingerprints.has(f.fingerprint)) continue;
    fingerprints.add(f.fingerprint);
    let id = f.id;
    for (let n = 2; ids.has(id); n += 1) id = `${f.id}-${n}`;
    ids.add(id);
    out.push(id === f.id ? f : { ...f, id });
  }
  return out;
}

const RANK: Record<Finding['severity'], number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

/** Worst first, then by rule and place: stable order for tables, JSON and diffs. */
function sortFindings(findings: Finding[]): Finding[] {
  const where = new Map(findings.map((f) => [f, describeLocation(f.location)]));
  return [...findings].sort(
    (a, b) =>
      RANK[a.severity] - RANK[b.severity] ||
      a.category.localeCompare(b.category) ||
      a.rule.localeCompare(b.rule) ||
      where.get(a)!.localeCompare(where.get(b)!, 'en', { numeric: true }) ||
      a.id.localeCompare(b.id),
  );
}
