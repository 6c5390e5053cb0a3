import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { InterruptedError, InvalidInputError, messageOf } from '../../core/errors.js';
import { isErrnoError } from '../../core/fs-errors.js';
import { parseAdvisory, type OsvAdvisory } from './osv-schema.js';
import { forEachJsonEntry } from './osv-zip.js';

export interface LoadOsvDbOptions {
  /** A directory of OSV JSON files (searched recursively), one OSV JSON file, or a zip of them. */
  path: string;
  /** Which advisories to keep: the others are validated, counted and dropped (memory stays bounded). */
  keep: (advisory: OsvAdvisory) => boolean;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export interface OsvDb {
  /** Advisories read and validated, all ecosystems, withdrawn included. */
  advisories: number;
  withdrawn: number;
  /** The advisories `keep` accepted, withdrawn ones excluded. */
  kept: OsvAdvisory[];
}

const HINT = '--osv-db takes a directory of OSV JSON files or an ecosystem all.zip (https://osv-vulnerabilities.storage.googleapis.com/<ecosystem>/all.zip)';
const PROGRESS_EVERY = 10_000;
/** Files read at once from a directory database (results are still handled in path order). */
const READ_AHEAD = 32;

/**
 * Reads an OSV database. Every advisory file is parsed and validated, relevant or not, so a
 * file that is not OSV is reported whatever the components are: the same database gives the
 * same answer for every project. Only the advisories `keep` wants are retained.
 */
export async function loadOsvDb(options: LoadOsvDbOptions): Promise<OsvDb> {
  const { path } = options;
  const info = await stat(path).catch((err: unknown) => {
    const cause = isErrnoError(err) && err.code === 'ENOENT' ? 'no such file or directory' : messageOf(err);
    throw new InvalidInputError(`cannot read OSV database ${path}: ${cause}`, { hint: HINT, cause: err });
  });
  const db: OsvDb = { advisories: 0, withdrawn: 0, kept: [] };
  let total: number | undefined;
  const add = (data: Buffer, source: string): void => {
    const advisory = parseAdvisory(data, source);
    db.advisories += 1;
    if (advisory.withdrawn !== undefined) db.withdrawn += 1;
    else if (options.keep(advisory)) db.kept.push(advisory);
    if (db.advisories % PROGRESS_EVERY === 0) options.onProgress?.(`read ${db.advisories}${total ? `/${total}` : ''} advisories from ${path}`);
  };

  if (info.isDirectory()) {
    const files = await jsonFilesUnder(path);
    total = files.length;
    for (let i = 0; i < files.length; i += READ_AHEAD) {
      if (options.signal?.aborted) throw new InterruptedError(`interrupted while reading ${path}`);
      const batch = files.slice(i, i + READ_AHEAD);
      const contents = await Promise.all(batch.map((file) => readAdvisoryFile(file)));
      contents.forEach((data, j) => add(data, batch[j]!));
    }
  } else if (path.toLowerCase().endsWith('.json')) {
    add(await readAdvisoryFile(path), path);
  } else {
    await forEachJsonEntry(path, (name, data) => add(data, `${path}:${name}`), {
      ...(options.signal ? { signal: options.signal } : {}),
      onOpen: (entries) => {
        total = entries;
      },
    });
  }
  if (db.advisories === 0) {
    throw new InvalidInputError(`no OSV advisories in ${path}: an empty database would pass every component`, { hint: HINT });
  }
  return db;
}

/** Every *.json below `dir`, sorted, skipping dot-directories (a cloned .git, say). */
async function jsonFilesUnder(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (err) {
    throw new InvalidInputError(`cannot read OSV database ${dir}: ${messageOf(err)}`, { hint: HINT, cause: err });
  }
  return entries
    .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && entry.name.toLowerCase().endsWith('.json'))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => !relative(dir, file).split(sep).some((part) => part.startsWith('.')))
    .sort();
}

async function readAdvisoryFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const cause = isErrnoError(err) && err.code === 'EISDIR' ? 'is a directory' : messageOf(err);
    throw new InvalidInputError(`cannot read OSV advisory ${file}: ${cause}`, { cause: err });
  }
}
