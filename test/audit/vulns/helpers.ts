import { createWriteStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ZipFile } from 'yazl';
import type { PackageRef } from '../../../src/audit/types.js';

export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'audit', 'osv');
export const DB_DIR = join(FIXTURES, 'db');
export const KEY = new Uint8Array(32).fill(7);

export function npm(name: string, version: string): PackageRef {
  return { purl: `pkg:npm/${name.replace('@', '%40')}@${version}`, ecosystem: 'npm', name, version, manifests: ['package-lock.json'] };
}

export function pypi(name: string, version: string): PackageRef {
  return { purl: `pkg:pypi/${name}@${encodeURIComponent(version)}`, ecosystem: 'PyPI', name, version, manifests: ['poetry.lock'] };
}

/** Every file under `dir`, relative, sorted. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/**
 * Writes a zip with yazl (an independent writer, not our reader's mirror). `entries` maps entry
 * names to contents; a Buffer is stored as is.
 */
export async function writeZip(path: string, entries: Record<string, string | Buffer>): Promise<void> {
  const zip = new ZipFile();
  const done = new Promise<void>((resolve, reject) => {
    const out = createWriteStream(path);
    out.on('close', () => resolve());
    out.on('error', reject);
    zip.outputStream.pipe(out);
  });
  for (const [name, content] of Object.entries(entries)) {
    zip.addBuffer(typeof content === 'string' ? Buffer.from(content) : content, name, { mtime: new Date(0) });
  }
  zip.end();
  await done;
}

/** The fixture database as an all.zip (flat: one <ID>.json per advisory, as OSV publishes it). */
export async function zipOfFixtureDb(path: string): Promise<void> {
  const entries: Record<string, Buffer> = {};
  for (const file of await filesUnder(DB_DIR)) entries[file.split('/').pop()!] = await readFile(join(DB_DIR, file));
  await writeZip(path, entries);
}
