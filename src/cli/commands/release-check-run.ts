import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePositiveDuration } from '../../core/duration.js';
import { ExitCode, InvalidInputError, UsageError } from '../../core/errors.js';
import { ensureWritableDir, withFileSystemErrors } from '../../core/fs-errors.js';
import type { ReleaseEvent } from '../../release/pipeline.js';
import type { CliApp } from '../app.js';
import { gateFailed } from './gate-run.js';
import { releaseVerifyCommand } from './release-run.js';

export interface ReleaseCheckFlags {
  releaseVersion?: string;
  quick?: boolean;
  gates: string;
  strict?: boolean;
  signKey?: string;
  osvDb?: string;
  config?: string;
  allowRemote?: boolean;
  coverage?: string;
  skipBootstrap?: boolean;
  out: string;
  force?: boolean;
  verify?: string;
  publicKey?: string;
  loadDuration?: string;
  bootstrapTimeout?: string;
}

/** bin/govctl.js of this govctl: three levels above src/cli/commands (and dist/cli/commands). */
const GOVCTL_BIN = fileURLToPath(new URL('../../../bin/govctl.js', import.meta.url));
/** --quick: long enough for a p99 and an error rate, short enough for CI. */
const QUICK_DURATIONS = { normal: '10s', burst: '5s' } as const;
const VERSION = /^[0-9A-Za-z][0-9A-Za-z._+-]{0,99}$/;
const RUN_ONLY_FLAGS: Array<[keyof ReleaseCheckFlags, string]> = [
  ['releaseVersion', '--release-version'],
  ['quick', '--quick'],
  ['signKey', '--sign-key'],
  ['osvDb', '--osv-db'],
  ['config', '--config'],
  ['coverage', '--coverage'],
  ['skipBootstrap', '--skip-bootstrap'],
  ['force', '--force'],
];

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function mustExist(path: string, flag: string): Promise<string> {
  try {
    await stat(path);
  } catch (err) {
    throw new InvalidInputError(`${flag} ${path} cannot be read: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  return path;
}

/** package.json's version, else `git describe`, else the time: the release is always named. */
async function projectVersion(cwd: string, signal: AbortSignal): Promise<string> {
  const pkg = await readFile(join(cwd, 'package.json'), 'utf8').then(
    (text) => (JSON.parse(text) as { version?: unknown }).version,
    () => undefined,
  );
  if (typeof pkg === 'string' && VERSION.test(pkg)) return pkg;
  const { execa } = await import('execa');
  const described = await execa('git', ['-C', cwd, 'describe', '--tags', '--always', '--dirty'], { reject: false, cancelSignal: signal, env: { GIT_OPTIONAL_LOCKS: '0' } });
  const text = String(described.stdout ?? '').trim();
  if (described.exitCode === 0 && VERSION.test(text)) return text;
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** The release directory must be new or empty; an existing non-empty one only with --force. */
async function checkReleaseDir(dir: string, force: boolean): Promise<boolean> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw new InvalidInputError(`cannot read the release directory ${dir}: ${err.code ?? err.message}`);
  });
  if (entries.length > 0 && !force) {
    throw new InvalidInputError(`the release directory ${dir} exists and is not empty`, {
      hint: 'pass --force to replace it, or another --release-version (evidence of an earlier run is never overwritten silently)',
    });
  }
  return entries.length > 0;
}

async function createReleaseDir(dir: string, replace: boolean): Promise<void> {
  if (replace) await withFileSystemErrors('remove', dir, () => rm(dir, { recursive: true, force: true }));
  await withFileSystemErrors('create', dir, () => mkdir(dir, { recursive: true }));
  await ensureWritableDir(dir, '--out');
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

function progress(app: CliApp): (event: ReleaseEvent) => void {
  const s = app.style;
  return (event) => {
    if (event.type === 'warning') app.warn(event.message);
    else if (event.type === 'info') app.info(`  ${event.message}`);
    else if (event.type === 'step-start') app.info(`[${event.index}/${event.total}] ${event.name}: ${event.title} ...`);
    else {
      const colour = event.status === 'passed' ? s.green : event.status === 'skipped' ? s.yellow : s.red;
      app.info(`[${event.index}/${event.total}] ${event.name} ${colour(event.status)} (${seconds(event.duration_ms)})${event.reason ? `: ${event.reason}` : ''}`);
    }
  };
}

export async function releaseCheckCommand(app: CliApp, flags: ReleaseCheckFlags): Promise<number> {
  if (flags.verify !== undefined) {
    const runFlag = RUN_ONLY_FLAGS.find(([key]) => flags[key] !== undefined && flags[key] !== false);
    if (runFlag) throw new UsageError(`${runFlag[1]} applies to a release-check run, not to --verify`);
    return releaseVerifyCommand(app, flags.verify, flags.publicKey !== undefined ? { publicKey: flags.publicKey } : {});
  }
  if (flags.publicKey !== undefined) throw new UsageError('--public-key goes with --verify DIR');
  const cwd = app.io.cwd;
  const strict = flags.strict === true;

  // Bad input is found before any step runs: a long pipeline must not fail at its end on a typo.
  const { loadGateFile } = await import('../../gate/schema.js');
  const gates = await loadGateFile(flags.gates, { cwd });
  const signKey = flags.signKey !== undefined ? resolve(cwd, flags.signKey) : undefined;
  if (signKey !== undefined) {
    const { loadPrivateKey } = await import('../../release/signing.js');
    for (const warning of (await loadPrivateKey(signKey)).warnings) app.warn(warning);
  }
  const osvDb = flags.osvDb !== undefined ? await mustExist(resolve(cwd, flags.osvDb), '--osv-db') : undefined;
  const config = flags.config !== undefined ? await mustExist(resolve(cwd, flags.config), '--config') : undefined;
  let coverage: { file: string; given: boolean } | undefined;
  if (flags.coverage !== undefined) coverage = { file: await mustExist(resolve(cwd, flags.coverage), '--coverage'), given: true };
  else if (await exists(join(cwd, 'coverage', 'coverage-summary.json'))) coverage = { file: join(cwd, 'coverage', 'coverage-summary.json'), given: false };
  if (flags.loadDuration !== undefined) parsePositiveDuration(flags.loadDuration, '--load-duration');
  const loadDurations = flags.loadDuration !== undefined ? { normal: flags.loadDuration, burst: flags.loadDuration } : flags.quick ? { ...QUICK_DURATIONS } : {};
  const bootstrapTimeoutMs = flags.bootstrapTimeout !== undefined ? parsePositiveDuration(flags.bootstrapTimeout, '--bootstrap-timeout') : undefined;
  const version = flags.releaseVersion ?? (await projectVersion(cwd, app.signal));
  if (!VERSION.test(version)) {
    throw new InvalidInputError(`invalid --release-version "${version}": expected letters, digits, ".", "_", "+" or "-" (it names a directory)`);
  }
  const settings = await app.clientSettings();
  const releaseDir = resolve(cwd, flags.out, `release-${version}`);
  const replace = await checkReleaseDir(releaseDir, flags.force === true);

  const connection = await app.connection();
  const target = await app.target(undefined, connection);
  // Unreachable, or not a governance server: said once (exit 3), not by every step in turn.
  const health = await (await app.clientFor(target, { settings, signal: app.signal })).health();
  if (!health.healthy) app.warn(`${target.url} is not healthy before the run (HTTP ${health.http_status}); the steps will show it`);
  await createReleaseDir(releaseDir, replace);
  const g = app.globals;
  app.info(`release-check ${version}: against ${target.url} (${target.kind}), writing ${releaseDir}`);

  const { runReleasePipeline } = await import('../../release/pipeline.js');
  const result = await runReleasePipeline({
    cwd,
    releaseDir,
    version,
    target: { url: target.url, kind: target.kind, ...(target.adminKey !== undefined ? { adminKey: target.adminKey } : {}), ...(health.version ? { version: health.version } : {}) },
    quick: flags.quick === true,
    loadDurations,
    ...(osvDb !== undefined ? { osvDb } : {}),
    ...(config !== undefined ? { config } : {}),
    allowRemote: flags.allowRemote === true,
    ...(coverage ? { coverage } : {}),
    skipBootstrap: flags.skipBootstrap === true,
    ...(bootstrapTimeoutMs !== undefined ? { bootstrapTimeoutMs } : {}),
    gates,
    strict,
    ...(signKey !== undefined ? { signKey } : {}),
    client: { timeoutMs: settings.timeoutMs, ...(settings.caCert !== undefined ? { caCert: settings.caCert } : {}), insecure: g.insecure },
    child: {
      node: process.execPath,
      govctlBin: GOVCTL_BIN,
      env: app.io.env,
      globalArgs: ['--timeout', g.timeout, ...(g.caCert !== undefined ? ['--ca-cert', resolve(cwd, g.caCert)] : []), ...(g.insecure ? ['--insecure'] : []), ...(g.verbose ? ['--verbose'] : [])],
    },
    signal: app.signal,
    onEvent: progress(app),
  });

  if (app.json) {
    app.printJson({
      release_dir: releaseDir,
      version,
      interrupted: result.interrupted,
      steps: result.steps,
      evaluation: result.evaluation ?? null,
      manifest: result.manifest.manifestPath,
      signature: result.manifest.signaturePath ?? null,
      key_sha256: result.manifest.keyFingerprint ?? null,
    });
  } else if (result.evaluation) {
    const { renderGate } = await import('../render/gate-tables.js');
    app.print(renderGate(result.evaluation, app.style, { width: app.tableWidth, cwd, strict, wide: g.output === 'wide' }));
  }
  app.info(`release: ${releaseDir} (manifest.json${result.manifest.signaturePath ? ' and manifest.sig' : ', unsigned'})`);
  if (result.interrupted) return ExitCode.interrupted;
  const gates_ = result.steps.find((s) => s.name === 'gates');
  if (!result.evaluation) {
    app.warn(`the gates were not evaluated: ${gates_?.reason ?? 'unknown reason'}`);
    return ExitCode.failed;
  }
  return gateFailed(result.evaluation, strict) ? ExitCode.failed : ExitCode.ok;
}
