import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, fsyncSync as fsyncFd, openSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import Database from 'better-sqlite3';
import { writeFileDurable } from '../core/durable-write.js';
import { migrate } from './store/database.js';
import { MIGRATIONS, STATE_TABLES } from './store/schema.js';
import type { ServerState } from './store/state.js';

export interface BackupInfo {
  id: string;
  backup_file: string;
  size_bytes: number;
  sha256: string;
  compressed: boolean;
  created_at: string;
}

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

const ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

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

/** fsync a file by path, synchronously (used where nothing may interleave). */
function fsyncSync(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync a directory, so a rename into it survives a power loss. */
async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
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
        // SQLite's online backup: a consistent snapshot taken in steps while requests go on.
        await this.state.db.backup(raw);
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
      return JSON.parse(await readFile(join(this.dir, `${id}.json`), 'utf8')) as BackupInfo;
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
   * Verifies the backup, takes a backup of the current state, then replaces every table in one
   * transaction. Nothing runs between the pre-restore snapshot and the swap (both synchronous),
   * so no acknowledged decision falls between them.
   */
  restore(id: string): Promise<{ status: 'restored'; id: string; pre_restore_backup: string } | undefined> {
    return this.exclusive(async () => {
      const info = await this.get(id);
      if (!info) return undefined;
      const checked = await this.unpackChecked(info);
      const preId = newBackupId(new Date());
      const preRaw = await this.tempPath(preId);
      try {
        if (!checked.result.ok) throw new BackupInvalidError(checked.result);
        const source = new Database(checked.path);
        try {
          migrate(source);
        } finally {
          source.close();
        }
        const { db } = this.state;
        this.state.writer.flush();
        db.prepare('VACUUM INTO ?').run(preRaw);
        // VACUUM INTO does not fsync: make the old state durable before it is replaced.
        fsyncSync(preRaw);
        swapState(this.state, checked.path);
        this.state.reloadAfterRestore();
        await this.seal(preId, preRaw, true);
        return { status: 'restored' as const, id, pre_restore_backup: preId };
      } finally {
        await rmDatabaseFile(checked.path);
        await rmDatabaseFile(preRaw);
      }
    });
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

  private async tempPath(id: string): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    return join(this.dir, `.${id}.${randomBytes(4).toString('hex')}.tmp`);
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
    })();
  } finally {
    db.exec('DETACH DATABASE restore_source');
  }
}
