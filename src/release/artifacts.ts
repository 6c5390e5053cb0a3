import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { withFileSystemErrors } from '../core/fs-errors.js';

/** The manifest and its signature sit at the top of the release directory and are not artifacts. */
export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';

export type EntryKind = 'file' | 'symlink' | 'other';

/** A relative path is excluded when it is a pattern or lies under one (a directory). */
export function isExcluded(path: string, exclude: readonly string[]): boolean {
  return exclude.some((pattern) => path === pattern || path.startsWith(`${pattern}/`));
}

/** Sorting of artifact paths: by UTF-16 code units, the same on every machine and locale. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Every entry under `dir` that is not a directory, by relative posix path, sorted. Directories
 * are entered only when they are real directories: a symbolic link is an entry of its own (never
 * followed out of the release), as is anything that is not a regular file.
 */
export async function listEntries(dir: string, exclude: readonly string[] = []): Promise<Map<string, EntryKind>> {
  const entries = new Map<string, EntryKind>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    const children = await withFileSystemErrors('read', abs, () => readdir(abs, { withFileTypes: true }));
    for (const child of children) {
      const childRel = rel === '' ? child.name : `${rel}/${child.name}`;
      if (rel === '' && (child.name === MANIFEST_FILE || child.name === SIGNATURE_FILE)) continue;
      if (isExcluded(childRel, exclude)) continue;
      if (child.isDirectory()) await walk(join(abs, child.name), childRel);
      else entries.set(childRel, child.isFile() ? 'file' : child.isSymbolicLink() ? 'symlink' : 'other');
    }
  };
  await walk(dir, '');
  return new Map([...entries].sort(([a], [b]) => comparePaths(a, b)));
}

/** SHA-256 (hex) and size of a file, read streaming: the size is what was hashed. */
export async function hashFile(path: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await withFileSystemErrors('read', path, () =>
    pipeline(createReadStream(path, signal ? { signal } : {}), async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) {
        size += chunk.length;
        hash.update(chunk);
      }
    }),
  );
  return { sha256: hash.digest('hex'), size };
}
