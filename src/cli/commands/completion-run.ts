import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { CliApp } from '../app.js';
import { completionTree, SAFE_WORD, SHELLS, VALUE_KINDS, type Shell, type ValueKind } from '../completion/tree.js';

/** The completion script for `shell`, generated from the program's commands as they are now. */
export async function completionScript(program: Command, shell: Shell): Promise<string> {
  const tree = completionTree(program);
  switch (shell) {
    case 'bash':
      return (await import('../completion/bash.js')).bashScript(tree);
    case 'zsh':
      return (await import('../completion/zsh.js')).zshScript(tree);
    case 'fish':
      return (await import('../completion/fish.js')).fishScript(tree);
  }
}

export async function completionCommand(app: CliApp, program: Command, shell: string): Promise<number> {
  if (!(SHELLS as readonly string[]).includes(shell)) {
    throw new UsageError(`unknown shell "${shell}": use ${SHELLS.join(', ')}`, { hint: 'see govctl completion --help for how to install it' });
  }
  app.io.stdout.write(await completionScript(program, shell as Shell));
  return 0;
}

/** The names that complete `kind`; none for an unknown kind or an unreadable config. */
export async function namesFor(kind: ValueKind, env: NodeJS.ProcessEnv): Promise<string[]> {
  switch (kind) {
    case 'contexts': {
      const { configPath, loadConfig } = await import('../../config/contexts.js');
      return Object.keys((await loadConfig(configPath(env))).contexts);
    }
    case 'profiles':
      return (await import('../../load/data-files.js')).listProfiles();
    case 'scenarios':
      return (await import('../../load/data-files.js')).listScenarios();
    case 'probes':
      return [...(await import('../../chaos/types.js')).PROBE_NAMES];
  }
}

/**
 * `govctl __complete KIND`: names one per line. Never fails: a broken config file completes
 * nothing rather than printing an error into the middle of a command line. Only names a shell
 * can take as they are are printed (bash's compgen -W expands what it is given).
 */
export async function completeNames(app: CliApp, kind: string | undefined): Promise<void> {
  if (!(VALUE_KINDS as readonly string[]).includes(kind ?? '')) return;
  let names: string[] = [];
  try {
    names = await namesFor(kind as ValueKind, app.io.env);
  } catch {
    return;
  }
  const safe = names.filter((n) => SAFE_WORD.test(n));
  if (safe.length > 0) app.io.stdout.write(`${safe.join('\n')}\n`);
}
