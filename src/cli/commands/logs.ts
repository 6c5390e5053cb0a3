import type { Command } from 'commander';
import { action, type Registry } from '../command.js';
import type { LogsFlags } from './logs-run.js';

export function registerLogs(program: Command, registry: Registry): void {
  program
    .command('logs')
    .description('read the usage log (metadata only: there is never content to show)')
    .option('--model <model>', 'only decisions about this model')
    .option('--allowed', 'only allowed decisions')
    .option('--blocked', 'only blocked decisions')
    .option('--since <when>', 'from this time: an age (30m, 1h, 2d) or an ISO 8601 date-time')
    .option('--until <when>', 'before this time: an age or an ISO 8601 date-time')
    .option('-n, --limit <n>', 'entries per page', '20')
    .option('--page <n>', 'page number (1 = newest)', '1')
    .option('-f, --follow', 'keep printing new entries until Ctrl-C')
    .option('--interval <duration>', 'how often --follow polls', '2s')
    .addHelpText(
      'after',
      `
Newest first; with --follow, oldest first as entries arrive (-o json prints one JSON object a line).
Needs a server: --url, GOVCTL_URL or a context; --embedded runs it against a temporary one.

Examples:
  govctl logs --blocked --since 1h
  govctl logs --model gpt-4 --limit 100 -o json
  govctl logs -f`,
    )
    .action(action(registry, async (flags: LogsFlags) => (await import('./logs-run.js')).logsCommand(registry.app, flags)));
}
