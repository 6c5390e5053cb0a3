import { Option, type Command } from 'commander';
import { destructive, type DestructiveFlags } from '../confirm.js';
import { action, NEEDS_SERVER, type Registry } from '../command.js';
import type { KeyCreateFlags, KeyListFlags } from './keys-run.js';

const ADDRESSING = 'KEY is a key id or a unique key name.';
const LOCKOUT =
  'Rotating or revoking the admin key govctl is authenticated with, or the last active admin key,\nwarns and needs --yes even on a terminal.';

/** Help text after the flags: notes, then the examples (one per line). */
const after = (notes: string, ...examples: string[]): string =>
  `\n${notes ? `${notes}\n\n` : ''}Examples:\n${examples.map((e) => `  ${e}`).join('\n')}`;

export function registerKeys(program: Command, registry: Registry): void {
  const commands = () => import('./keys-run.js');
  const keys = program.command('keys').description('manage API keys (admin API)').addHelpText('after', NEEDS_SERVER);

  keys
    .command('create')
    .description('create an API key; its token is printed once and never again')
    .requiredOption('--name <name>', 'a name for the key (1-255 characters)')
    .addOption(new Option('--role <role>', 'what the key may do').choices(['user', 'admin']).default('user'))
    .option('--customer <id>', 'the customer the key belongs to')
    .addHelpText(
      'after',
      after(
        'With -q only the token is printed (stdout), for scripts.',
        'govctl keys create --name billing-service --customer acme',
        'TOKEN=$(govctl keys create --name ci --role admin -q)',
        'govctl keys create --name ci --role admin -o json | jq -r .api_key',
      ),
    )
    .action(action(registry, async (flags: KeyCreateFlags) => (await commands()).createKeyCommand(registry.app, flags)));

  keys
    .command('list')
    .description('list API keys with status (active, revoked, rotated) and customer; --all includes inactive keys')
    .option('-a, --all', 'include revoked and rotated keys')
    .addHelpText('after', after('', 'govctl keys list', `govctl keys list --all -o json | jq -r '.keys[] | select(.status == "rotated") | .key_id'`))
    .action(action(registry, async (flags: KeyListFlags) => (await commands()).listKeysCommand(registry.app, flags)));

  destructive(keys.command('rotate <key>').description('issue a new token for a key; the old token stops working at once'))
    .addHelpText(
      'after',
      after(
        `${ADDRESSING} With -q only the new token is printed.\n${LOCKOUT}`,
        'govctl keys rotate billing-service --yes',
        'govctl keys rotate 5f0c9b1e-2a4d-4c8e-9f3a-1b2c3d4e5f60 --dry-run',
        'NEW=$(govctl keys rotate ci --yes -q)',
      ),
    )
    .action(action(registry, async (key: string, flags: DestructiveFlags) => (await commands()).rotateKeyCommand(registry.app, key, flags)));

  destructive(keys.command('revoke <key>').description('revoke a key; requests with it are refused from now on'))
    .addHelpText(
      'after',
      after(
        `${ADDRESSING}\n${LOCKOUT}`,
        'govctl keys revoke billing-service',
        'govctl keys revoke billing-service --dry-run',
        'govctl keys revoke 5f0c9b1e-2a4d-4c8e-9f3a-1b2c3d4e5f60 --yes',
      ),
    )
    .action(action(registry, async (key: string, flags: DestructiveFlags) => (await commands()).revokeKeyCommand(registry.app, key, flags)));
}
