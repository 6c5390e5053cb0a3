import { readdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../core/errors.js';

/**
 * The shipped data files: profiles/ and scenarios/ at the package root. This module is
 * src/load/data-files.ts under tsx and vitest, and dist/load/data-files.js when built; both sit
 * two levels below the root, which is where package.json "files" puts the data dirs.
 */
export function packageDataDir(moduleUrl: string | URL, dir: 'profiles' | 'scenarios'): string {
  return fileURLToPath(new URL(`../../${dir}/`, moduleUrl));
}

export const PROFILES_DIR = packageDataDir(import.meta.url, 'profiles');
export const SCENARIOS_DIR = packageDataDir(import.meta.url, 'scenarios');

export type DataFileKind = 'profile' | 'scenario';

const DIRS: Record<DataFileKind, string> = { profile: PROFILES_DIR, scenario: SCENARIOS_DIR };

/** The names (file names without .json) in a data dir, sorted; none when it does not exist. */
export function listDataFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** The shipped profiles' names, for help and completion. */
export function listProfiles(): string[] {
  return listDataFiles(PROFILES_DIR);
}

/** The shipped scenarios' names. */
export function listScenarios(): string[] {
  return listDataFiles(SCENARIOS_DIR);
}

/** A bare name ("stress") names a shipped file; anything with a slash or ending in .json is a path. */
export function isBareName(nameOrPath: string): boolean {
  return !/[\\/]/.test(nameOrPath) && !nameOrPath.endsWith('.json');
}

/**
 * The file a profile or scenario argument refers to: a shipped one for a bare name (an unknown
 * name is an input error listing the available ones), else a path resolved against `baseDir`.
 */
export function resolveDataFile(kind: DataFileKind, nameOrPath: string, baseDir: string): string {
  if (nameOrPath.trim() === '') throw new InvalidInputError(`empty ${kind} name`);
  if (!isBareName(nameOrPath)) return isAbsolute(nameOrPath) ? nameOrPath : resolve(baseDir, nameOrPath);
  const names = listDataFiles(DIRS[kind]);
  if (!names.includes(nameOrPath)) {
    throw new InvalidInputError(`unknown ${kind} "${nameOrPath}"`, {
      hint: `available ${kind}s: ${names.join(', ') || '(none shipped)'}; or pass the path of a ${kind} file (e.g. ./my-${kind}.json)`,
    });
  }
  return join(DIRS[kind], `${nameOrPath}.json`);
}
