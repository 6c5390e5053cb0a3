import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InterruptedError, InvalidInputError } from '../../core/errors.js';
import { fileSystemError, isErrnoError } from '../../core/fs-errors.js';

/** One value of package-lock.json's `packages` map, after its fields were type-checked. */
export interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  extraneous?: boolean;
  license?: unknown;
  licenses?: unknown;
  workspaces?: unknown;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface NpmLockfile {
  lockfileVersion: number;
  /** Top-level name/version (the root entry "" says the same in v2/v3). */
  name?: string;
  version?: string;
  /** The `packages` map: "" is the project, "node_modules/a" an install, "packages/a" a workspace. */
  packages: Record<string, LockEntry>;
}

const STRING_FIELDS = ['name', 'version', 'resolved', 'integrity'] as const;
const BOOLEAN_FIELDS = ['link', 'dev', 'optional', 'devOptional', 'peer', 'extraneous'] as const;
const DEPENDENCY_FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies'] as const;

/**
 * Reads and checks an npm lockfile (package-lock.json or npm-shrinkwrap.json, lockfileVersion 2
 * or 3): one read, one JSON.parse, a type check of the fields the SBOM uses. Every problem is an
 * InvalidInputError naming the file and, inside it, the JSON path.
 */
export async function readNpmLockfile(dir: string, path: string, signal?: AbortSignal): Promise<NpmLockfile> {
  let text: string;
  try {
    text = await readFile(path, { encoding: 'utf8', signal });
  } catch (err) {
    if (signal?.aborted) throw new InterruptedError(`interrupted while reading ${path}`, { cause: err });
    if (isErrnoError(err) && err.code === 'ENOENT') {
      throw new InvalidInputError(`no ${basename(path)} in ${dir}`, { hint: 'create it with `npm install --package-lock-only` (npm >= 7)', cause: err });
    }
    throw fileSystemError(err, 'read', path);
  }
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new InvalidInputError(`${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return checkLockfile(json, path);
}

function checkLockfile(json: unknown, path: string): NpmLockfile {
  if (!isRecord(json)) throw new InvalidInputError(`${path} is not an npm lockfile: expected a JSON object, got ${typeOf(json)}`);
  const { lockfileVersion, packages } = json;
  if (lockfileVersion === 1 || (packages === undefined && isRecord(json.dependencies))) {
    throw new InvalidInputError(`${path} is a lockfileVersion 1 lockfile (npm 6 or older), which has no "packages" map`, {
      hint: 'regenerate it with npm >= 7: `npm install --package-lock-only`',
    });
  }
  if (typeof lockfileVersion !== 'number' || !Number.isInteger(lockfileVersion)) {
    throw new InvalidInputError(`${path} is not an npm lockfile: lockfileVersion: expected an integer, got ${typeOf(lockfileVersion)}`);
  }
  if (!isRecord(packages)) throw new InvalidInputError(`${path} is not an npm lockfile: packages: expected an object, got ${typeOf(packages)}`);
  for (const key in packages) checkEntry(packages[key], `packages[${JSON.stringify(key)}]`, path);
  const lock: NpmLockfile = { lockfileVersion, packages: packages as Record<string, LockEntry> };
  if (typeof json.name === 'string') lock.name = json.name;
  if (typeof json.version === 'string') lock.version = json.version;
  return lock;
}

function checkEntry(entry: unknown, at: string, path: string): void {
  if (!isRecord(entry)) throw invalid(path, at, 'an object', entry);
  for (const field of STRING_FIELDS) {
    const value = entry[field];
    if (value !== undefined && typeof value !== 'string') throw invalid(path, `${at}.${field}`, 'a string', value);
  }
  for (const field of BOOLEAN_FIELDS) {
    const value = entry[field];
    if (value !== undefined && typeof value !== 'boolean') throw invalid(path, `${at}.${field}`, 'true or false', value);
  }
  for (const field of DEPENDENCY_FIELDS) {
    const deps = entry[field];
    if (deps === undefined) continue;
    if (!isRecord(deps)) throw invalid(path, `${at}.${field}`, 'an object of name: version range', deps);
    for (const name in deps) {
      if (typeof deps[name] !== 'string') throw invalid(path, `${at}.${field}[${JSON.stringify(name)}]`, 'a version range string', deps[name]);
    }
  }
  if (entry.link === true && typeof entry.resolved !== 'string') throw invalid(path, `${at}.resolved`, 'the path a link points to', entry.resolved);
}

function invalid(path: string, at: string, expected: string, got: unknown): InvalidInputError {
  return new InvalidInputError(`${path}: ${at}: expected ${expected}, got ${typeOf(got)}`);
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
