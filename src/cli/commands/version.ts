import type { Command } from 'commander';
import { action, type Registry } from '../command.js';

export function registerVersion(program: Command, registry: Registry): void {
  program
    .command('version')
    .description("print govctl's version, Node's, and the server's when one is configured")
    .addHelpText(
      'after',
      `
The server's version is asked of the configured server (--url, GOVCTL_URL or a context; no
admin key needed); with none configured no server is started and the line says so. A server
that cannot be reached is reported on its line ("unreachable (…)") and the exit code is still 0:
use govctl health to check a server. govctl --version prints the bare version, for scripts.

JSON (-o json): {govctl, node, platform, server: {url, context, version, error?} | null}.

Examples:
  govctl version
  govctl version --context prod -o json

Exit codes: 0 printed (also with the server unreachable), 2 bad flag or config file, 5 unknown context.`,
    )
    .action(
      action(registry, async () => {
        const { versionCommand } = await import('./version-run.js');
        return versionCommand(registry.app);
      }),
    );
}
