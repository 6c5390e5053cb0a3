import { Option, type Command } from 'commander';
import { action, type Registry } from '../command.js';
import type { ResetAdminKeyFlags, ServeFlags } from './serve-run.js';

export function registerServe(program: Command, registry: Registry): void {
  const serve = program
    .command('serve')
    .description('run the reference governance server (the embedded default target)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('-p, --port <port>', 'port to listen on (0 picks a free one)', '8080')
    .option('--data-dir <dir>', 'where the SQLite state and backups live', './.govctl/data')
    .option('--rate-limit <rate>', 'requests per window per API key on decision routes', '100/60s')
    .addOption(new Option('--sync <mode>', 'commit durability: full survives power loss, normal a process kill').choices(['full', 'normal']).default('full'))
    .option('--cors-origin <origin...>', 'allow these browser origins (no CORS headers unless given)')
    .option('--admin-key-file <file>', 'first admin key: read from this file, or generated into it (mode 0600); first start only')
    .option('--request-timeout <duration>', 'time to receive a whole request (408 after)', '30s')
    .option('--headers-timeout <duration>', 'time to receive the request headers (408 after)', '10s')
    .option('--keep-alive-timeout <duration>', 'how long an idle keep-alive connection stays open', '72s')
    .option('--max-connections <n>', 'open connections at most; more are closed at once', '1024')
    .addOption(new Option('--log-level <level>', 'server log level (logs on stderr; info has one access line per request)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'))
    .addOption(new Option('--log-format <format>', 'log lines: human on a terminal, JSON otherwise (auto)').choices(['auto', 'pretty', 'json']).default('auto'))
    .addOption(new Option('--exit-with-stdin', 'stop when standard input closes (used by the embedded target)').hideHelp())
    .addHelpText(
      'after',
      `
The first start creates the data dir and one admin key: taken from GOVCTL_BOOTSTRAP_ADMIN_KEY or
--admin-key-file, else generated and printed once to stderr. On later starts neither is used.
Lost the admin key? Stop the server and run govctl serve reset-admin-key --data-dir DIR.
Stop with Ctrl-C or SIGTERM: in-flight requests finish and every acknowledged decision is
committed before exit.

Logs go to stderr: human lines when stderr is a terminal, JSON lines otherwise (--log-format),
one access line per request at info (method, path without query, status, ms; never a header,
body or key). The server speaks plain HTTP: bound to a non-loopback address it warns; put a
TLS-terminating proxy in front.

Examples:
  govctl serve                          # http://127.0.0.1:8080, data in ./.govctl/data
  govctl serve --port 0 -o json         # a free port; prints {"url": ...} on stdout
  govctl serve --log-format json        # JSON log lines even on a terminal
  govctl serve --rate-limit 1000/1m --admin-key-file ./admin.key`,
    )
    .action(
      action(registry, async (flags: ServeFlags) => {
        const { serveCommand } = await import('./serve-run.js');
        return serveCommand(registry.app, flags);
      }),
    );

  serve
    .command('reset-admin-key')
    .description('offline recovery: add a new admin key to a stopped server\'s data dir and print it once')
    .option('--data-dir <dir>', 'the data dir of the (stopped) server', './.govctl/data')
    .option('--revoke-existing', 'also deactivate every other active admin key')
    .addHelpText(
      'after',
      `
The server must be stopped: a data dir in use by a running server is refused. The new key is
printed once on stdout (-o json: {"key_id", "api_key", "revoked"}).

Examples:
  govctl serve reset-admin-key --data-dir ./.govctl/data
  govctl serve reset-admin-key --data-dir /var/lib/govctl --revoke-existing`,
    )
    .action(
      action(registry, async (flags: ResetAdminKeyFlags, command: Command) => {
        // Commander hands a --data-dir given after the subcommand to `serve`, which has one too.
        const parent = command.parent;
        const dataDir = parent?.getOptionValueSource('dataDir') === 'cli' ? (parent.opts()['dataDir'] as string) : flags.dataDir;
        const { resetAdminKeyCommand } = await import('./serve-run.js');
        return resetAdminKeyCommand(registry.app, { ...flags, dataDir });
      }),
    );
}
