import type { Dirent } from 'node:fs';
import { constants } from 'node:fs';
import { access, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { InvalidInputError } from '../core/errors.js';
import { fileSystemError } from '../core/fs-errors.js';

export interface WalkOptions {
  /** Respect .gitignore files (nested ones too). Default true. */
  gitignore?: boolean;
  /** Files larger than this are skipped (and said so). */
  maxFileBytes: number;
  /** Absolute directories never entered (the report directory a run writes to). */
  excludeDirs?: string[];
  /** Read `.govctlignore` at the root (gitignore syntax). Default true. */
  govctlignore?: boolean;
  /** More exclusions, gitignore syntax, relative to the root (`--exclude`). */
  exclude?: string[];
  signal?: AbortSignal;
}

export interface WalkedFile {
  /** Relative to the scan root, with forward slashes: what reports show. */
  path: string;
  absPath: string;
  size: number;
}

export type SkipReason = 'too-large' | 'unreadable' | 'binary' | 'symlink';

export interface SkippedFile {
  path: string;
  reason: SkipReason;
}

export interface WalkResult {
  files: WalkedFile[];
  skipped: SkippedFile[];
  /** Files left out because a .gitignore names them. */
  ignored: number;
  /**
   * Entries left out by `.govctlignore` or `exclude` (a directory counts once, as for .gitignore),
   * and their paths (directories end with "/"; the first 1000), so an exclusion is never silent.
   */
  excluded: number;
  excludedPaths: string[];
  /** Where exclusions came from: ".govctlignore" when the root has one, "--exclude" when given. */
  excludeSources: string[];
  /** Whether a root-relative posix file path is excluded (for paths found elsewhere: git history). */
  isExcluded: (relPath: string) => boolean;
  /** Report directories left out: excluded ones and govctl run directories (<run-id>/). */
  reportDirs: number;
  /** The root is one file, not a directory. */
  rootIsFile: boolean;
}

/** VCS folders, and .govctl (it holds the fingerprint key). */
const ALWAYS_SKIPPED_DIRS = new Set(['.git', '.hg', '.svn', '.govctl']);

/** Exclusions read at the scan root, gitignore syntax: what a project never wants scanned. */
export const GOVCTLIGNORE = '.govctlignore';

/** Excluded paths listed in a result (the count is always exact). */
const MAX_EXCLUDED_PATHS = 1000;

/** A govctl run directory (reports/<run-id>/): govctl never scans its own reports. */
const RUN_DIR = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

const toPosix = (p: string): string => (sep === '/' ? p : p.split(sep).join('/'));

interface IgnoreScope {
  /** Directory (relative to root, posix, '' for root) the rules are relative to. */
  base: string;
  rules: Ignore;
}

function ignoredBy(scopes: IgnoreScope[], relPath: string, isDir: boolean): boolean {
  for (const scope of scopes) {
    const inScope = scope.base === '' ? relPath : relPath.slice(scope.base.length + 1);
    if (scope.rules.ignores(isDir ? `${inScope}/` : inScope)) return true;
  }
  return false;
}

/**
 * Lists the files under `root` to scan: .gitignore honoured at every level, the root's
 * .govctlignore and `exclude` patterns applied (and counted), VCS folders and symlinks left out,
 * files over the size limit skipped with a reason.
 */
export async function walk(root: string, options: WalkOptions): Promise<WalkResult> {
  // A root that cannot be read is an error, not an empty scan that passes.
  const rootStat = await stat(root).catch((err: unknown) => {
    throw fileSystemError(err, 'scan', root);
  });
  const result: WalkResult = {
    files: [],
    skipped: [],
    ignored: 0,
    excluded: 0,
    excludedPaths: [],
    excludeSources: [],
    isExcluded: () => false,
    reportDirs: 0,
    rootIsFile: false,
  };
  // A file named as the root is scanned whatever the exclusions say: the user asked for it.
  if (rootStat.isFile()) {
    result.rootIsFile = true;
    await access(root, constants.R_OK).catch((err: unknown) => {
      throw fileSystemError(err, 'scan', root);
    });
    const name = root.split(sep).pop() ?? root;
    if (rootStat.size > options.maxFileBytes) result.skipped.push({ path: name, reason: 'too-large' });
    else result.files.push({ path: name, absPath: root, size: rootStat.size });
    return result;
  }
  if (!rootStat.isDirectory()) throw new InvalidInputError(`cannot scan ${root}: not a regular file or directory`);
  const useGitignore = options.gitignore !== false;
  const excluded = new Set((options.excludeDirs ?? []).map((d) => resolve(d)));
  const exclusions = await loadExclusions(root, options, result);
  if (exclusions) {
    result.isExcluded = (relPath) => {
      try {
        return relPath !== '' && exclusions.ignores(relPath);
      } catch {
        return false; // not a relative path the matcher takes (an odd name from git): not excluded
      }
    };
  }
  const exclude = (rel: string, isDir: boolean): boolean => {
    if (!exclusions?.ignores(isDir ? `${rel}/` : rel)) return false;
    result.excluded += 1;
    if (result.excludedPaths.length < MAX_EXCLUDED_PATHS) result.excludedPaths.push(isDir ? `${rel}/` : rel);
    return true;
  };

  const visit = async (dir: string, scopes: IgnoreScope[]): Promise<void> => {
    if (options.signal?.aborted) return;
    const relDir = toPosix(relative(root, dir));
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (dir === root) throw fileSystemError(err, 'scan', root);
      result.skipped.push({ path: relDir || '.', reason: 'unreadable' });
      return;
    }
    let here = scopes;
    if (useGitignore && entries.some((e) => e.name === '.gitignore' && e.isFile())) {
      try {
        const rules = ignore().add(await readFile(join(dir, '.gitignore'), 'utf8'));
        here = [...scopes, { base: relDir, rules }];
      } catch {
        result.skipped.push({ path: relDir ? `${relDir}/.gitignore` : '.gitignore', reason: 'unreadable' });
      }
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: string[] = [];
    const files: Array<{ abs: string; rel: string }> = [];
    for (const entry of entries) {
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      const abs = join(dir, entry.name);
      if (entry.isSymbolicLink()) {
        result.skipped.push({ path: rel, reason: 'symlink' });
      } else if (entry.isDirectory()) {
        if (ALWAYS_SKIPPED_DIRS.has(entry.name)) continue;
        if (RUN_DIR.test(entry.name) || excluded.has(abs)) {
          result.reportDirs += 1;
          continue;
        }
        if (useGitignore && ignoredBy(here, rel, true)) result.ignored += 1;
        else if (!exclude(rel, true)) subdirs.push(abs);
      } else if (entry.isFile()) {
        if (useGitignore && ignoredBy(here, rel, false)) result.ignored += 1;
        else if (!exclude(rel, false)) files.push({ abs, rel });
      }
    }
    const sizes = await Promise.all(files.map((f) => stat(f.abs).then((s) => s.size, () => -1)));
    files.forEach((f, i) => {
      const size = sizes[i]!;
      if (size < 0) result.skipped.push({ path: f.rel, reason: 'unreadable' });
      else if (size > options.maxFileBytes) result.skipped.push({ path: f.rel, reason: 'too-large' });
      else result.files.push({ path: f.rel, absPath: f.abs, size });
    });
    for (const sub of subdirs) {
      if (options.signal?.aborted) return;
      await visit(sub, here);
    }
  };

  await visit(root, []);
  return result;
}

/** `--exclude ./test/` means `test/`: gitignore syntax has no "./". */
const normalisePattern = (pattern: string): string => pattern.trim().replace(/^(\.\/)+/, '');

/**
 * The root's `.govctlignore` and the `exclude` patterns as one gitignore matcher (relative to the
 * root), or undefined when there is none. An unreadable `.govctlignore` is listed as skipped.
 */
async function loadExclusions(root: string, options: WalkOptions, result: WalkResult): Promise<Ignore | undefined> {
  const rules = ignore();
  let any = false;
  if (options.govctlignore !== false) {
    const path = join(root, GOVCTLIGNORE);
    const isFile = await stat(path).then((s) => s.isFile(), () => false);
    if (isFile) {
      try {
        rules.add(await readFile(path, 'utf8'));
        result.excludeSources.push(GOVCTLIGNORE);
        any = true;
      } catch {
        result.skipped.push({ path: GOVCTLIGNORE, reason: 'unreadable' });
      }
    }
  }
  const patterns = (options.exclude ?? []).map(normalisePattern).filter((p) => p !== '');
  if (patterns.length > 0) {
    rules.add(patterns);
    result.excludeSources.push('--exclude');
    any = true;
  }
  return any ? rules : undefined;
}
