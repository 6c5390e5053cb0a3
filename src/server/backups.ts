import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import Database from 'better-sqlite3';
import { fsyncDir, fsyncFile, fsyncPathSync, tempPathFor, writeFileDurable } from '../core/durable-write.js';
import { migrate } from './store/database.js';
import { MIGRATIONS, STATE_TABLES } from './store/schema.js';
import type { ServerState } from './store/state.js';
import { diffStates, type RestorePreview } from './restore-preview.js';

export type { RestorePreview } from './restore-preview.js';

export interface BackupInfo {
  id: string;
  backup_file: string;
  size_bytes: number;
  sha256: string;
  compressed: boolean;
  created_at: string;
  /**
   * An extension to the contract: "manual" (asked for) or "pre_restore" (the safety snapshot a
   * restore takes of the state it replaces). Metadata written before it existed reads as manual.
   */
  kind: BackupKind;
}

export type BackupKind = 'manual' | 'pre_restore';

export interface VerifyResult {
  id: string;
  ok: boolean;
  sha256: string;
  integrity: string;
}

export class BackupInvalidError extends Error {
  constructor(readonly result: VerifyResult) {
    super(`backup ${result.id} failed verification (${result.integrity}); nothing was changed`);
  }
}

/** The pre-restore snapshot could not be made durable: the restore was refused, nothing changed. */
export class PreRestoreBackupError extends Error {
  readonly diskFull: boolean;
  constructor(cause: unknown) {
    const code = (cause as { code?: string }).code;
    super(`restore refused: the backup of the current state could not be written (${(cause as Error).message}); nothing was changed`, {
      cause,
    });
    this.diskFull = code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
  }
}

const ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/**
 * Where the pre-restore snapshot is written before it gets its final name. A fixed name is safe
 * (restores run one at a time) and any leftover is overwritten, not trusted.
 */
export const PRE_RESTORE_TEMP = '.pre-restore.db.tmp';

/**
 * Metadata is read back from disk, so it is checked before use: `backup_file` must be the
 * backup's own file name in the backups directory (never a path out of it), and the fields the
 * routes hand out must have their types. Anything else reads as no backup at all.
 */
function validInfo(id: string, value: unknown): BackupInfo | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  const compressed = v['compressed'];
  if (typeof compressed !== 'boolean') return undefined;
  if (v['id'] !== id || v['backup_file'] !== `${id}.db${compressed ? '.gz' : ''}`) return undefined;
  if (typeof v['sha256'] !== 'string' || !/^[0-9a-f]{64}$/.test(v['sha256'])) return undefined;
  if (!Number.isSafeInteger(v['size_bytes']) || (v['size_bytes'] as number) < 0) return undefined;
  if (typeof v['created_at'] !== 'string') return undefined;
  const kind = v['kind'] === undefined ? 'manual' : v['kind'];
  if (kind !== 'manual' && kind !== 'pre_restore') return undefined;
  return { id, backup_file: v['backup_file'], size_bytes: v['size_bytes'] as number, sha256: v['sha256'], compressed, created_at: v['created_at'], kind };
}

function newBackupId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

/** A transform that hashes what passes through it. */
function hashing(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

/**
 * Removes a temp database file and the -wal/-shm files SQLite makes beside it: snapshots are in
 * WAL mode, and even a read-only open (the integrity check) creates them.
 */
async function rmDatabaseFile(path: string): Promise<void> {
  await Promise.all(['', '-wal', '-shm', '-journal'].map((suffix) => rm(`${path}${suffix}`, { force: true })));
}

/** SHA-256 and size of a file, read synchronously (used where nothing may interleave). */
function hashFileSync(path: string): { sha256: string; size: number } {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  const fd = openSync(path, 'r');
  let size = 0;
  try {
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) {
      hash.update(buffer.subarray(0, n));
      size += n;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest('hex'), size };
}

/** writeFileDurable's steps, synchronously: temp file, fsync, rename, fsync of the directory. */
function writeFileDurableSync(path: string, dir: string, data: string): void {
  const temp = tempPathFor(path);
  try {
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, data);
    } finally {
      closeSync(fd);
    }
    fsyncPathSync(temp);
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  fsyncPathSync(dir);
}

/**
 * Backups of the server's state in `<data-dir>/backups`: `<id>.db[.gz]` beside `<id>.json`
 * metadata. Operations run one at a time; the server keeps serving during a snapshot.
 */
export class BackupManager {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly state: ServerState,
    private readonly dir: string,
  ) {}

  /** Runs `task` after every operation queued before it. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task, task);
    this.queue = next.catch(() => undefined);
    return next;
  }

  create(compress: boolean): Promise<BackupInfo> {
    return this.exclusive(async () => {
      const id = newBackupId(new Date());
      const raw = await this.tempPath(id);
      try {
        // A consistent snapshot (VACUUM INTO) on a thread of its own while requests go on.
        await this.state.writer.snapshot(raw);
        return await this.seal(id, raw, compress);
      } finally {
        await rmDatabaseFile(raw);
      }
    });
  }

  async list(): Promise<BackupInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const infos: BackupInfo[] = [];
    for (const name of names) {
      if (!name.endsWith('.json') || !ID_PATTERN.test(name.slice(0, -5))) continue;
      const info = await this.get(name.slice(0, -5));
      if (info) infos.push(info);
    }
    return infos.sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id));
  }

  /** The backup's metadata, or undefined for an unknown (or malformed) id. */
  async get(id: string): Promise<BackupInfo | undefined> {
    if (!ID_PATTERN.test(id)) return undefined;
    try {
      return validInfo(id, JSON.parse(await readFile(join(this.dir, `${id}.json`), 'utf8')));
    } catch {
      return undefined;
    }
  }

  filePath(info: BackupInfo): string {
    return join(this.dir, info.backup_file);
  }

  verify(id: string): Promise<VerifyResult | undefined> {
    return this.exclusive(async () => {
      const info = await this.get(id);
      if (!info) return undefined;
      const checked = await this.unpackChecked(info);
      await rmDatabaseFile(checked.path);
      return checked.result;
    });
  }

  /**
   * Verifies the backup, then takes a backup of the current state and makes it durable and
   * listed (file and metadata fsynced) before every table is replaced in one transaction. If that
   * backup cannot be made (disk full, I/O error), the restore is refused and nothing changes.
   * From the flush to the swap everything is synchronous, so no decision is committed between
   * the snapshot and the swap: each acknowledged decision is in the restored state or in the
   * pre-restore backup. The pre-restore backup is stored uncompressed: compressing here would
   * hold the request thread for longer.
   */
  restore(id: string): Promise<{ status: 'restored'; id: string; pre_restore_backup: string } | undefined> {
    return this.exclusive(async () => {
      const info = await this.get(id);
      if (!info) return undefined;
      const checked = await this.unpackChecked(info);
      try {
        if (!checked.result.ok) throw new BackupInvalidError(checked.result);
        const source = new Database(checked.path);
        try {
          migrate(source);
        } finally {
          source.close();
        }
        this.state.writer.flush();
        const preId = this.snapshotForRestore();
        swapState(this.state, checked.path);
        this.state.reloadAfterRestore();
        return { status: 'restored' as const, id, pre_restore_backup: preId };
      } finally {
        await rmDatabaseFile(checked.path);
      }
    });
  }

  /**
   * What restoring `id` would change, changing nothing: the backup is verified and unpacked to a
   * temp file like a restore's, then opened read-only and compared with the live state.
   */
  preview(id: string): Promise<RestorePreview | undefined> {
    return this.exclusive(async () => {
      const info = await this.get(id);
      if (!info) return undefined;
      const checked = await this.unpackChecked(info);
      try {
        if (!checked.result.ok) throw new BackupInvalidError(checked.result);
        const source = new Database(checked.path, { readonly: true, fileMustExist: true });
        try {
          return { dry_run: true as const, id, ...diffStates(this.state.db, source, info.created_at) };
        } finally {
          source.close();
        }
      } finally {
        await rmDatabaseFile(checked.path);
      }
    });
  }

  /** Writes, fsyncs and registers a backup of the current state, synchronously; its id. */
  private snapshotForRestore(): string {
    const id = newBackupId(new Date());
    const temp = join(this.dir, PRE_RESTORE_TEMP);
    const file = `${id}.db`;
    const final = join(this.dir, file);
    const meta = join(this.dir, `${id}.json`);
    try {
      // VACUUM INTO wants a missing or empty file; creating it first gives it mode 0600.
      closeSync(openSync(temp, 'w', 0o600));
      this.state.db.prepare('VACUUM INTO ?').run(temp);
      fsyncPathSync(temp);
      const { sha256, size } = hashFileSync(temp);
      renameSync(temp, final);
      fsyncPathSync(this.dir);
      const info: BackupInfo = {
        id,
        backup_file: file,
        size_bytes: size,
        sha256,
        compressed: false,
        created_at: new Date().toISOString(),
        kind: 'pre_restore',
      };
      writeFileDurableSync(meta, this.dir, `${JSON.stringify(info, null, 2)}\n`);
      return id;
    } catch (err) {
      for (const path of [temp, `${temp}-wal`, `${temp}-shm`, `${temp}-journal`, final, meta]) {
        try {
          rmSync(path, { force: true });
        } catch {
          // A directory in the way, say: it is why we failed, and it is not ours to remove.
        }
      }
      throw new PreRestoreBackupError(err);
    }
  }

  delete(id: string): Promise<boolean> {
    return this.exclusive(async () => {
      const info = await this.get(id);
      if (!info) return false;
      await rm(join(this.dir, `${id}.json`), { force: true });
      await rm(this.filePath(info), { force: true });
      return true;
    });
  }

  /** A fresh, empty temp file (mode 0600) in the backups directory. */
  private async tempPath(id: string): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const path = join(this.dir, `.${id}.${randomBytes(4).toString('hex')}.tmp`);
    await (await open(path, 'wx', 0o600)).close();
    return path;
  }

  /** Compresses (or copies) a raw snapshot into its final file, hashes it, writes metadata. */
  private async seal(id: string, raw: string, compress: boolean): Promise<BackupInfo> {
    const file = `${id}.db${compress ? '.gz' : ''}`;
    const final = join(this.dir, file);
    const partial = `${final}.partial`;
    const hash = createHash('sha256');
    try {
      const stages = compress ? [createGzip({ level: 6 }), hashing(hash)] : [hashing(hash)];
      await pipeline([createReadStream(raw), ...stages, createWriteStream(partial, { mode: 0o600 })]);
      await fsyncFile(partial);
      await rename(partial, final);
      await fsyncDir(this.dir);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    const info: BackupInfo = {
      id,
      backup_file: file,
      size_bytes: (await stat(final)).size,
      sha256: hash.digest('hex'),
      compressed: compress,
      created_at: new Date().toISOString(),
      kind: 'manual',
    };
    await writeFileDurable(join(this.dir, `${id}.json`), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    return info;
  }

  /** Checks the recorded SHA-256, unpacks to a temp file and runs SQLite's integrity check. */
  private async unpackChecked(info: BackupInfo): Promise<{ path: string; result: VerifyResult }> {
    const path = await this.tempPath(info.id);
    const hash = createHash('sha256');
    const result = (ok: boolean, integrity: string): { path: string; result: VerifyResult } => ({
      path,
      result: { id: info.id, ok, sha256: hash.digest('hex'), integrity },
    });
    try {
      const stages = info.compressed ? [hashing(hash), createGunzip()] : [hashing(hash)];
      await pipeline([createReadStream(this.filePath(info)), ...stages, createWriteStream(path, { mode: 0o600 })]);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'backup file is missing' : 'backup file is not a valid gzip stream';
      return result(false, reason);
    }
    const digest = hash.copy().digest('hex');
    if (digest !== info.sha256) return result(false, `checksum mismatch: recorded ${info.sha256}, file has ${digest}`);
    const integrity = checkDatabase(path);
    return result(integrity === 'ok', integrity);
  }
}

/** "ok", or why the file is not a sound govctl state database. */
function checkDatabase(path: string): string {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    const problems = rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
    if (problems.length > 0) return `integrity check failed: ${problems.slice(0, 3).join('; ')}`;
    const tables = new Set(
      (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name),
    );
    const missing = STATE_TABLES.filter((t) => !tables.has(t));
    if (missing.length > 0) return `not a govctl state database (missing tables: ${missing.join(', ')})`;
    // Restore would refuse it anyway (migrate throws), but as a 500 after a passed verify.
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) return `schema version ${version} is newer than this govctl understands (${MIGRATIONS.length})`;
    return 'ok';
  } catch (err) {
    return `not a readable SQLite database (${(err as Error).message})`;
  } finally {
    db?.close();
  }
}

/** Replaces every state table with the attached file's, in one transaction. */
function swapState(state: ServerState, sourcePath: string): void {
  const { db } = state;
  db.prepare("ATTACH DATABASE ? AS restore_source").run(sourcePath);
  // Table and column names come from our own schema constants, never from input.
  try {
    db.transaction(() => {
      for (const table of [...STATE_TABLES].reverse()) db.exec(`DELETE FROM main.${table}`); // govctl:allow
      for (const table of STATE_TABLES) {
        const columns = (db.pragma(`main.table_info(${table})`) as Array<{ name: string }>).map((c) => c.name).join(', ');
        db.exec(`INSERT INTO main.${table} (${columns}) SELECT ${columns} FROM restore_source.${table}`); // govctl:allow
      }
      // The revocation ledger is not swapped: a key revoked or rotated away after the backup was
      // taken stays inactive (a restore must not re-enable a possibly compromised key).
      db.exec(`UPDATE main.api_keys SET active = 0, deactivated_at = r.deactivated_at, replaced_by = r.replaced_by
               FROM main.key_revocations AS r WHERE main.api_keys.key_id = r.key_id AND main.api_keys.active = 1`);
    })();
  } finally {
    db.exec('DETACH DATABASE restore_source');
  }
}
