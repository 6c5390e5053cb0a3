import { Command, CommanderError, Option } from 'commander';
import { ExitCode, isGovctlError, messageOf } from '../core/errors.js';
import { govctlVersion } from '../core/version.js';
import { CliApp } from './app.js';
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
    .addOption(new Option('--url <url>', 'governance server URL (env GOVCTL_URL; default: the embedded server)'))
    .addOption(new Option('--admin-key <key>', 'admin API key (prefer env GOVCTL_ADMIN_KEY: a flag lands in shell history)'))
    .addOption(new Option('--context <name>', 'use this context from the config file (env GOVCTL_CONTEXT)'))
    .option('--timeout <duration>', 'per-request timeout, e.g. 5s', '10s')
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
      outputError: (text, write) => write(style().red(text)),
    });

  for (const register of COMMAND_GROUPS) register(program, registry);
  return { program, registry };
}

/** Runs govctl with `argv` (as process.argv) and returns the exit code; never calls process.exit. */
export async function run(argv: string[], io: CliIO = processIO()): Promise<number> {
  const controller = new AbortController();
  const { program, registry } = buildProgram(io, controller.signal);
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts += 1;
    if (interrupts > 1) {
      io.stderr.write('govctl: interrupted again, exiting now\n');
      process.exit(ExitCode.interrupted);
    }
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await program.parseAsync(argv);
    return registry.exit.code;
  } catch (err) {
    // Whatever an interrupted operation threw (an aborted request, a cancelled child), Ctrl-C is the cause.
    if (controller.signal.aborted && !(err instanceof CommanderError)) {
      io.stderr.write('govctl: interrupted\n');
      return ExitCode.interrupted;
    }
    return reportError(err, io, argv.includes('--verbose'), program);
  } finally {
    await registry.app.runCleanups();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
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
  if (isGovctlError(err)) {
    io.stderr.write(`${style.red('govctl: error:')} ${err.message}\n`);
    if (err.hint) io.stderr.write(`  ${style.dim('hint:')} ${err.hint}\n`);
    if (verbose && err.stack) io.stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  io.stderr.write(`${style.red('govctl: internal error:')} ${messageOf(err)}\n`);
  io.stderr.write('  this is a bug in govctl; please report it with the output below\n');
  if (err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  return ExitCode.internal;
}
