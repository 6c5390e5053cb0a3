import type { Command } from 'commander';
import { destructive, type DestructiveFlags } from '../confirm.js';
import { action, NEEDS_SERVER, type Registry } from '../command.js';
import type { BackupDownloadFlags } from './backups-run.js';

export function registerBackups(program: Command, registry: Registry): void {
  const commands = () => import('./backups-run.js');
  const backups = program.command('backups').description('back up, verify, download and restore server state (admin API)').addHelpText('after', NEEDS_SERVER);

  backups
    .command('create')
    .description('take a consistent snapshot while the server keeps serving')
    .option('--no-compress', 'store it uncompressed (default: gzip)')
    .action(action(registry, async (flags: { compress: boolean }) => (await commands()).createBackupCommand(registry.app, flags.compress)));

  backups
    .command('list')
    .description('list backups, newest first')
    .action(action(registry, async () => (await commands()).listBackupsCommand(registry.app)));

  backups
    .command('verify <id>')
    .description("check a backup's SHA-256 and SQLite integrity on the server")
    .action(action(registry, async (id: string) => (await commands()).verifyBackupCommand(registry.app, id)));

  backups
    .command('download <id> [file]')
    .description("download a backup, checking its SHA-256 against the server's before it is saved")
    .option('--out <file>', 'where to save it (default: the backup file name, in the current directory)')
    .option('--force', 'replace an existing file')
    .action(
      action(registry, async (id: string, file: string | undefined, flags: BackupDownloadFlags) =>
        (await commands()).downloadBackupCommand(registry.app, id, flags.out ?? file, flags.force === true),
      ),
    );

  destructive(
    backups.command('restore <id>').description('replace the server state with a backup (verified first; the server backs up the current state)'),
    'verify and show what would happen, change nothing',
  )
    .action(action(registry, async (id: string, flags: DestructiveFlags) => (await commands()).restoreBackupCommand(registry.app, id, flags)));

  destructive(backups.command('delete <id>').description('delete a backup'))
    .action(action(registry, async (id: string, flags: DestructiveFlags) => (await commands()).deleteBackupCommand(registry.app, id, flags)));

  destructive(
    backups.command('prune').description('delete all but the newest N backups').requiredOption('--keep-last <n>', 'how many of the newest backups to keep'),
    'list what would be deleted, delete nothing',
  )
    .action(
      action(registry, async (flags: DestructiveFlags & { keepLast: string }) => (await commands()).pruneBackupsCommand(registry.app, flags)),
    );
}
