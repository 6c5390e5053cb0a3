import type { Command } from 'commander';
import { action, NEEDS_SERVER, type Registry } from '../command.js';

const DRY_RUN = 'show the before and after; change nothing';
const SHAPES = [
  'Values have their policy\'s shape: max_risk_score takes {"max": <integer >= 0>}, block_* policies',
  'take no value (null) or a boolean. Anything else is refused (exit 2), --dry-run included.',
].join('\n');

/** Help text after the flags: notes, then the examples (one per line). */
const after = (notes: string, ...examples: string[]): string =>
  `\n${notes ? `${notes}\n\n` : ''}Examples:\n${examples.map((e) => `  ${e}`).join('\n')}`;

export function registerPolicies(program: Command, registry: Registry): void {
  const commands = () => import('./policies-run.js');
  const policies = program.command('policies').description('read and change governance policies (admin API)').addHelpText('after', NEEDS_SERVER);

  policies
    .command('list')
    .description('list policies with their state, value and violation counts')
    .addHelpText('after', after('', 'govctl policies list', "govctl policies list -o json | jq '.policies[] | {key, enabled}'"))
    .action(action(registry, async () => (await commands()).listPoliciesCommand(registry.app)));

  policies
    .command('get <policy>')
    .description('show one policy (by key, e.g. max_risk_score, or by id)')
    .addHelpText('after', after('', 'govctl policies get max_risk_score', 'govctl policies get max_risk_score -o json | jq .value.max'))
    .action(action(registry, async (policy: string) => (await commands()).getPolicyCommand(registry.app, policy)));

  policies
    .command('enable <policy>')
    .description('enable a policy; in force for the next decision')
    .option('--dry-run', DRY_RUN)
    .addHelpText('after', after('', 'govctl policies enable block_personal_data', 'govctl policies enable block_external_models --dry-run'))
    .action(
      action(registry, async (policy: string, flags: { dryRun?: boolean }) => (await commands()).setPolicyCommand(registry.app, policy, { enabled: true }, flags)),
    );

  policies
    .command('disable <policy>')
    .description('disable a policy; in force for the next decision')
    .option('--dry-run', DRY_RUN)
    .addHelpText('after', after('', 'govctl policies disable block_external_models', 'govctl policies disable max_risk_score --dry-run'))
    .action(
      action(registry, async (policy: string, flags: { dryRun?: boolean }) => (await commands()).setPolicyCommand(registry.app, policy, { enabled: false }, flags)),
    );

  policies
    .command('set <policy>')
    .description("set a policy's value (JSON); in force for the next decision")
    .requiredOption('--value <json>', "the new value, as JSON of the policy's shape")
    .option('--dry-run', DRY_RUN)
    .addHelpText(
      'after',
      after(SHAPES, `govctl policies set max_risk_score --value '{"max": 60}'`, `govctl policies set max_risk_score --value '{"max": 60}' --dry-run`),
    )
    .action(
      action(registry, async (policy: string, flags: { value: string; dryRun?: boolean }) => {
        const run = await commands();
        return run.setPolicyCommand(registry.app, policy, { value: run.parseValue(flags.value) }, { dryRun: flags.dryRun === true });
      }),
    );
}
