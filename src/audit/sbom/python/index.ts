import { readdir, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { InvalidInputError } from '../../../core/errors.js';
import type { ParsedLockfile } from '../model.js';
import type { PythonParseContext } from './common.js';
import { parsePipfileLock } from './pipfile.js';
import { parsePoetryLock } from './poetry.js';
import { parseRequirementsFile } from './requirements.js';
import { parseUvLock } from './uv.js';

export { pypiName, pypiPurl } from './pep503.js';
export type { PythonParseContext } from './common.js';

const LOCK_FILES = new Set(['poetry.lock', 'Pipfile.lock', 'uv.lock']);
const REQUIREMENTS_TOP = /^requirements.*\.txt$/i;

/**
 * The Python manifests of a directory, relative paths sorted: requirements*.txt at the top level
 * and requirements/*.txt, poetry.lock, Pipfile.lock, uv.lock (top level only).
 */
export async function findPythonManifests(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await listFiles(dir, true)) {
    if (LOCK_FILES.has(name) || REQUIREMENTS_TOP.test(name)) found.push(name);
  }
  for (const name of await listFiles(join(dir, 'requirements'), false)) {
    if (/\.txt$/i.test(name)) found.push(posix.join('requirements', name));
  }
  return found.sort();
}

/** Regular files (or links to them) of a directory; a missing optional directory is empty. */
async function listFiles(dir: string, required: boolean): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!required && (code === 'ENOENT' || code === 'ENOTDIR')) return [];
    throw new InvalidInputError(`cannot read directory ${dir}: ${code === 'ENOENT' ? 'no such directory' : (err as Error).message}`);
  }
  const names: string[] = [];
  for (const e of entries) {
    if (e.isFile()) names.push(e.name);
    else if (e.isSymbolicLink()) {
      const target = await stat(join(dir, e.name)).catch(() => undefined);
      if (target?.isFile()) names.push(e.name);
    }
  }
  return names;
}

/** Parses one manifest (a path findPythonManifests returned, relative to dir) by its file name. */
export async function parsePythonManifest(dir: string, manifest: string, ctx: PythonParseContext): Promise<ParsedLockfile> {
  const base = posix.basename(manifest.split('\\').join('/'));
  if (base === 'poetry.lock') return parsePoetryLock(dir, manifest, ctx);
  if (base === 'Pipfile.lock') return parsePipfileLock(dir, manifest, ctx);
  if (base === 'uv.lock') return parseUvLock(dir, manifest, ctx);
  if (/\.txt$/i.test(base)) return parseRequirementsFile(dir, manifest, ctx);
  throw new InvalidInputError(`${manifest}: not a Python manifest (expected requirements*.txt, poetry.lock, Pipfile.lock or uv.lock)`);
}
