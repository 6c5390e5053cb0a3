import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AuditEvent, AuditStepName } from '../../audit/types.js';
import type { AuditOptions } from '../../audit/runner.js';
import { writeFileDurable } from '../../core/durable-write.js';
import { ExitCode, UsageError } from '../../core/errors.js';
import { ensureWritableDir, ensureWritableFile, withFileSystemErrors } from '../../core/fs-errors.js';
import { buildReport, newRunId, writeReport, type ReportTarget, type RunStatus } from '../../core/report.js';
import type { FailOn } from '../../core/verdict.js';
import type { CliApp } from '../app.js';

export interface AuditFlags {
  sbom?: string | true;
  dir: string;
  spec: '1.5' | '1.6';
  reproducible?: boolean;
  vulns?: boolean;
  osvDb?: string;
  api?: string | true;
  allowRemote?: boolean;
  config?: string;
  environment?: string;
  failOn: FailOn;
  baseline?: string;
  writeBaseline?: string;
  out: string;
}

const STEP_START: Record<AuditStepName, string> = {
  sbom: 'reading lockfiles for the SBOM',
  vulns: 'matching components against the OSV database',
  api: 'probing the API',
  config: 'checking the configuration',
};

/** Flags that only mean something beside another one: said at once, not silently ignored. */
function checkCombinations(flags: AuditFlags): void {
  if (flags.sbom === undefined && !flags.vulns && flags.osvDb === undefined && flags.api === undefined && flags.config === undefined) {
    throw new UsageError('nothing to audit: pass --sbom, --vulns, --api or --config (they combine)', {
      hint: 'e.g. govctl audit --sbom --vulns --osv-db osv/ --api',
    });
  }
  if (flags.environment !== undefined && flags.config === undefined) throw new UsageError('--environment applies to --config: pass the configuration file to check');
  if (flags.allowRemote && flags.api === undefined) throw new UsageError('--allow-remote applies to --api');
  if (flags.reproducible && flags.sbom !== true) {
    throw new UsageError(flags.sbom === undefined ? '--reproducible applies to --sbom (building an SBOM)' : '--reproducible applies to building an SBOM, not to reading --sbom FILE');
  }
}

/** The --api server: its own URL taking --url's place, or the configured (else embedded) server. */
async function apiTarget(app: CliApp, flags: AuditFlags) {
  const given = typeof flags.api === 'string' ? flags.api : undefined;
  const { sameServer } = await import('../../config/url.js');
  if (given !== undefined && app.globals.url !== undefined && !sameServer(given, app.globals.url)) {
    throw new UsageError(`--api ${given} and --url ${app.globals.url} name different servers: pass one`);
  }
  const connection = await app.connection(given !== undefined ? { url: given } : {});
  // Said before any step runs (the probe core checks again): probing someone else's server is a choice.
  if (connection.url !== undefined && !flags.allowRemote) {
    const { isLoopbackHost } = await import('../../audit/api/probe-api.js');
    const host = URL.canParse(connection.url) ? new URL(connection.url).hostname.replace(/^\[|\]$/g, '') : '';
    if (host !== '' && !isLoopbackHost(host)) {
      throw new UsageError(`--api would probe ${host}, which is not a loopback address`, { hint: 'pass --allow-remote to probe it (at most a few hundred requests)' });
    }
  }
  const target = await app.target(undefined, connection);
  if (target.adminKey === undefined) {
    app.info('api: no admin key for this server: the probes that need a user key (admin route refusal, rate limit) are skipped; set GOVCTL_ADMIN_KEY or use a context');
  }
  return target;
}

export async function auditCommand(app: CliApp, flags: AuditFlags): Promise<number> {
  checkCombinations(flags);
  const cwd = app.io.cwd;
  const dir = resolve(cwd, flags.dir);
  // Destinations are checked before any work, so a bad one never throws a finished audit away.
  const out = resolve(cwd, flags.out);
  await ensureWritableDir(out, '--out');
  const baselineOut = flags.writeBaseline === undefined ? undefined : resolve(cwd, flags.writeBaseline);
  if (baselineOut !== undefined) await ensureWritableFile(baselineOut, true);

  const { readBaseline, writeBaseline } = await import('../../core/baseline.js');
  const baseline = flags.baseline ? await readBaseline(resolve(cwd, flags.baseline)) : undefined;
  const { loadFingerprintKey } = await import('../../core/fingerprint-key.js');
  const key = await loadFingerprintKey(dir, app.io.env);
  if (key.source === 'ephemeral') app.warn(`${key.reason}: fingerprints of this run are not stable (baselines will not match); set GOVCTL_FINGERPRINT_KEY`);

  let target: Awaited<ReturnType<typeof apiTarget>> | undefined;
  let reportTarget: ReportTarget | undefined;
  const options: AuditOptions = { fingerprintKey: key.key, failOn: flags.failOn, signal: app.signal, ...(baseline ? { baseline } : {}) };
  if (flags.sbom !== undefined) {
    options.sbom = { dir, spec: flags.spec, reproducible: flags.reproducible === true, ...(flags.sbom !== true ? { file: resolve(cwd, flags.sbom) } : {}) };
  }
  if (flags.vulns || flags.osvDb !== undefined) {
    options.vulns = { dir, spec: flags.spec, ...(flags.osvDb !== undefined ? { osvDb: resolve(cwd, flags.osvDb) } : {}) };
  }
  if (flags.api !== undefined) {
    target = await apiTarget(app, flags);
    const settings = await app.clientSettings();
    options.api = {
      url: target.url,
      ...(target.adminKey !== undefined ? { adminToken: target.adminKey } : {}),
      allowRemote: flags.allowRemote === true,
      timeoutMs: settings.timeoutMs,
      insecure: app.globals.insecure,
      ...(settings.caCert !== undefined ? { caCert: settings.caCert } : {}),
    };
    reportTarget = { url: target.url, kind: target.kind };
  }
  if (flags.config !== undefined) {
    options.config = { file: flags.config, cwd, env: app.io.env, ...(flags.environment !== undefined ? { environment: flags.environment } : {}) };
  }
  options.onEvent = (event: AuditEvent) => {
    if (event.type === 'warning') app.warn(`${event.step}: ${event.message}`);
    else if (event.type === 'progress') app.info(`${event.step}: ${event.message}`);
    else if (event.phase === 'start') app.info(`${event.step}: ${STEP_START[event.step]}`);
    else if (event.message) app.info(`${event.step}: ${event.message}`);
  };

  const { runAudit } = await import('../../audit/runner.js');
  const startedAt = new Date();
  const outcome = await runAudit(options);
  const finishedAt = new Date();
  const data = outcome.data;
  const status: RunStatus = outcome.interrupted ? 'interrupted' : data.verdict.failing > 0 ? 'failed' : data.complete ? 'passed' : 'error';
  const runId = newRunId(startedAt);
  const report = buildReport('audit', { id: runId, started_at: startedAt.toISOString(), finished_at: finishedAt.toISOString(), status }, data, reportTarget);

  await withFileSystemErrors('write the report into', out, async () => {
    // The SBOM first: audit.json names it, so it must exist when audit.json does.
    if (outcome.bomJson !== undefined) await writeFileDurable(join(out, runId, 'sbom.cdx.json'), outcome.bomJson);
    const path = await writeReport(out, 'audit', report);
    app.info(`report: ${path}${outcome.bomJson !== undefined ? `, SBOM: ${join(out, runId, 'sbom.cdx.json')}` : ''}`);
  });
  if (baselineOut !== undefined) {
    if (!data.complete) app.warn('the baseline was not written: the audit is incomplete');
    else {
      await writeBaseline(baselineOut, outcome.allFindings);
      app.info(`baseline of ${outcome.allFindings.length} finding(s) written to ${flags.writeBaseline}`);
    }
  }

  const output = app.globals.output;
  if (output === 'json') app.printJson(report);
  else if (output === 'sarif') {
    const { toSarif } = await import('../../core/sarif.js');
    app.printJson(toSarif(data.findings, { srcRoot: pathToFileURL(join(dir, '/')).href }));
  } else {
    const { renderAudit } = await import('../render/audit-tables.js');
    app.print(renderAudit(data, app.style, { width: app.tableWidth, wide: output === 'wide' }));
  }

  if (outcome.interrupted) return ExitCode.interrupted;
  if (outcome.stepExitCode !== undefined) return outcome.stepExitCode;
  return data.verdict.failing > 0 ? ExitCode.failed : ExitCode.ok;
}
