import { resolve } from 'node:path';
import { backupFileName, isSafeFileName } from '../../client/download.js';
import type { GovernanceClient } from '../../client/governance-client.js';
import type { BackupInfo } from '../../client/shapes.js';
import { ExitCode, NotFoundError, OperationFailedError, UsageError } from '../../core/errors.js';
import { ensureWritableFile } from '../../core/fs-errors.js';
import type { CliApp } from '../app.js';
import { cancelled, confirm, dryRun, type DestructiveFlags } from '../confirm.js';
import { renderKeyValues, renderTable, styled } from '../render/output.js';
import { humanBytes, shortTime } from '../render/time.js';
import { visible } from '../render/visible.js';
import { adminClient } from './admin-client.js';

export interface BackupDownloadFlags {
  out?: string;
  force?: boolean;
}

const compression = (b: BackupInfo): string | null => (b.compressed === null ? null : b.compressed ? 'gzip' : 'no');

function backupRows(b: BackupInfo): Array<[string, string | number | null]> {
  return [
    ['id', b.id],
    ['file', b.backup_file],
    ['size', humanBytes(b.size_bytes)],
    ['compressed', compression(b)],
    ['sha256', b.sha256],
    ['created', shortTime(b.created_at)],
  ];
}

async function findBackup(client: GovernanceClient, id: string): Promise<BackupInfo> {
  const backup = (await client.listBackups()).find((b) => b.id === id);
  if (!backup) throw new NotFoundError(`no backup with id ${visible(id)}`, { hint: 'govctl backups list shows every backup' });
  return backup;
}

export async function createBackupCommand(app: CliApp, compress: boolean): Promise<number> {
  const { client } = await adminClient(app);
  const backup = await client.createBackup(compress);
  if (app.json) app.printJson(backup);
  else app.print(renderKeyValues(backupRows(backup), app.style));
  return ExitCode.ok;
}

export async function listBackupsCommand(app: CliApp): Promise<number> {
  const { client } = await adminClient(app);
  const backups = await client.listBackups();
  if (app.json) app.printJson(backups);
  else if (backups.length === 0) app.print('no backups; create one with: govctl backups create');
  else {
    app.print(
      renderTable(
        ['ID', 'CREATED', 'SIZE', 'COMPRESSED', 'SHA256'],
        backups.map((b) => [b.id, shortTime(b.created_at), humanBytes(b.size_bytes), compression(b), b.sha256?.slice(0, 16)]),
        app.style,
      ),
    );
  }
  return ExitCode.ok;
}

export async function verifyBackupCommand(app: CliApp, id: string): Promise<number> {
  const { client } = await adminClient(app);
  const result = await client.verifyBackup(id);
  if (app.json) app.printJson(result);
  else {
    const s = app.style;
    const ok = result.ok === null ? null : styled(result.ok ? s.green('yes') : s.red('no'));
    app.print(renderKeyValues([['backup', id], ['ok', ok], ['integrity', result.integrity], ['sha256', result.sha256]], s));
  }
  // A server that did not say "ok": true has not vouched for the backup.
  return result.ok === true ? ExitCode.ok : ExitCode.failed;
}

/**
 * Downloads a backup. The destination is checked before any byte is fetched (a directory, a
 * missing or unwritable folder, an existing file without --force: exit 2). With no file named,
 * the server's file name is used only if it is a plain safe name, else `<id>.backup`.
 */
export async function downloadBackupCommand(app: CliApp, id: string, file: string | undefined, force: boolean): Promise<number> {
  const named = file === undefined ? undefined : resolve(app.io.cwd, file);
  if (named !== undefined) await ensureWritableFile(named, force);
  const { client } = await adminClient(app);
  const backup = await findBackup(client, id);
  let dest = named;
  if (dest === undefined) {
    const name = backupFileName(id, backup.backup_file);
    if (backup.backup_file !== null && !isSafeFileName(backup.backup_file)) {
      app.warn(`the server named this backup "${visible(backup.backup_file)}", which is not a plain file name; saving it as ${name}`);
    }
    dest = resolve(app.io.cwd, name);
    await ensureWritableFile(dest, force);
  }
  const result = await client.downloadBackup(id, dest, backup.sha256);
  if (app.json) app.printJson({ id, path: result.path, bytes: result.bytes, sha256: result.sha256, verified: true });
  else app.print(`saved backup ${visible(id)} to ${result.path} (${humanBytes(result.bytes)}, sha256 ${result.sha256} verified)`);
  return ExitCode.ok;
}

export async function restoreBackupCommand(app: CliApp, id: string, flags: DestructiveFlags): Promise<number> {
  const { client } = await adminClient(app);
  const verified = await client.verifyBackup(id);
  if (verified.ok !== true) {
    const why = verified.ok === null ? 'the server did not say it is ok' : visible(verified.integrity ?? 'no reason given');
    throw new OperationFailedError(`backup ${visible(id)} failed verification (${why}); nothing was restored`);
  }
  const what = `restore backup ${visible(id)} over the whole server state (keys, policies, usage log)`;
  if (flags.dryRun) return dryRun(app, what, { action: 'restore', id, verified: true });
  if (!(await confirm(app, what, flags, 'the server backs up the current state first'))) return cancelled(app);
  const result = await client.restoreBackup(id);
  if (app.json) app.printJson({ status: 'restored', ...result });
  else app.print(`restored backup ${visible(id)}${result.pre_restore_backup ? `; the previous state is backup ${visible(result.pre_restore_backup)}` : ''}`);
  return ExitCode.ok;
}

export async function deleteBackupCommand(app: CliApp, id: string, flags: DestructiveFlags): Promise<number> {
  const { client } = await adminClient(app);
  const backup = await findBackup(client, id);
  const what = `delete backup ${visible(id)} (${shortTime(backup.created_at)}, ${humanBytes(backup.size_bytes)})`;
  if (flags.dryRun) return dryRun(app, what, { action: 'delete', id });
  if (!(await confirm(app, what, flags))) return cancelled(app);
  await client.deleteBackup(id);
  if (app.json) app.printJson({ status: 'deleted', id });
  else app.print(`deleted backup ${visible(id)}`);
  return ExitCode.ok;
}

export async function pruneBackupsCommand(app: CliApp, flags: DestructiveFlags & { keepLast: string }): Promise<number> {
  const keep = Number(flags.keepLast);
  if (!/^\d+$/.test(flags.keepLast)) throw new UsageError(`invalid --keep-last "${flags.keepLast}": use a whole number >= 0`);
  const { client } = await adminClient(app);
  const newestFirst = [...(await client.listBackups())].sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''));
  const doomed = newestFirst.slice(keep);
  const nameless = doomed.filter((b) => b.id === null).length;
  if (nameless > 0) throw new OperationFailedError(`${nameless} backup(s) to prune came without an id; nothing was deleted`);
  const ids = doomed.map((b) => b.id!);
  if (doomed.length === 0) {
    if (app.json) app.printJson({ deleted: [], kept: newestFirst.length, dry_run: flags.dryRun === true });
    else app.print(`nothing to prune: ${newestFirst.length} backup(s), keeping the newest ${keep}`);
    return ExitCode.ok;
  }
  const what = `delete ${doomed.length} backup(s), keeping the newest ${keep}: ${ids.map(visible).join(', ')}`;
  if (flags.dryRun) {
    if (app.json) app.printJson({ dry_run: true, would_delete: ids, kept: newestFirst.length - doomed.length });
    else app.print(`dry run: would ${what}`);
    return ExitCode.ok;
  }
  if (!(await confirm(app, what, flags))) return cancelled(app);
  const deleted: string[] = [];
  for (const id of ids) {
    await client.deleteBackup(id);
    deleted.push(id);
  }
  if (app.json) app.printJson({ deleted, kept: newestFirst.length - deleted.length, dry_run: false });
  else app.print(`deleted ${deleted.length} backup(s); kept the newest ${keep}`);
  return ExitCode.ok;
}
