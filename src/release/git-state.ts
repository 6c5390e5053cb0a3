import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import { execa } from 'execa';

export interface GitState {
  /** The commit HEAD points at (40 or 64 hex digits). */
  commit: string;
  /** Tracked changes, staged or not, or untracked files that are not ignored. */
  dirty: boolean;
  /** The top of the work tree. */
  root: string;
}

export interface GitStateResult {
  state: GitState | null;
  /** Why there is no state: said to the user, since "no commit recorded" needs a reason. */
  reason?: string;
}

export interface GitStateOptions {
  /** Paths left out of the dirty check: the release directory being written inside the tree. */
  ignore?: string[];
  signal?: AbortSignal;
}

/** `status` may otherwise refresh and rewrite the index: a read-only look must not. */
const GIT_ENV = { GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0' };

async function git(cwd: string, args: string[], signal?: AbortSignal) {
  return execa('git', ['-C', cwd, ...args], { reject: false, stripFinalNewline: true, env: GIT_ENV, ...(signal ? { cancelSignal: signal } : {}) });
}

function lastLine(text: unknown): string {
  return String(text ?? '').trim().split('\n').pop() ?? '';
}

/**
 * The commit and dirty state of the tree at `root`, read with `git` (execa, no shell). Not a git
 * repository, no commit yet, or no git installed: `state` null and the reason said.
 */
export async function readGitState(root: string, options: GitStateOptions = {}): Promise<GitStateResult> {
  const top = await git(root, ['rev-parse', '--show-toplevel'], options.signal);
  if (top.failed || top.exitCode !== 0) {
    if ((top as { code?: string }).code === 'ENOENT') return { state: null, reason: 'git is not installed: commit not recorded' };
    const cause = lastLine(top.stderr);
    if (/not a git repository/i.test(cause)) return { state: null, reason: `${root} is not in a git repository: commit not recorded` };
    return { state: null, reason: `git cannot read ${root}: ${cause || `exit ${String(top.exitCode)}`}` };
  }
  const toplevel = String(top.stdout);
  const head = await git(toplevel, ['rev-parse', '--verify', '-q', 'HEAD^{commit}'], options.signal);
  if (head.exitCode !== 0) return { state: null, reason: `the git repository at ${toplevel} has no commit yet: commit not recorded` };
  const pathspecs = ['.'];
  const realTop = await realpath(toplevel);
  for (const path of options.ignore ?? []) {
    const rel = relative(realTop, await realpath(path).catch(() => path));
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) pathspecs.push(`:(exclude,literal)${rel.split(sep).join('/')}`);
  }
  const status = await git(toplevel, ['status', '--porcelain=v1', '-z', '--untracked-files=normal', '--ignore-submodules=none', '--', ...pathspecs], options.signal);
  if (status.exitCode !== 0) return { state: null, reason: `git status failed in ${toplevel}: ${lastLine(status.stderr)}` };
  return { state: { commit: String(head.stdout), dirty: String(status.stdout).length > 0, root: toplevel } };
}

/**
 * Whether git would ignore `path` (for a key file that must not be committed): undefined when
 * `path` is not inside a work tree or git cannot say.
 */
export async function isIgnoredByGit(path: string, cwd: string): Promise<boolean | undefined> {
  const inside = await git(cwd, ['rev-parse', '--is-inside-work-tree']);
  if (inside.exitCode !== 0 || String(inside.stdout) !== 'true') return undefined;
  const check = await git(cwd, ['check-ignore', '-q', '--', path]);
  if (check.exitCode === 0) return true;
  if (check.exitCode === 1) return false;
  return undefined;
}
