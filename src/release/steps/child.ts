import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import type { StepStatus } from '../manifest.js';

/**
 * One release-check step as a govctl child process (`node bin/govctl.js <args>`): its own exit
 * code, its own embedded server when it needs one, output kept in a log file in the release
 * directory. The child runs in its own process group, so a terminal's Ctrl-C reaches only
 * release-check, which forwards exactly one SIGINT (a second one would make the child drop its
 * cleanup: revoking keys, restarting a killed server) and, past a budget, kills the whole group.
 */

export interface ChildStepOptions {
  /** node (process.execPath, given by the cli). */
  node: string;
  /** bin/govctl.js of this govctl. */
  govctlBin: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** stdout and stderr of the child go here (created). */
  logFile: string;
  signal?: AbortSignal;
  /** After SIGINT, how long the child may take to write its partial report and clean up. */
  stopBudgetMs?: number;
  /** Hard bound on the whole run; the child is interrupted (then killed) past it. */
  timeoutMs?: number;
}

export interface ChildStepResult {
  status: StepStatus | 'interrupted';
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The child's own last error line, or what went wrong with it. */
  reason?: string;
  timedOut: boolean;
}

const DEFAULT_STOP_BUDGET_MS = 25_000;

/** govctl's exit codes, as a step status: 1 is "the checked thing failed", anything else an error. */
export function statusOfExit(code: number | null): ChildStepResult['status'] {
  if (code === 0) return 'passed';
  if (code === 1) return 'failed';
  if (code === 130 || code === 143) return 'interrupted';
  return 'error';
}

/**
 * Why a child did not pass, from its log: its `error:` line (one line, as govctl prints them),
 * else a step it says was not run, else its last warning, else its last line (a summary).
 */
export async function lastErrorLine(logFile: string): Promise<string | undefined> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const error = lines.findLast((l) => /^(govctl: )?error\b/i.test(l));
  const notRun = lines.findLast((l) => /\bnot run: /.test(l));
  const warning = lines.findLast((l) => /^warning:/i.test(l));
  return (error ?? notRun ?? warning ?? lines.at(-1))?.slice(0, 400);
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

export async function runChildStep(options: ChildStepOptions): Promise<ChildStepResult> {
  const log = await open(options.logFile, 'w');
  try {
    const child = spawn(options.node, [options.govctlBin, ...options.args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', log.fd, log.fd],
      detached: true,
    });
    let interrupted = false;
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      if (interrupted) return;
      interrupted = true;
      killGroup(child.pid, 'SIGINT');
      killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), options.stopBudgetMs ?? DEFAULT_STOP_BUDGET_MS);
    };
    const onAbort = () => stop();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) stop();
    const timeout =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            stop();
          }, options.timeoutMs);
    try {
      const { code, signal, error } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
        child.once('error', (err) => resolve({ code: null, signal: null, error: err }));
        child.once('exit', (code, signal) => resolve({ code, signal }));
      });
      // Whatever the child left running in its group (an embedded server it did not stop) ends with it.
      killGroup(child.pid, 'SIGKILL');
      if (error) return { status: 'error', exitCode: null, signal: null, reason: `could not start govctl: ${error.message}`, timedOut };
      if (timedOut) return { status: 'error', exitCode: code, signal, reason: `did not finish within ${Math.round(options.timeoutMs! / 1000)} s: interrupted`, timedOut };
      const status = signal !== null || interrupted ? 'interrupted' : statusOfExit(code);
      const reason = status === 'passed' ? undefined : status === 'interrupted' ? 'interrupted' : await lastErrorLine(options.logFile);
      return { status, exitCode: code, signal, ...(reason !== undefined ? { reason } : {}), timedOut };
    } finally {
      clearTimeout(timeout);
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  } finally {
    await log.close();
  }
}
