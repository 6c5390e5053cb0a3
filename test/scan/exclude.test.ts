import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSecretRules, type SecretRuleSet } from '../../src/scan/rules/secret-rules.js';
import { runScan } from '../../src/scan/scanner.js';
import { runInProcess } from '../helpers/run-in-process.js';

/** Synthetic, format-correct GitHub token built at run time (never a real one). */
function fakeGithubToken(seed: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let x = seed;
  let out = 'ghp_';
  for (let i = 0; i < 36; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out += alphabet[(x >>> 16) % alphabet.length];
  }
  return out;
}
const KEY = new Uint8Array(32).fill(9);
const FINGERPRINT_KEY = 'a'.repeat(64);

/** A tree with one real-looking leak in src/ and deliberate fake ones in test/ and a snapshot. */
async function plantTree(root: string): Promise<void> {
  await mkdir(join(root, 'src'), { recursive: true });
  await mkdir(join(root, 'test', 'fixtures'), { recursive: true });
  await writeFile(join(root, 'src', 'deploy.js'), `const token = '${fakeGithubToken(1)}';\n`);
  await writeFile(join(root, 'test', 'fixtures', 'leak.js'), `const token = '${fakeGithubToken(2)}';\n`);
  await writeFile(join(root, 'test', 'case.test.js'), `const token = '${fakeGithubToken(3)}';\n`);
  await writeFile(join(root, 'app.snap'), `token: ${fakeGithubToken(4)}\n`);
}

const files = (result: Awaited<ReturnType<typeof runScan>>): string[] =>
  result.findings.map((f) => (f.location as { file: string }).file).sort();

describe('scan exclusions (.govctlignore and --exclude)', () => {
  let dir: string;
  let rules: SecretRuleSet;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-exclude-'));
    rules = await loadSecretRules();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const scan = (root: string, extra: { exclude?: string[]; govctlignore?: boolean; git?: boolean } = {}) =>
    runScan({ kind: 'secrets', root, rules, maxFileBytes: 1 << 20, fingerprintKey: KEY, workers: 0, ...extra });

  it('leaves out what the root .govctlignore names, and counts and lists it', async () => {
    const root = join(dir, 'ignorefile');
    await plantTree(root);
    const before = await scan(root);
    expect(files(before)).toEqual(['app.snap', 'src/deploy.js', 'test/case.test.js', 'test/fixtures/leak.js']);
    expect(before.summary.excluded).toBe(0);

    await writeFile(join(root, '.govctlignore'), '# deliberate fake secrets\ntest/\n*.snap\n');
    const after = await scan(root);
    expect(files(after)).toEqual(['src/deploy.js']);
    expect(after.summary.excluded).toBe(2);
    expect(after.excluded_paths.sort()).toEqual(['app.snap', 'test/']);
    expect(after.exclude_sources).toEqual(['.govctlignore']);

    const off = await scan(root, { govctlignore: false });
    expect(off.findings).toHaveLength(4);
    expect(off.summary.excluded).toBe(0);
  });

  it('takes --exclude patterns (gitignore syntax, "./" allowed) beside .govctlignore', async () => {
    const root = join(dir, 'flags');
    await plantTree(root);
    const result = await scan(root, { exclude: ['./test/fixtures/', '**/*.test.js'] });
    expect(files(result)).toEqual(['app.snap', 'src/deploy.js']);
    expect(result.summary.excluded).toBe(2);
    expect(result.excluded_paths.sort()).toEqual(['test/case.test.js', 'test/fixtures/']);
    expect(result.exclude_sources).toEqual(['--exclude']);

    await writeFile(join(root, '.govctlignore'), '*.snap\n');
    const both = await scan(root, { exclude: ['test/'] });
    expect(files(both)).toEqual(['src/deploy.js']);
    expect(both.exclude_sources).toEqual(['.govctlignore', '--exclude']);
  });

  it('scans a file named as the root whatever the exclusions say', async () => {
    const root = join(dir, 'ignorefile', 'test', 'case.test.js');
    const result = await scan(root, { exclude: ['*.js'] });
    expect(result.findings).toHaveLength(1);
    expect(result.summary.excluded).toBe(0);
  });

  it('applies the exclusions to git history too, and counts what it left out', async () => {
    const root = join(dir, 'repo');
    await plantTree(root);
    const git = (...args: string[]) => execa('git', ['-C', root, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
    await git('init', '-q');
    await git('add', '.');
    await git('commit', '-q', '-m', 'fixtures');
    await writeFile(join(root, '.govctlignore'), 'test/\n*.snap\n');
    const result = await scan(root, { git: true });
    expect(files(result)).toEqual(['src/deploy.js']);
    expect(result.summary.excluded_in_history).toBe(3);
    expect(result.summary.commits_scanned).toBe(1);
  });

  it('says how many paths were excluded, in the table and in the JSON summary', async () => {
    const root = join(dir, 'cli');
    await plantTree(root);
    await writeFile(join(root, '.govctlignore'), 'test/\n');
    const env = { GOVCTL_FINGERPRINT_KEY: FINGERPRINT_KEY };

    const table = await runInProcess(['scan', 'secrets', root, '--workers', '0', '--exclude', '*.snap'], { env });
    expect(table.exitCode).toBe(1);
    expect(table.stdout).toContain('src/deploy.js');
    expect(table.stdout).not.toMatch(/test\/|app\.snap/);
    expect(table.stdout).toContain('2 excluded by .govctlignore and --exclude');

    const json = await runInProcess(['scan', 'secrets', root, '--workers', '0', '--exclude', '*.snap', '--exclude', 'src/', '-o', 'json'], { env });
    expect(json.exitCode).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.data.findings).toEqual([]);
    expect(report.data.summary.excluded).toBe(3);
    expect(report.data.excluded_paths.sort()).toEqual(['app.snap', 'src/', 'test/']);
    expect(report.data.exclude_sources).toEqual(['.govctlignore', '--exclude']);
  });
});
