import { ExitCode, UsageError } from '../core/errors.js';
import type { CliApp } from './app.js';
import type { OutputFormat } from './render/json.js';

/** Help text of the admin command groups: they refuse to run against a server nobody configured. */
export const NEEDS_SERVER =
  '\nNeeds a server: --url, GOVCTL_URL or a context; --embedded runs it against a temporary one (state discarded at exit).';

/** What a command group needs from the frame: the invocation, and where to leave its exit code. */
export interface Registry {
  app: CliApp;
  /** Where an action leaves its exit code. */
  exit: { code: number };
}

/** Wraps a command action: its return value (a number) is the exit code. */
export function action<A extends unknown[]>(
  registry: Registry,
  run: (...args: A) => Promise<number | void>,
  outputs: readonly OutputFormat[] = ['table', 'json'],
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const output = registry.app.globals.output;
    // wide is a table that is never cut to the terminal's width: wherever table goes, so does wide.
    const accepted = outputs.includes('wide') ? outputs : outputs.flatMap((o): OutputFormat[] => (o === 'table' ? ['table', 'wide'] : [o]));
    if (!accepted.includes(output)) {
      throw new UsageError(`-o ${output} is not available for this command; use ${accepted.join(' or ')}`);
    }
    const code = await run(...args);
    registry.exit.code = code ?? ExitCode.ok;
  };
}
