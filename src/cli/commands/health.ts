import type { Command } from 'commander';
import { action, type Registry } from '../command.js';
import type { HealthFlags } from './health-run.js';

export function registerHealth(program: Command, registry: Registry): void {
  program
    .command('health')
    .description("check a governance server's health (and the admin key, when one is configured)")
    .option('--detailed', 'ask for component health (GET /health/detailed)')
    .addHelpText(
      'after',
      `
With no --url, GOVCTL_URL or context (or with --embedded), it checks a freshly started embedded server.
Shows the context and URL used. A refused admin key is a row of the table (still exit 4).
-o json writes one document for every outcome, failures included: {"healthy": false, "error": {"code", "message"}, ...}.

Exit codes: 0 healthy, 1 degraded or failing, 3 unreachable, 4 admin key refused,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

Examples:
  govctl health --url http://127.0.0.1:8080
  govctl health --detailed -o json`,
    )
    .action(
      action(registry, async (flags: HealthFlags) => {
        const { healthCommand } = await import('./health-run.js');
        return healthCommand(registry.app, { detailed: flags.detailed === true });
      }),
    );
}
