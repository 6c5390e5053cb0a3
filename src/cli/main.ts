import { Command, CommanderError, Option } from 'commander';
import { ExitCode, isGovctlError, messageOf } from '../core/errors.js';
import { govctlVersion } from '../core/version.js';
import { CliApp, printable } from './app.js';
import type { Registry } from './command.js';
import { COMMAND_GROUPS } from './commands/index.js';
import { processIO, type CliIO } from './io.js';
import { makeStyle, useColor } from './render/style.js';

export function buildProgram(io: CliIO, signal: AbortSignal): { program: Command; registry: Registry } {
  const program = new Command('govctl');
  const registry: Registry = { app: new CliApp(io, signal, program), exit: { code: ExitCode.ok } };
  const style = () => makeStyle(useColor(false, io.env, program.opts()['color'] !== false));
  program
    .description('Harden and operate an AI governance server.')
    .version(govctlVersion(), '-V, --version', 'print the govctl version')
    .addOption(new Option('--url <url>', 'governance server URL (env GOVCTL_URL; else the context)'))
    .addOption(new Option('--admin-key <key>', 'admin API key (prefer env GOVCTL_ADMIN_KEY: a flag lands in shell history)'))
    .addOption(new Option('--context <name>', 'use this context from the config file (env GOVCTL_CONTEXT)'))
    .option('--embedded', 'use a temporary embedded reference server, discarded at exit (health does so when no server is configured)')
    .option('--timeout <duration>', 'timeout, e.g. 5s (more than 0)', '10s')
    .option('--ca-cert <file>', 'trust this PEM certificate authority for TLS')
    .option('--insecure', 'do not verify TLS certificates (dangerous; warns)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'sarif']).default('table'))
    .option('--no-color', 'disable colour (also NO_COLOR; off when stdout is not a terminal)')
    .option('-q, --quiet', 'print results only, no progress or notes')
    .option('--verbose', 'show details, and stack traces on errors')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(style().red(printable(text))),
    });

  for (const register of COMMAND_GROUPS) register(program, registry);
  return { program, registry };
}

/** The exit code a signal ends govctl with: 128 + its number, as shells report it. */
const SIGNAL_EXIT = { SIGINT: ExitCode.interrupted, SIGTERM: ExitCode.terminated } as const;
type HandledSignal = keyof typeof SIGNAL_EXIT;

/** After the first signal, the longest govctl takes to end (cores stop, cleanups are bounded). */
export const STOP_WITHIN_MS = 2_000;

/**
 * Commands whose normal end is a signal: `serve` finishes in-flight requests, commits the audit
 * log and exits 0, however long that takes (a forced exit mid-commit would lose a decision).
 */
const STOPPED_BY_SIGNAL = new Set(['serve']);

/**
 * Commands allowed longer than STOP_WITHIN_MS after a signal: `load` revokes the API keys it
 * created and writes its partial report; `chaos` also rolls its fault back (restarting a killed
 * server, removing ballast) first (a second signal still ends either at once).
 */
const STOP_BUDGET_MS: Readonly<Record<string, number>> = { load: 15_000, chaos: 20_000 };

/**
 * Ends govctl at once by the signal itself, its default action restored: shells report 130 or 143
 * all the same, and unlike process.exit() it cannot hang on I/O that never returns (process.exit
 * waits for a worker thread stuck in, say, an open() of a FIFO). Child processes started with
 * cleanup (execa) are still told to stop by signal-exit, which re-raises the signal after.
 */
function dieBy(signal: HandledSignal, handler: (signal: NodeJS.Signals) => void): void {
  process.off('SIGINT', handler);
  process.off('SIGTERM', handler);
  process.kill(process.pid, signal);
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Runs govctl with `argv` (as process.argv) and returns the exit code. Ends the process itself
 * only when a signal is not honoured in time: a second signal, or STOP_WITHIN_MS after the first.
 */
export async function run(argv: string[], io: CliIO = processIO()): Promise<number> {
  const controller = new AbortController();
  const { program, registry } = buildProgram(io, controller.signal);
  let signalIsStop = false;
  let stopBudgetMs = STOP_WITHIN_MS;
  program.hook('preAction', (_program, actionCommand) => {
    const path = commandPath(actionCommand);
    signalIsStop = STOPPED_BY_SIGNAL.has(path);
    stopBudgetMs = STOP_BUDGET_MS[path] ?? STOP_WITHIN_MS;
  });
  let received: HandledSignal | undefined;
  let said = false;
  const sayInterrupted = () => {
    if (!said) io.stderr.write('govctl: interrupted\n');
    said = true;
  };
  let watchdog: NodeJS.Timeout | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    const name: HandledSignal = signal === 'SIGTERM' ? 'SIGTERM' : 'SIGINT';
    if (received !== undefined) {
      io.stderr.write('govctl: interrupted again, exiting now\n');
      dieBy(name, onSignal);
      return;
    }
    received = name;
    controller.abort(signal);
    if (signalIsStop) return;
    // The backstop: whatever did not honour the signal (a blocked read, a slow cleanup) does
    // not keep govctl alive past the bound. Unref'd once run() returns (see finally).
    watchdog = setTimeout(() => {
      sayInterrupted();
      dieBy(name, onSignal);
    }, stopBudgetMs);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let code: number;
  let badUsage = false;
  try {
    await program.parseAsync(argv);
    code = registry.exit.code;
  } catch (err) {
    badUsage = err instanceof CommanderError;
    // Whatever an interrupted operation threw (an aborted request, a cancelled child), the signal is the cause.
    code = received !== undefined && !signalIsStop && !badUsage ? SIGNAL_EXIT[received] : reportError(err, io, argv.includes('--verbose'), program);
  }
  try {
    const finished = await registry.app.runCleanups();
    // A cleanup that overran its budget may still hold the event loop (a child, a socket): do not wait for it.
    if (!finished) setTimeout(() => process.exit(code), 250).unref();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    watchdog?.unref();
  }
  if (received !== undefined && !signalIsStop && !badUsage) {
    // Interrupted: whatever the command returned (a partial result, a stopped --follow), say so once.
    sayInterrupted();
    return SIGNAL_EXIT[received];
  }
  return code;
}

/** An error line is one line: a newline inside a server's detail must not start a fake one. */
function oneLine(text: string): string {
  return text.replace(/\r?\n/g, '\\n');
}

function reportError(err: unknown, io: CliIO, verbose: boolean, program: Command): number {
  const style = makeStyle(useColor(false, io.env, program.opts()['color'] !== false));
  if (err instanceof CommanderError) {
    // Commander already printed its message (and a suggestion for a mistyped command).
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      return ExitCode.ok;
    }
    return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  // Messages carry server- and tenant-supplied text (details, names) and user-given URLs.
  if (isGovctlError(err)) {
    io.stderr.write(`${style.red('govctl: error:')} ${printable(oneLine(err.message))}\n`);
    if (err.hint) io.stderr.write(`  ${style.dim('hint:')} ${printable(oneLine(err.hint))}\n`);
    if (verbose && err.stack) io.stderr.write(`${printable(err.stack)}\n`);
    return err.exitCode;
  }
  io.stderr.write(`${style.red('govctl: internal error:')} ${printable(oneLine(messageOf(err)))}\n`);
  io.stderr.write('  this is a bug in govctl; please report it with the output below\n');
  if (err instanceof Error && err.stack) io.stderr.write(`${printable(err.stack)}\n`);
  return ExitCode.internal;
}
