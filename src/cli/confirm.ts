import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { ExitCode, UsageError } from '../core/errors.js';
import type { CliApp } from './app.js';

/** The flags every destructive command takes. */
export interface DestructiveFlags {
  yes?: boolean;
  dryRun?: boolean;
}

/** Adds --yes and --dry-run to a destructive command. */
export function destructive(command: Command, dryRunHelp = 'show what would happen, change nothing'): Command {
  return command.option('-y, --yes', 'do not ask for confirmation').option('--dry-run', dryRunHelp);
}

/**
 * Asks before a destructive step, `what` being e.g. 'revoke key "ci" (id)'. --yes skips the
 * question; without a terminal to ask on, the command refuses (exit 2) rather than guess.
 */
export async function confirm(app: CliApp, what: string, flags: DestructiveFlags, consequence?: string): Promise<boolean> {
  if (flags.yes) return true;
  if (!app.io.stdinIsTTY) {
    throw new UsageError(`refusing to ${what} without confirmation`, {
      hint: 'pass --yes to confirm (stdin is not a terminal, so govctl cannot ask)',
    });
  }
  const question = `${what.charAt(0).toUpperCase()}${what.slice(1)}${consequence ? `: ${consequence}` : ''}?`;
  const rl = createInterface({ input: app.io.stdin, output: app.io.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `, { signal: app.signal });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Says what a --dry-run would have done; nothing is changed. */
export function dryRun(app: CliApp, what: string, plan: Record<string, unknown>): number {
  if (app.json) app.printJson({ dry_run: true, ...plan });
  else app.print(`dry run: would ${what}`);
  return ExitCode.ok;
}

/** The user said no: nothing changed, and the asked-for thing was not done. */
export function cancelled(app: CliApp): number {
  app.info('cancelled; nothing was changed');
  return ExitCode.failed;
}
