import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InterruptedError } from '../../core/errors.js';
import { declaredLicenses } from './npm-integrity.js';

/** A package whose license the lockfile does not record: where it may be installed. */
export interface InstalledLookup {
  purl: string;
  version: string;
  /** Install paths relative to the project directory, tried in order. */
  paths: string[];
}

export interface InstalledLicenses {
  licenses: Map<string, string[]>;
  /** Installed package.json files whose version is not the lockfile's (node_modules out of date). */
  stale: number;
}

/** package.json files read at once: enough to hide latency, few enough to stay clear of EMFILE. */
const CONCURRENCY = 32;

/**
 * Reads the `license` of installed packages from `<dir>/<path>/package.json`, at most
 * CONCURRENCY files at a time. A copy that is missing or unreadable is skipped (an optional
 * package for another platform is never installed); a copy of another version than the lockfile
 * names is not used, because its license may differ.
 */
export async function readInstalledLicenses(dir: string, lookups: InstalledLookup[], signal?: AbortSignal): Promise<InstalledLicenses> {
  const result: InstalledLicenses = { licenses: new Map(), stale: 0 };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < lookups.length) {
      const lookup = lookups[next++]!;
      for (const path of lookup.paths) {
        if (signal?.aborted) throw new InterruptedError('interrupted while reading installed package.json files');
        const manifest = await readManifest(join(dir, path, 'package.json'), signal);
        if (manifest === undefined) continue;
        if (lookup.version !== '' && manifest.version !== lookup.version) {
          result.stale++;
          continue;
        }
        const licenses = declaredLicenses(manifest.license, manifest.licenses);
        if (licenses.length > 0) result.licenses.set(lookup.purl, licenses);
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, lookups.length) }, worker));
  return result;
}

async function readManifest(path: string, signal?: AbortSignal): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(path, { encoding: 'utf8', signal });
  } catch (err) {
    if (signal?.aborted) throw new InterruptedError('interrupted while reading installed package.json files', { cause: err });
    return undefined;
  }
  try {
    const json: unknown = JSON.parse(text);
    return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
