import type { EventEmitter } from 'node:events';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { destructive, type DestructiveFlags } from '../confirm.js';
import { action, NEEDS_SERVER, type Registry } from '../command.js';
import type { BackupDownloadFlags, PruneFlags } from './backups-run.js';

const OUTPUT_FORMATS = ['table', 'wide', 'json', 'sarif'];
const WITH_WIDE = ['table', 'wide', 'json'] as const;

const examples = (...lines: string[]): string => `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}`;

/**
 * `backups download ID -o FILE` reads like "output to FILE", but -o is the global output format.
 * Caught before commander's own check of the value (a listener put first), so the user learns
 * how to name the file rather than which formats exist.
 */
function hintDownloadFileName(program: Command): void {
  // Command is an EventEmitter with the argv it parses; its typings do not say so.
  const emitter = program as unknown as EventEmitter & { rawArgs: string[] };
  emitter.prependListener('option:output', (value: unknown) => {
    if (typeof value !== 'string' || OUTPUT_FORMATS.includes(value)) return;
    const args = emitter.rawArgs;
    const group = args.indexOf('backups');
    if (group === -1 || args.indexOf('download', group) === -1) return;
    throw new UsageError(`-o is the output format (${OUTPUT_FORMATS.join(', ')}), not a file name: got "${value}"`, {
      hint: 'to choose the file name, pass it as an argument: backups download ID FILE',
    });
  });
}

export function registerBackups(program: Command, registry: Registry): void {
  const commands = () => import('./backups-run.js');
  const backups = program.command('backups').description('back up, verify, download and restore server state (admin API)').addHelpText('after', NEEDS_SERVER);
  hintDownloadFileName(program);

  backups
    .command('create')
    .description('take a consistent snapshot while the server keeps serving')
    .option('--no-compress', 'store it uncompressed (default: gzip)')
    .addHelpText('after', examples('govctl backups create', 'govctl backups create --no-compress -o json'))
    .action(action(registry, async (flags: { compress: boolean }) => (await commands()).createBackupCommand(registry.app, flags.compress), WITH_WIDE));

  backups
    .command('list')
    .description('list backups, newest first (KIND pre-restore: the safety backup a restore took of the state it replaced)')
    .addHelpText('after', examples('govctl backups list', 'govctl backups list -o json'))
    .action(action(registry, async () => (await commands()).listBackupsCommand(registry.app), WITH_WIDE));

  backups
    .command('verify <id>')
    .description("check a backup's SHA-256 and SQLite integrity on the server")
    .addHelpText('after', examples('govctl backups verify 20260101T120000Z-1a2b3c4d'))
    .action(action(registry, async (id: string) => (await commands()).verifyBackupCommand(registry.app, id), WITH_WIDE));

  backups
    .command('download <id> [file]')
    .description("download a backup, checking its SHA-256 against the server's before it is saved")
    .option('--out <file>', 'where to save it (default: the backup file name, in the current directory)')
    .option('--force', 'replace an existing file')
    .addHelpText(
      'after',
      `
-o is the output format (table or json), not the file: name the file as the second argument or with --out.
${examples('govctl backups download 20260101T120000Z-1a2b3c4d', 'govctl backups download 20260101T120000Z-1a2b3c4d state.db.gz --force')}`,
    )
    .action(
      action(registry, async (id: string, file: string | undefined, flags: BackupDownloadFlags) =>
        (await commands()).downloadBackupCommand(registry.app, id, flags.out ?? file, flags.force === true),
        WITH_WIDE,
      ),
    );

  destructive(
    backups.command('restore <id>').description('replace the server state with a backup (verified first; the server backs up the current state)'),
    'show the keys and policies that would appear, disappear or change, and the log rows that would be lost; change nothing',
  )
    .addHelpText(
      'after',
      `
--dry-run needs a server with the restore preview (govctl serve has it; see README).
${examples('govctl backups restore 20260101T120000Z-1a2b3c4d --dry-run', 'govctl backups restore 20260101T120000Z-1a2b3c4d --yes')}`,
    )
    .action(action(registry, async (id: string, flags: DestructiveFlags) => (await commands()).restoreBackupCommand(registry.app, id, flags), WITH_WIDE));

  destructive(backups.command('delete <id>').description('delete a backup'))
    .addHelpText('after', examples('govctl backups delete 20260101T120000Z-1a2b3c4d --yes'))
    .action(action(registry, async (id: string, flags: DestructiveFlags) => (await commands()).deleteBackupCommand(registry.app, id, flags), WITH_WIDE));

  destructive(
    backups
      .command('prune')
      .description('delete all but the newest N backups; pre-restore safety backups are kept unless --include-safety')
      .requiredOption('--keep-last <n>', 'how many of the newest backups to keep (0 needs --all)')
      .option('--all', 'allow --keep-last 0: delete every backup')
      .option('--include-safety', 'prune pre-restore safety backups too (they are kept, and not counted, otherwise)'),
    'list what would be deleted, delete nothing',
  )
    .addHelpText('after', examples('govctl backups prune --keep-last 5 --dry-run', 'govctl backups prune --keep-last 5 --yes', 'govctl backups prune --keep-last 0 --all --include-safety --yes'))
    .action(
      action(registry, async (flags: DestructiveFlags & PruneFlags) => (await commands()).pruneBackupsCommand(registry.app, flags), WITH_WIDE),
    );
}
