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
  /** Report directories left out: excluded ones and govctl run directories (<run-id>/). */
  reportDirs: number;
  /** The root is one file, not a directory. */
  rootIsFile: boolean;
}

/** VCS folders, and .govctl (it holds the fingerprint key). */
const ALWAYS_SKIPPED_DIRS = new Set(['.git', '.hg', '.svn', '.govctl']);

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
 * Lists the files under `root` to scan: .gitignore honoured at every level, VCS folders and
 * symlinks left out, files over the size limit skipped with a reason.
 */
export async function walk(root: string, options: WalkOptions): Promise<WalkResult> {
  // A root that cannot be read is an error, not an empty scan that passes.
  const rootStat = await stat(root).catch((err: unknown) => {
    throw fileSystemError(err, 'scan', root);
  });
  const result: WalkResult = { files: [], skipped: [], ignored: 0, reportDirs: 0, rootIsFile: false };
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
        else subdirs.push(abs);
      } else if (entry.isFile()) {
        if (useGitignore && ignoredBy(here, rel, false)) result.ignored += 1;
        else files.push({ abs, rel });
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
