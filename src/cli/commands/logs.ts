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
    .option('--key <id-or-name>', "only this key's decisions: a key id, or a key name (looked up in the key list)")
    .option('--reason <reason>', 'only decisions with this reason, e.g. ok, external_model (govctl serve; see README)')
    .option('--since <when>', 'from this time: an age (30m, 1h, 2d) or an ISO 8601 date-time')
    .option('--until <when>', 'before this time: an age or an ISO 8601 date-time')
    .option('-n, --limit <n>', 'entries per page', '20')
    .option('--page <n>', 'page number (1 = newest)', '1')
    .option('-f, --follow', 'keep printing new entries until Ctrl-C')
    .option('--interval <duration>', 'how often --follow polls', '2s')
    .addHelpText(
      'after',
      `
Newest first; with --follow, oldest first as entries arrive, the header printed once (-o json prints one
JSON object a line). ID is the decision id that /v1/check answered. Ctrl-C ends --follow with exit 130.
Needs a server: --url, GOVCTL_URL or a context; --embedded runs it against a temporary one.

Examples:
  govctl logs --blocked --since 1h
  govctl logs --model gpt-4 --limit 100 -o json
  govctl logs --key ci-pipeline --reason external_model
  govctl logs -f --key 0b9f3c2e-5d1a-4c4e-9a57-3f2d1e0c9b8a`,
    )
    .action(action(registry, async (flags: LogsFlags) => (await import('./logs-run.js')).logsCommand(registry.app, flags), ['table', 'wide', 'json']));
}
