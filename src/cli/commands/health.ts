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
Exit codes: 0 healthy, 1 degraded or failing, 3 unreachable, 4 admin key refused.
With no --url, GOVCTL_URL or context (or with --embedded), it checks a freshly started embedded server.
Exit 130 on Ctrl-C, 143 on SIGTERM.

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
