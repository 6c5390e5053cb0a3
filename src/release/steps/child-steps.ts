import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { withFileSystemErrors } from '../../core/fs-errors.js';
import type { ReleaseStepResult } from '../release-report.js';
import { runChildStep } from './child.js';
import type { PipelineContext, StepDef } from './types.js';

/**
 * The steps that run another govctl command as a child process, each writing its report into
 * its own directory of the release (scan/, audit/, load/, chaos/) with its log beside it.
 *
 * Which server each one talks to: the API audit talks to the release's target (its URL on argv,
 * the admin key in GOVCTL_ADMIN_KEY, never on argv). Against the embedded default, load and chaos
 * start their own embedded reference server (--embedded: a configured context cannot stand in
 * for it) as they do when run alone: each load profile sets its own rate limit (burst needs the
 * per-key limit to engage, normal must not be throttled) and the restart probe must kill and
 * restart a server it owns. Against a --url target they use it.
 */

const STEP_TIMEOUT_MS = 30 * 60_000;
/** Variables that would point a child at another server or key than the one release-check chose. */
const CONNECTION_ENV = ['GOVCTL_URL', 'GOVCTL_CONTEXT', 'GOVCTL_ADMIN_KEY'];

function childEnv(ctx: PipelineContext, withTargetKey: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...ctx.options.child.env, NO_COLOR: '1' };
  for (const name of CONNECTION_ENV) delete env[name];
  if (withTargetKey && ctx.options.target.adminKey !== undefined) env['GOVCTL_ADMIN_KEY'] = ctx.options.target.adminKey;
  return env;
}

interface ChildSpec {
  name: string;
  dir: string;
  args: string[];
  /**
   * release: talks to the release's target (--url, and its key in the environment); own: starts
   * its own embedded server (--embedded, so no configured context can stand in for it); none.
   */
  server: 'release' | 'own' | 'none';
}

async function runSpec(ctx: PipelineContext, spec: ChildSpec): Promise<Omit<ReleaseStepResult, 'name' | 'duration_ms'>> {
  const outDir = join(ctx.releaseDir, spec.dir);
  await withFileSystemErrors('create', outDir, () => mkdir(outDir, { recursive: true }));
  const connection = spec.server === 'release' ? ['--url', ctx.options.target.url] : spec.server === 'own' ? ['--embedded'] : [];
  const globals = [...ctx.options.child.globalArgs, ...connection];
  const args = [...globals, ...spec.args, '--out', outDir];
  const log = `${spec.dir}/${spec.name}.log`;
  const result = await runChildStep({
    node: ctx.options.child.node,
    govctlBin: ctx.options.child.govctlBin,
    args,
    cwd: ctx.options.cwd,
    env: childEnv(ctx, spec.server === 'release'),
    logFile: join(ctx.releaseDir, log),
    timeoutMs: STEP_TIMEOUT_MS,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  const command = `govctl ${args.join(' ')}`;
  if (result.status === 'interrupted') return { status: 'error', reason: 'interrupted', command, exit_code: result.exitCode, log };
  const fallback = result.status === 'failed' ? `govctl ${spec.args[0]} exited 1 (its check failed): see ${log}` : `govctl exited ${result.exitCode ?? result.signal}: see ${log}`;
  return {
    status: result.status,
    ...(result.status !== 'passed' ? { reason: result.reason ?? fallback } : {}),
    command,
    exit_code: result.exitCode,
    log,
  };
}

function childStep(spec: ChildSpec, title: string): StepDef {
  return { name: spec.name, title, run: (ctx) => runSpec(ctx, spec) };
}

function skipped(name: string, title: string, reason: string): StepDef {
  return { name, title, run: async () => ({ status: 'skipped', reason }) };
}

export function childSteps(ctx: Pick<PipelineContext, 'options'>): StepDef[] {
  const o = ctx.options;
  const remote = o.target.kind === 'remote';
  const loadArgs = (profile: 'normal' | 'burst') => {
    const duration = o.loadDurations[profile];
    return ['load', '--profile', profile, ...(duration !== undefined ? ['--duration', duration] : [])];
  };
  const steps: StepDef[] = [
    childStep({ name: 'scan-secrets', dir: 'scan', args: ['scan', 'secrets', '.'], server: 'none' }, 'secret scan of the working tree'),
    childStep({ name: 'scan-patterns', dir: 'scan', args: ['scan', 'patterns', '.'], server: 'none' }, 'pattern scan of the working tree'),
    childStep({ name: 'audit-sbom', dir: 'audit', args: ['audit', '--sbom', '--dir', '.'], server: 'none' }, 'SBOM of the lockfiles'),
    o.osvDb !== undefined
      ? childStep({ name: 'audit-vulns', dir: 'audit', args: ['audit', '--vulns', '--osv-db', o.osvDb, '--dir', '.'], server: 'none' }, 'vulnerabilities (offline OSV database)')
      : skipped('audit-vulns', 'vulnerabilities', 'skipped: no --osv-db (the vulnerability audit reads an offline OSV database)'),
    childStep({ name: 'audit-api', dir: 'audit', args: ['audit', '--api', ...(o.allowRemote ? ['--allow-remote'] : [])], server: 'release' }, `API audit of ${o.target.url}`),
    o.config !== undefined
      ? childStep({ name: 'audit-config', dir: 'audit', args: ['audit', '--config', o.config], server: 'none' }, `configuration audit of ${o.config}`)
      : skipped('audit-config', 'configuration audit', 'skipped: no --config (the server configuration file to check)'),
    childStep({ name: 'load-normal', dir: 'load', args: loadArgs('normal'), server: remote ? 'release' : 'own' }, `load, profile normal${o.loadDurations.normal ? ` (${o.loadDurations.normal})` : ''}`),
    childStep({ name: 'load-burst', dir: 'load', args: loadArgs('burst'), server: remote ? 'release' : 'own' }, `load, profile burst${o.loadDurations.burst ? ` (${o.loadDurations.burst})` : ''}`),
    remote
      ? skipped('chaos-restart', 'chaos restart probe', `skipped: the restart probe kills and restarts the server; release-check cannot restart ${o.target.url} (govctl chaos --server-cmd CMD --probe restart runs the server itself and can)`)
      : childStep({ name: 'chaos-restart', dir: 'chaos', args: ['chaos', '--probe', 'restart'], server: 'own' }, 'chaos restart probe'),
  ];
  return steps;
}
