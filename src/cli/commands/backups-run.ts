import { resolve } from 'node:path';
import { backupFileName, isSafeFileName } from '../../client/download.js';
import { UnsupportedOperationError } from '../../client/http.js';
import type { GovernanceClient } from '../../client/governance-client.js';
import type { BackupInfo } from '../../client/shapes.js';
import { ExitCode, NotFoundError, OperationFailedError, UsageError } from '../../core/errors.js';
import { ensureWritableFile } from '../../core/fs-errors.js';
import type { CliApp } from '../app.js';
import { cancelled, confirm, type DestructiveFlags } from '../confirm.js';
import { renderKeyValues, renderTable, styled } from '../render/output.js';
import { humanBytes, shortTime } from '../render/time.js';
import { renderValue } from '../render/units.js';
import { visible } from '../render/visible.js';
import { adminClient } from './admin-client.js';

export interface BackupDownloadFlags {
  out?: string;
  force?: boolean;
}

export interface PruneFlags {
  keepLast: string;
  all?: boolean;
  includeSafety?: boolean;
}

/** A restore's safety backup (govctl serve says "kind": "pre_restore"); field servers may not say. */
const isSafety = (b: BackupInfo): boolean => b.kind === 'pre_restore';

/** KIND as shown: backup, pre-restore, or what an unknown server said ("-" when it said nothing). */
const kindLabel = (b: BackupInfo): string | null => (b.kind === null ? null : b.kind === 'manual' ? 'backup' : b.kind === 'pre_restore' ? 'pre-restore' : b.kind);

const compression = (b: BackupInfo): string | null => (b.compressed === null ? null : b.compressed ? 'gzip' : 'no');

function backupRows(b: BackupInfo): Array<[string, string | number | null]> {
  return [
    ['id', b.id],
    ['file', b.backup_file],
    ['size', humanBytes(b.size_bytes)],
    ['compressed', compression(b)],
    ['sha256', b.sha256],
    ['created', shortTime(b.created_at)],
    ['kind', kindLabel(b)],
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
  if (app.json) app.printAdminJson(client.url, backup);
  // -q: just the id, for scripts (BACKUP=$(govctl backups create -q)).
  else if (app.globals.quiet) {
    if (backup.id === null) app.warn(`${client.url} did not say the new backup's id`);
    else app.print(backup.id);
  }
  else app.print(renderKeyValues(backupRows(backup), app.style, { width: app.tableWidth }));
  return ExitCode.ok;
}

export async function listBackupsCommand(app: CliApp): Promise<number> {
  const { client } = await adminClient(app);
  const backups = await client.listBackups();
  if (app.json) app.printAdminJson(client.url, backups, 'backups');
  else if (backups.length === 0) app.print('no backups; create one with: govctl backups create');
  else {
    app.print(
      renderTable(
        ['ID', 'KIND', 'CREATED', 'SIZE', 'COMPRESSED', 'SHA256'],
        backups.map((b) => [b.id, kindLabel(b), shortTime(b.created_at), humanBytes(b.size_bytes), compression(b), b.sha256?.slice(0, 16)]),
        app.style,
        { width: app.tableWidth },
      ),
    );
  }
  return ExitCode.ok;
}

export async function verifyBackupCommand(app: CliApp, id: string): Promise<number> {
  const { client } = await adminClient(app);
  const result = await client.verifyBackup(id);
  if (app.json) app.printAdminJson(client.url, result);
  else {
    const s = app.style;
    const ok = result.ok === null ? null : styled(result.ok ? s.green('yes') : s.red('no'));
    app.print(renderKeyValues([['backup', id], ['ok', ok], ['integrity', result.integrity], ['sha256', result.sha256]], s, { width: app.tableWidth }));
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
  // --timeout bounds each request of a download, not the transfer of a large body.
  const { client } = await adminClient(app, 'admin', { wholeCommand: false });
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
  if (app.json) app.printAdminJson(client.url, { id, path: result.path, bytes: result.bytes, sha256: result.sha256, verified: true });
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
  if (flags.dryRun) {
    const preview = await previewRestore(client, id);
    if (app.json) app.printAdminJson(client.url, { ...preview, dry_run: true, action: 'restore', id, verified: true });
    else app.print(renderPreview(app, id, preview));
    return ExitCode.ok;
  }
  if (!(await confirm(app, what, flags, 'the server backs up the current state first'))) return cancelled(app);
  const result = await client.restoreBackup(id);
  if (app.json) app.printAdminJson(client.url, { status: 'restored', ...result });
  else app.print(`restored backup ${visible(id)}${result.pre_restore_backup ? `; the previous state is backup ${visible(result.pre_restore_backup)}` : ''}`);
  return ExitCode.ok;
}

export async function deleteBackupCommand(app: CliApp, id: string, flags: DestructiveFlags): Promise<number> {
  const { client } = await adminClient(app);
  const backup = await findBackup(client, id);
  const what = `delete ${isSafety(backup) ? 'pre-restore safety ' : ''}backup ${visible(id)} (${shortTime(backup.created_at)}, ${humanBytes(backup.size_bytes)})`;
  if (flags.dryRun) {
    if (app.json) app.printAdminJson(client.url, { dry_run: true, action: 'delete', id });
    else app.print(`dry run: would ${what}`);
    return ExitCode.ok;
  }
  if (!(await confirm(app, what, flags))) return cancelled(app);
  await client.deleteBackup(id);
  if (app.json) app.printAdminJson(client.url, { status: 'deleted', id });
  else app.print(`deleted backup ${visible(id)}`);
  return ExitCode.ok;
}

/**
 * Deletes all but the newest `--keep-last` backups. Pre-restore safety backups are neither
 * deleted nor counted unless --include-safety; --keep-last 0 (delete them all) needs --all.
 */
export async function pruneBackupsCommand(app: CliApp, flags: DestructiveFlags & PruneFlags): Promise<number> {
  const keep = Number(flags.keepLast);
  if (!/^\d+$/.test(flags.keepLast)) throw new UsageError(`invalid --keep-last "${flags.keepLast}": use a whole number >= 0`);
  if (keep === 0 && !flags.all) {
    throw new UsageError('--keep-last 0 would delete every backup', { hint: 'pass --all as well to mean it, or keep some: --keep-last 1' });
  }
  const { client } = await adminClient(app);
  const all = [...(await client.listBackups())].sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''));
  const safety = flags.includeSafety ? [] : all.filter(isSafety);
  const newestFirst = flags.includeSafety ? all : all.filter((b) => !isSafety(b));
  const doomed = newestFirst.slice(keep);
  const nameless = doomed.filter((b) => b.id === null).length;
  if (nameless > 0) throw new OperationFailedError(`${nameless} backup(s) to prune came without an id; nothing was deleted`);
  const ids = doomed.map((b) => b.id!);
  const kept = all.length - doomed.length;
  const safetyNote = safety.length > 0 ? `; ${safety.length} pre-restore safety backup(s) kept (--include-safety prunes them too)` : '';
  const json = (value: object) => app.printAdminJson(client.url, { ...value, kept_safety: safety.map((b) => b.id) });
  if (doomed.length === 0) {
    if (app.json) json({ deleted: [], kept, dry_run: flags.dryRun === true });
    else app.print(`nothing to prune: ${newestFirst.length} backup(s), keeping the newest ${keep}${safetyNote}`);
    return ExitCode.ok;
  }
  const what = `delete ${doomed.length} backup(s), keeping the newest ${keep}: ${ids.map(visible).join(', ')}`;
  if (flags.dryRun) {
    if (app.json) json({ dry_run: true, would_delete: ids, kept });
    else app.print(`dry run: would ${what}${safetyNote}`);
    return ExitCode.ok;
  }
  if (!(await confirm(app, what, flags))) return cancelled(app);
  const deleted: string[] = [];
  for (const id of ids) {
    await client.deleteBackup(id);
    deleted.push(id);
  }
  if (app.json) json({ deleted, kept: all.length - deleted.length, dry_run: false });
  else app.print(`deleted ${deleted.length} backup(s); kept the newest ${keep}${safetyNote}`);
  return ExitCode.ok;
}

// --- restore --dry-run ------------------------------------------------------------------------

type Row = Record<string, unknown>;

/** The server's preview, with a clear message when the server has none (not govctl serve). */
async function previewRestore(client: GovernanceClient, id: string): Promise<Row> {
  try {
    return await client.previewRestore(id);
  } catch (err) {
    if (err instanceof UnsupportedOperationError) {
      throw new OperationFailedError(`${client.http.host} does not support a dry run of a restore (it has no restore preview); nothing was changed`, {
        hint: 'govctl serve has it (GET /api/admin/audit/backups/{id}/restore-preview); `backups verify ID` still checks the backup',
      });
    }
    throw err;
  }
}

const rowsOf = (value: unknown): Row[] => (Array.isArray(value) ? value.filter((v): v is Row => v !== null && typeof v === 'object') : []);
const text = (value: unknown): string | null => (value === undefined || value === null ? null : renderValue(value));

/** "status: active → revoked; name: a → b" from a would_change entry's `changes`. */
function describeChanges(changes: unknown): string {
  if (changes === null || typeof changes !== 'object') return '';
  return Object.entries(changes as Record<string, { from?: unknown; to?: unknown }>)
    .map(([field, c]) => `${field}: ${renderValue(c?.from)} → ${renderValue(c?.to)}`)
    .join('; ');
}

/** One section (keys or policies) as a table: what would appear, disappear or change. */
function section(app: CliApp, title: string, value: unknown, head: string[], cells: (r: Row) => unknown[]): string {
  const changes = (value ?? {}) as Row;
  const rows: unknown[][] = [];
  for (const [label, field] of [['appears', 'would_appear'], ['disappears', 'would_disappear'], ['changes', 'would_change']] as const) {
    for (const r of rowsOf(changes[field])) rows.push([label, ...cells(r), field === 'would_change' ? describeChanges(r['changes']) : null]);
  }
  if (rows.length === 0) return `${title}: no change`;
  const cellsText = rows.map((r) => r.map((c) => (typeof c === 'string' || c === null ? c : text(c))));
  return `${title}:\n${renderTable(['WOULD', ...head, 'CHANGE'], cellsText as Array<Array<string | null>>, app.style, { width: app.tableWidth }).trimEnd()}`;
}

function renderPreview(app: CliApp, id: string, preview: Row): string {
  const keys = section(app, 'keys', preview['keys'], ['KEY ID', 'NAME', 'ROLE', 'STATUS'], (r) => [r['key_id'], r['name'], r['role'], r['status']]);
  const policies = section(app, 'policies', preview['policies'], ['POLICY', 'NAME', 'ENABLED', 'VALUE'], (r) => [r['key'], r['name'], r['enabled'], r['value']]);
  const logs = (preview['usage_logs'] ?? {}) as Row;
  const lost = typeof logs['written_since_backup'] === 'number' ? logs['written_since_backup'] : null;
  const usage =
    lost === null
      ? 'usage log: the server did not say how many rows were written since the backup'
      : `usage log: ${lost} row(s) written since the backup would be gone (${text(logs['current']) ?? '-'} now, ${text(logs['in_backup']) ?? '-'} after the restore)`;
  return [`dry run: restoring backup ${visible(id)} would change (nothing was changed):`, keys, policies, usage].join('\n\n');
}
