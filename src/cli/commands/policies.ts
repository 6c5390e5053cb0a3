import type { Command } from 'commander';
import { action, NEEDS_SERVER, type Registry } from '../command.js';

export function registerPolicies(program: Command, registry: Registry): void {
  const commands = () => import('./policies-run.js');
  const policies = program.command('policies').description('read and change governance policies (admin API)').addHelpText('after', NEEDS_SERVER);

  policies
    .command('list')
    .description('list policies with their state, value and violation counts')
    .action(action(registry, async () => (await commands()).listPoliciesCommand(registry.app)));

  policies
    .command('get <policy>')
    .description('show one policy (by key, e.g. max_risk_score, or by id)')
    .action(action(registry, async (policy: string) => (await commands()).getPolicyCommand(registry.app, policy)));

  policies
    .command('enable <policy>')
    .description('enable a policy; in force for the next decision')
    .action(action(registry, async (policy: string) => (await commands()).setPolicyCommand(registry.app, policy, { enabled: true })));

  policies
    .command('disable <policy>')
    .description('disable a policy; in force for the next decision')
    .action(action(registry, async (policy: string) => (await commands()).setPolicyCommand(registry.app, policy, { enabled: false })));

  policies
    .command('set <policy>')
    .description("set a policy's value (JSON)")
    .requiredOption('--value <json>', 'the new value, as JSON')
    .addHelpText('after', `\nExample:\n  govctl policies set max_risk_score --value '{"max": 60}'`)
    .action(
      action(registry, async (policy: string, flags: { value: string }) => {
        const run = await commands();
        return run.setPolicyCommand(registry.app, policy, { value: run.parseValue(flags.value) });
      }),
    );
}
