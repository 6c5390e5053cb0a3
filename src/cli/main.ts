import { Command, CommanderError, Option } from 'commander';
import { ExitCode, isGovctlError, messageOf } from '../core/errors.js';
import { govctlVersion } from '../core/version.js';
import { CliApp, printable } from './app.js';
import type { Registry } from './command.js';
import { COMMAND_GROUPS } from './commands/index.js';
import { configureHelpLayout, describeParseError, trackParseErrors } from './help.js';
import { processIO, type CliIO } from './io.js';
import { makeStyle, useColor } from './render/style.js';

export function buildProgram(io: CliIO, signal: AbortSignal): { program: Command; registry: Registry } {
  const program = new Command('govctl');
  const registry: Registry = { app: new CliApp(io, signal, program), exit: { code: ExitCode.ok } };
  configureHelpLayout(program);
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
    .addOption(new Option('-o, --output <format>', 'output format (table fits the terminal, cutting with …; wide never cuts)').choices(['table', 'wide', 'json', 'sarif']).default('table'))
    .option('--no-color', 'disable colour (also NO_COLOR; off when stdout is not a terminal)')
    .option('-q, --quiet', 'print results only, no progress or notes')
    .option('--verbose', 'show details, and stack traces on errors')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Examples:
  govctl serve --port 0 -o json
  govctl health --url http://127.0.0.1:8080
  govctl config set-context local --url http://127.0.0.1:8080 --admin-key-env GOVCTL_ADMIN_KEY
  govctl keys create --name ci -q

Exit codes: 0 ok, 1 failed (a check, threshold or finding), 2 bad usage or input, 3 unreachable,
4 admin key refused, 5 not found, 70 internal error, 130 interrupted (Ctrl-C), 141 output pipe
closed, 143 terminated (SIGTERM).`,
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Parse errors are printed by reportError, in the one error style with a hint.
      outputError: () => {},
    });

  for (const register of COMMAND_GROUPS) register(program, registry);
  trackParseErrors(program);
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
 * server, removing ballast) first (a second signal still ends either at once). `release-check`
 * waits for its running step (a load or chaos child) to do the same, then writes its manifest.
 */
const STOP_BUDGET_MS: Readonly<Record<string, number>> = { load: 15_000, chaos: 20_000, 'release-check': 30_000 };

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
  let actionPath: string | undefined;
  let pipeClosed = false;
  onClosedPipe = () => {
    pipeClosed = true;
    controller.abort(new Error('output closed'));
  };
  watchClosedPipe(io.stdout);
  watchClosedPipe(io.stderr);
  program.hook('preAction', (_program, actionCommand) => {
    const path = commandPath(actionCommand);
    actionPath = path;
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
    if (pipeClosed) code = CLOSED_PIPE_EXIT;
    else if (received !== undefined && !signalIsStop && !badUsage) code = SIGNAL_EXIT[received];
    else code = reportError(err, io, argv.includes('--verbose'), program, actionPath);
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
  return pipeClosed ? CLOSED_PIPE_EXIT : code;
}

/** An error line is one line: a newline inside a server's detail must not start a fake one. */
function oneLine(text: string): string {
  return text.replace(/\r?\n/g, '\\n');
}

/** How a shell reports a process that wrote to a closed pipe (128 + SIGPIPE). */
export const CLOSED_PIPE_EXIT = 141;

/** Streams already watched for a closed pipe: run() may be called many times in one process. */
const watchedStreams = new WeakSet<object>();
/** What the current run does when its output pipe closes (`govctl … | head`). */
let onClosedPipe: () => void = () => {};

/**
 * A reader that went away (`| head`) is not an error: the write fails with EPIPE, which would
 * otherwise surface as an unhandled 'error' event with a stack. The run is told, stops, and ends quietly.
 */
function watchClosedPipe(stream: NodeJS.WritableStream): void {
  if (watchedStreams.has(stream)) return;
  watchedStreams.add(stream);
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') onClosedPipe();
    else throw err;
  });
}

function reportError(err: unknown, io: CliIO, verbose: boolean, program: Command, actionPath: string | undefined): number {
  const style = makeStyle(useColor(false, io.env, program.opts()['color'] !== false));
  const errorLine = (message: string, hint: string | undefined) => {
    io.stderr.write(`${style.red('govctl: error:')} ${printable(oneLine(message))}\n`);
    if (hint) io.stderr.write(`  ${style.dim('hint:')} ${printable(oneLine(hint))}\n`);
  };
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      return ExitCode.ok;
    }
    if (err.exitCode === 0) return ExitCode.ok;
    const { message, hint } = describeParseError(err);
    errorLine(message, hint);
    if (verbose && err.stack) io.stderr.write(`${printable(err.stack)}\n`);
    return ExitCode.usage;
  }
  // Messages carry server- and tenant-supplied text (details, names) and user-given URLs.
  if (isGovctlError(err)) {
    // Bad usage or input (exit 2) with nothing more specific to say points at the command's help.
    const hint = err.hint ?? (err.exitCode === ExitCode.usage && actionPath ? `see govctl ${actionPath} --help` : undefined);
    errorLine(err.message, hint);
    if (verbose && err.stack) io.stderr.write(`${printable(err.stack)}\n`);
    return err.exitCode;
  }
  io.stderr.write(`${style.red('govctl: internal error:')} ${printable(oneLine(messageOf(err)))}\n`);
  io.stderr.write('  this is a bug in govctl; please report it with the output below\n');
  if (err instanceof Error && err.stack) io.stderr.write(`${printable(err.stack)}\n`);
  return ExitCode.internal;
}
