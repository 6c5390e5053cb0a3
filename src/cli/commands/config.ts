import type { Command } from 'commander';
import { action, type Registry } from '../command.js';
import type { SetContextFlags } from './config-run.js';

export function registerConfig(program: Command, registry: Registry): void {
  const config = program
    .command('config')
    .description('manage contexts: named servers and where their admin keys come from')
    .addHelpText(
      'after',
      `
The file is $GOVCTL_CONFIG, else $XDG_CONFIG_HOME/govctl/config.json, else ~/.config/govctl/config.json,
written with mode 0600. Precedence: flag > environment (GOVCTL_URL, GOVCTL_ADMIN_KEY) > context.`,
    );
  const commands = () => import('./config-run.js');

  config
    .command('set-context <name>')
    .description('create or update a context with --url URL (the first one becomes current)')
    .option('--admin-key-env <var>', 'read the admin key from this environment variable')
    .option('--admin-key-file <file>', 'read the admin key from this file')
    .option('--store-secret', 'store the admin key from --admin-key or GOVCTL_ADMIN_KEY in the file itself')
    .addHelpText(
      'after',
      `
Examples:
  govctl config set-context prod --url https://gov.example.com --admin-key-env PROD_GOVCTL_KEY
  govctl config set-context local --url http://127.0.0.1:8080 --admin-key-file ~/.govctl-admin.key`,
    )
    .action(action(registry, async (name: string, flags: SetContextFlags) => (await commands()).setContextCommand(registry.app, name, flags)));

  config
    .command('use-context <name>')
    .description('make a context current')
    .addHelpText('after', '\nExamples:\n  govctl config use-context prod\n  govctl health                      # now checks prod')
    .action(action(registry, async (name: string) => (await commands()).useContextCommand(registry.app, name)));

  config
    .command('get-contexts')
    .description('list contexts (never shows a stored secret)')
    .addHelpText('after', '\nExamples:\n  govctl config get-contexts\n  govctl config get-contexts -o json')
    .action(action(registry, async () => (await commands()).getContextsCommand(registry.app)));

  config
    .command('current-context')
    .description('print the current context')
    .addHelpText('after', '\nExample:\n  govctl config current-context')
    .action(action(registry, async () => (await commands()).currentContextCommand(registry.app)));

  config
    .command('delete-context <name>')
    .description('remove a context')
    .addHelpText('after', '\nExample:\n  govctl config delete-context staging')
    .action(action(registry, async (name: string) => (await commands()).deleteContextCommand(registry.app, name)));
}
