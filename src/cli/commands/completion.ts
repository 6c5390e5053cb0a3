import type { Command } from 'commander';
import { action, type Registry } from '../command.js';

export function registerCompletion(program: Command, registry: Registry): void {
  const commands = () => import('./completion-run.js');

  program
    .command('completion')
    .argument('<shell>', 'bash, zsh or fish')
    .description('print a shell completion script (bash, zsh or fish)')
    .addHelpText(
      'after',
      `
The script completes commands, subcommands, flags, and the names of contexts, profiles,
scenarios and probes (read from govctl when Tab is pressed, so new contexts complete at once).

Install:
  bash  source <(govctl completion bash)                         # this shell
        echo 'source <(govctl completion bash)' >> ~/.bashrc     # every new shell
  zsh   source <(govctl completion zsh)                          # this shell (after compinit)
        govctl completion zsh > "\${fpath[1]}/_govctl"            # every new shell (any dir in $fpath)
  fish  govctl completion fish > ~/.config/fish/completions/govctl.fish

Examples:
  govctl completion bash > /etc/bash_completion.d/govctl
  govctl completion zsh > ~/.zfunc/_govctl   # with fpath+=(~/.zfunc) before compinit in ~/.zshrc

Exit codes: 0 printed, 2 an unknown shell.`,
    )
    .action(action(registry, async (shell: string) => (await commands()).completionCommand(registry.app, program, shell), ['table']));

  // What the scripts call back for names that change: one per line, fast, and never an error
  // (a completion must not print one into the user's command line).
  program
    .command('__complete [kind]', { hidden: true })
    .description('print the names that complete KIND (contexts, profiles, scenarios, probes), one per line')
    .allowExcessArguments(true)
    .allowUnknownOption(true)
    .action(async (kind: string | undefined) => (await commands()).completeNames(registry.app, kind));
}
