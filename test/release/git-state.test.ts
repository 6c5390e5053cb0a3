import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isIgnoredByGit, readGitState } from '../../src/release/git-state.js';
import { buildManifest } from '../../src/release/manifest.js';

let dir: string;
beforeEach(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'govctl-git-')));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** git in `dir` with an identity of its own, whatever the machine's config says. */
const git = (...args: string[]) =>
  execa('git', ['-C', dir, '-c', 'user.name=govctl test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args]);

describe('readGitState', () => {
  it('a directory outside any repository: no state, and why', async () => {
    const result = await readGitState(dir);
    expect(result.state).toBeNull();
    expect(result.reason).toBe(`${dir} is not in a git repository: commit not recorded`);
  });

  it('a repository without a commit: no state, and why', async () => {
    await git('init', '-q');
    const result = await readGitState(dir);
    expect(result.state).toBeNull();
    expect(result.reason).toContain('has no commit yet');
  });

  it('reads the commit, clean after it and dirty after a change, from a subdirectory too', async () => {
    await git('init', '-q');
    await writeFile(join(dir, 'a.txt'), 'one\n');
    await writeFile(join(dir, '.gitignore'), 'reports/\n');
    await git('add', '.');
    await git('commit', '-q', '-m', 'first');
    const commit = (await git('rev-parse', 'HEAD')).stdout.trim();

    expect(await readGitState(dir)).toEqual({ state: { commit, dirty: false, root: dir } });
    await mkdir(join(dir, 'src'));
    expect((await readGitState(join(dir, 'src'))).state).toEqual({ commit, dirty: false, root: dir });

    // Ignored output does not make the tree dirty.
    await mkdir(join(dir, 'reports'));
    await writeFile(join(dir, 'reports', 'x.json'), '{}');
    expect((await readGitState(dir)).state?.dirty).toBe(false);

    await writeFile(join(dir, 'a.txt'), 'two\n');
    expect((await readGitState(dir)).state).toEqual({ commit, dirty: true, root: dir });
    await git('checkout', '-q', '--', 'a.txt');
    await writeFile(join(dir, 'new.txt'), 'untracked\n');
    expect((await readGitState(dir)).state?.dirty).toBe(true);
  });

  it('leaves the release directory being written out of the dirty check', async () => {
    await git('init', '-q');
    await writeFile(join(dir, 'a.txt'), 'one\n');
    await git('add', '.');
    await git('commit', '-q', '-m', 'first');
    const releaseDir = join(dir, 'out', 'release-1.0.0');
    await mkdir(releaseDir, { recursive: true });
    await writeFile(join(releaseDir, 'gate.json'), '{}');
    expect((await readGitState(dir)).state?.dirty).toBe(true);
    expect((await readGitState(dir, { ignore: [releaseDir] })).state?.dirty).toBe(false);

    const warnings: string[] = [];
    const manifest = await buildManifest({ dir: releaseDir, version: '1.0.0', startedAt: new Date(), finishedAt: new Date(), steps: [], gitRoot: dir, onWarning: (w) => warnings.push(w) });
    expect(manifest.git).toMatchObject({ dirty: false, root: dir });
    expect(manifest.git?.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(warnings).toEqual([]);
  });

  it('buildManifest records no git state outside a repository and says why', async () => {
    await writeFile(join(dir, 'a.txt'), 'x');
    const warnings: string[] = [];
    const manifest = await buildManifest({ dir, version: '1', startedAt: new Date(), finishedAt: new Date(), steps: [], gitRoot: dir, onWarning: (w) => warnings.push(w) });
    expect(manifest.git).toBeNull();
    expect(warnings).toEqual([`${dir} is not in a git repository: commit not recorded`]);
  });
});

describe('isIgnoredByGit', () => {
  it('says whether a path is ignored, and nothing outside a repository', async () => {
    expect(await isIgnoredByGit(join(dir, 'k.key'), dir)).toBeUndefined();
    await git('init', '-q');
    await writeFile(join(dir, '.gitignore'), '*.key\n');
    expect(await isIgnoredByGit(join(dir, 'k.key'), dir)).toBe(true);
    expect(await isIgnoredByGit(join(dir, 'k.pub'), dir)).toBe(false);
  });
});
