import { Option, type Command } from 'commander';
import { destructive, type DestructiveFlags } from '../confirm.js';
import { action, NEEDS_SERVER, type Registry } from '../command.js';
import type { KeyCreateFlags, KeyListFlags } from './keys-run.js';

export function registerKeys(program: Command, registry: Registry): void {
  const commands = () => import('./keys-run.js');
  const keys = program.command('keys').description('manage API keys (admin API)').addHelpText('after', NEEDS_SERVER);

  keys
    .command('create')
    .description('create an API key; its token is printed once and never again')
    .requiredOption('--name <name>', 'a name for the key (1-255 characters)')
    .addOption(new Option('--role <role>', 'what the key may do').choices(['user', 'admin']).default('user'))
    .option('--customer <id>', 'the customer the key belongs to')
    .addHelpText('after', '\nExample:\n  govctl keys create --name billing-service\n  govctl keys create --name ci --role admin -o json | jq -r .api_key')
    .action(action(registry, async (flags: KeyCreateFlags) => (await commands()).createKeyCommand(registry.app, flags)));

  keys
    .command('list')
    .description('list API keys (active ones; --all includes revoked and rotated keys)')
    .option('-a, --all', 'include inactive keys')
    .action(action(registry, async (flags: KeyListFlags) => (await commands()).listKeysCommand(registry.app, flags)));

  destructive(keys.command('rotate <key-id>').description('issue a new token for a key; the old token stops working at once'))
    .action(action(registry, async (keyId: string, flags: DestructiveFlags) => (await commands()).rotateKeyCommand(registry.app, keyId, flags)));

  destructive(keys.command('revoke <key-id>').description('revoke a key; requests with it are refused from now on'))
    .action(action(registry, async (keyId: string, flags: DestructiveFlags) => (await commands()).revokeKeyCommand(registry.app, keyId, flags)));
}
