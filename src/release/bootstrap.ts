import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { messageOf } from '../core/errors.js';
import { redactCredentials } from '../core/url-credentials.js';

/**
 * G7, bootstrap: the time of a fresh install and first successful run, measured for real:
 *   1. `npm pack --ignore-scripts` the project into a temporary directory under `workDir`. The
 *      project is packed as built: a user installing from a registry gets a built package, so the
 *      build is not part of their bootstrap, and `prepare` would rebuild dist/ under the govctl
 *      that is running this measurement;
 *   2. `npm install --no-audit --no-fund --prefer-offline <tarball>` in a fresh directory (with
 *      its own package.json, so npm cannot climb into an enclosing project). The npm cache of the
 *      project's own install makes it work offline; native modules (better-sqlite3) that have to
 *      compile from source do, as they would for a user: that is part of a fresh install;
 *   3. the installed `node_modules/.bin/govctl health --embedded -o json`: it starts the
 *      embedded server (no configured server or key is used, whatever the environment holds),
 *      and must exit 0 with `"healthy": true`.
 * `seconds` is the wall time of the three; a failed step gives `seconds: null` and a reason that
 * names the step and ends with the tail of its stderr (credentials in URLs and tokens masked).
 * Every child runs in its own process group, which is killed on abort, on timeout and when the
 * step ends (what a step left running, a compiler or an embedded server, ends with it). The
 * temporary directory is removed afterwards. An abort returns `seconds: null` with reason
 * "interrupted ...", it does not throw.
 */

export interface BootstrapStep {
  name: string;
  seconds: number;
  ok: boolean;
}

export interface BootstrapResult {
  /** Wall time of pack + install + first run; null when a step failed (see reason). */
  seconds: number | null;
  reason?: string;
  steps: BootstrapStep[];
}

/** Progress, for the cli to show. */
export interface BootstrapEvent {
  type: 'progress';
  message: string;
}

export interface MeasureBootstrapOptions {
  /** The npm package to pack (its package.json directory). */
  projectDir: string;
  /** A directory for the tarball and the fresh install (a temporary directory is made in it and removed). */
  workDir: string;
  /** The whole environment of the children (PATH to find npm and node, HOME for npm's cache). */
  env: Record<string, string | undefined>;
  signal?: AbortSignal;
  onEvent?: (event: BootstrapEvent) => void;
  /** Bound on the whole measurement (default 15 min). */
  timeoutMs?: number;
}

export const DEFAULT_BOOTSTRAP_TIMEOUT_MS = 15 * 60_000;
/** After SIGTERM, how long a process group has before SIGKILL. */
const KILL_GRACE_MS = 3_000;
const FIRST_RUN = ['health', '--embedded', '-o', 'json'];

/** npm's error lines when it wrote some, else the last lines; masked and bounded. */
export function stderrTail(text: string, maxLines = 12, maxChars = 1500): string {
  const lines = text.split(/\r?\n/).map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  const errors = lines.filter((l) => /^npm (error|ERR!)/.test(l));
  const tail = (errors.length > 0 ? errors : lines).slice(-maxLines).join('\n');
  const masked = redactCredentials(tail)
    .replace(/(_authToken|_auth|_password|token|password|secret)(["']?\s*[=:]\s*["']?)[^\s"']+/gi, '$1$2***')
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, '$1 ***');
  return masked.length > maxChars ? `…${masked.slice(-maxChars)}` : masked;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    // The child leads its own group: this reaches npm's own children (node-gyp, make, a compiler).
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

interface ChildOutcome {
  ok: boolean;
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** Why it did not run to completion: "timed out", "interrupted", or a spawn error. */
  stopped?: string;
}

/** Runs one child in its own process group, bounded by `deadline` (performance.now()) and the signal. */
async function runChild(file: string, args: string[], cwd: string, env: Record<string, string | undefined>, deadline: number, signal: AbortSignal | undefined): Promise<ChildOutcome> {
  if (signal?.aborted) return { ok: false, exitCode: undefined, stdout: '', stderr: '', stopped: 'interrupted' };
  const remaining = deadline - performance.now();
  if (remaining <= 0) return { ok: false, exitCode: undefined, stdout: '', stderr: '', stopped: 'timed out' };
  const child = execa(file, args, { cwd, env, extendEnv: false, detached: true, reject: false, stdin: 'ignore', maxBuffer: 16 * 1024 * 1024 });
  let stopped: string | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (why: string) => {
    if (stopped !== undefined) return;
    stopped = why;
    killGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
  };
  const onAbort = () => stop('interrupted');
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => stop('timed out'), remaining);
  try {
    const result = await child;
    if (stopped === undefined && result.failed && result.exitCode === undefined && result.signal === undefined) {
      // It never started (npm not on PATH, a missing bin): execa says why.
      stopped = `could not start ${file}: ${result.originalMessage ?? result.shortMessage}`;
    }
    return {
      ok: stopped === undefined && result.exitCode === 0,
      exitCode: result.exitCode,
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      ...(stopped !== undefined ? { stopped } : {}),
    };
  } finally {
    clearTimeout(timer);
    clearTimeout(killTimer);
    signal?.removeEventListener('abort', onAbort);
    // Whatever the step left running in its group ends with it.
    killGroup(child.pid, 'SIGKILL');
  }
}

/** "npm install failed (exit 1): <tail>", "npm install timed out after 15 min", ... */
function failure(step: string, outcome: ChildOutcome, timeoutMs: number): string {
  if (outcome.stopped === 'timed out') return `${step} timed out (the bootstrap is bounded by ${Math.round(timeoutMs / 1000)} s)`;
  if (outcome.stopped === 'interrupted') return `interrupted during ${step}`;
  if (outcome.stopped !== undefined) return `${step}: ${outcome.stopped}`;
  const tail = stderrTail(outcome.stderr);
  return `${step} failed (exit ${outcome.exitCode ?? 'none'})${tail ? `: ${tail}` : ''}`;
}

/** The tarball `npm pack --json` names, else the one .tgz in the directory. */
async function packedFile(stdout: string, dir: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(stdout) as Array<{ filename?: unknown }>;
    const name = parsed[0]?.filename;
    if (typeof name === 'string' && name !== '') return join(dir, name.replace(/^@/, '').replace(/\//g, '-'));
  } catch {
    // Older npm, or noise on stdout: look in the directory.
  }
  const tgz = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.tgz'));
  return tgz.length === 1 ? join(dir, tgz[0]!) : undefined;
}

/** Why the first run is not a success, or undefined when it is: exit 0 and `"healthy": true`. */
function firstRunProblem(outcome: ChildOutcome): string | undefined {
  let doc: { healthy?: unknown; error?: { message?: unknown } | null } | undefined;
  try {
    doc = JSON.parse(outcome.stdout) as typeof doc;
  } catch {
    doc = undefined;
  }
  if (outcome.ok && doc?.healthy === true) return undefined;
  const said = typeof doc?.error?.message === 'string' ? redactCredentials(doc.error.message) : undefined;
  const tail = stderrTail(outcome.stderr, 6, 800);
  if (outcome.ok) return `govctl ${FIRST_RUN.join(' ')} exited 0 without a healthy answer${said ? `: ${said}` : ''}`;
  return `govctl ${FIRST_RUN.join(' ')} failed (exit ${outcome.exitCode ?? 'none'})${said ? `: ${said}` : tail ? `: ${tail}` : ''}`;
}

const round = (s: number): number => Math.round(s * 1000) / 1000;

/** Measures a fresh install and first run of `projectDir`; see the module comment. */
export async function measureBootstrap(options: MeasureBootstrapOptions): Promise<BootstrapResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_BOOTSTRAP_TIMEOUT_MS;
  const started = performance.now();
  const deadline = started + timeoutMs;
  const emit = (message: string) => options.onEvent?.({ type: 'progress', message });
  const steps: BootstrapStep[] = [];
  let dir: string;
  try {
    dir = await mkdtemp(join(options.workDir, 'bootstrap-'));
  } catch (err) {
    return { seconds: null, reason: `cannot create a temporary directory in ${options.workDir}: ${messageOf(err)}`, steps };
  }

  /** Runs one timed step; returns its outcome. */
  const step = async (name: string, file: string, args: string[], cwd: string): Promise<ChildOutcome> => {
    const at = performance.now();
    const outcome = await runChild(file, args, cwd, options.env, deadline, options.signal);
    steps.push({ name, seconds: round((performance.now() - at) / 1000), ok: outcome.ok });
    return outcome;
  };
  const failed = (reason: string): BootstrapResult => ({ seconds: null, reason, steps });

  try {
    const packDir = join(dir, 'pack');
    const appDir = join(dir, 'app');
    await Promise.all([mkdir(packDir), mkdir(appDir)]);

    emit(`npm pack ${options.projectDir}`);
    const pack = await step('npm pack', 'npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], options.projectDir);
    if (!pack.ok) return failed(failure('npm pack', pack, timeoutMs));
    const tarball = await packedFile(pack.stdout, packDir);
    if (tarball === undefined) return failed(`npm pack succeeded but left no tarball in ${packDir}`);
    emit(`packed in ${steps.at(-1)!.seconds.toFixed(1)} s; npm install into a fresh directory (native modules may compile from source)`);

    // Its own package.json: without one, npm would install into the nearest enclosing project.
    await writeFile(join(appDir, 'package.json'), `${JSON.stringify({ name: 'govctl-bootstrap', version: '0.0.0', private: true }, null, 2)}\n`);
    const install = await step('npm install', 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], appDir);
    if (!install.ok) return failed(failure('npm install', install, timeoutMs));
    emit(`installed in ${steps.at(-1)!.seconds.toFixed(1)} s; first run: govctl ${FIRST_RUN.join(' ')}`);

    const run = await step('first run', join(appDir, 'node_modules', '.bin', 'govctl'), FIRST_RUN, appDir);
    if (run.stopped !== undefined) return failed(failure('the first run', run, timeoutMs));
    const problem = firstRunProblem(run);
    if (problem !== undefined) {
      steps.at(-1)!.ok = false;
      return failed(`first run: ${problem}`);
    }
    const seconds = round((performance.now() - started) / 1000);
    emit(`first run healthy; bootstrap took ${seconds.toFixed(1)} s`);
    return { seconds, steps };
  } catch (err) {
    return failed(`bootstrap could not run: ${messageOf(err)}`);
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
