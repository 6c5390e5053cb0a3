import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type AjvDraft04 from 'ajv-draft-04';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { govctl, type CliResult } from '../helpers/cli.js';

/** Synthetic, format-correct credentials built at run time (never real ones). */
function randomFrom(alphabet: string, n: number, seed: number): string {
  let x = seed;
  let out = '';
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    // The high bits: an LCG's low bits cycle with a short period.
    out += alphabet[(x >>> 16) % alphabet.length];
  }
  return out;
}
const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const AWS_KEY = `AKIA${randomFrom(UPPER_DIGITS, 16, 7)}`;
const GITHUB_TOKEN = `ghp_${randomFrom(ALNUM, 36, 11)}`;
const GITHUB_TOKEN_2 = `ghp_${randomFrom(ALNUM, 36, 13)}`;
const HISTORY_TOKEN = `ghp_${randomFrom(ALNUM, 36, 17)}`;

describe('govctl scan', () => {
  let dir: string;
  const outputs: string[] = [];
  const run = async (args: string[], cwd = dir): Promise<CliResult> => {
    const result = await govctl(['scan', ...args.map((a) => (a === '@' ? cwd : a))]);
    outputs.push(result.stdout, result.stderr);
    return result;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-scan-'));
    await mkdir(join(dir, 'src'));
    await mkdir(join(dir, 'ignored'));
    await writeFile(join(dir, 'src', 'config.py'), `import os\nAWS_ACCESS_KEY_ID = "${AWS_KEY}"\nregion = "eu-west-1"\n`);
    await writeFile(join(dir, 'src', 'deploy.js'), `const token = '${GITHUB_TOKEN}';\nconst fine = '${GITHUB_TOKEN_2}'; // govctl:allow test fixture\n`);
    await writeFile(join(dir, 'src', 'app.py'), 'import yaml\nimport subprocess\ndata = yaml.load(open("x"))\nsubprocess.run(cmd, shell=True)  # nosec\n# eval(x) in a comment\n');
    await writeFile(join(dir, '.gitignore'), 'ignored/\n');
    await writeFile(join(dir, 'ignored', 'secret.txt'), `token = "${GITHUB_TOKEN}"\n`);
    await writeFile(join(dir, 'image.bin'), Buffer.from([0x89, 0x50, 0x00, 0x01, ...Buffer.from(AWS_KEY)]));
    await writeFile(join(dir, 'big.txt'), 'x'.repeat(64 * 1024));
    await symlink(join(dir, 'src', 'config.py'), join(dir, 'link.py'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('finds planted secrets, skips binary, huge, symlinked and ignored files, honours inline suppression', async () => {
    const result = await run(['secrets', '@', '-o', 'json', '--max-file-size', '32k']);
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.schema).toBe('govctl.scan/v1');
    const found = report.data.findings.map((f: any) => `${f.rule}@${f.location.file}:${f.location.line}`);
    expect(found).toEqual(expect.arrayContaining([expect.stringMatching(/^aws-access-key-id@src\/config\.py:2$/), expect.stringMatching(/^github-.*@src\/deploy\.js:1$/)]));
    expect(report.data.findings.every((f: any) => !f.location.file.startsWith('ignored/') && f.location.file !== 'link.py')).toBe(true);
    expect(report.data.summary).toMatchObject({
      skipped: { binary: 1, too_large: 1, symlink: 1, unreadable: 0 },
      ignored_by_gitignore: 1,
      suppressed_inline: 1,
    });
    expect(report.data.findings.find((f: any) => f.rule === 'aws-access-key-id').evidence).toBe(`${AWS_KEY.slice(0, 4)}…`);
  });

  it('renders a table with a summary, and exits 0 when nothing reaches --fail-on', async () => {
    const result = await run(['secrets', '@', '--fail-on', 'critical', '--disable', 'aws-access-key-id']);
    expect(result.stdout).toMatch(/^SEVERITY\s+RULE\s+LOCATION\s+EVIDENCE$/m);
    expect(result.stdout).toMatch(/scanned \d+ file\(s\)/);
    expect(result.stdout).toContain('1 suppressed inline');
    const severe = JSON.parse((await run(['secrets', '@', '-o', 'json', '--fail-on', 'critical'])).stdout).data.findings.filter((f: any) => f.severity === 'critical');
    expect(result.exitCode).toBe(severe.length > 0 ? 1 : 0);
  });

  it('writes a baseline, then reports only new findings', async () => {
    const baseline = join(dir, '..', `${dir.split('/').pop()}-baseline.json`);
    const first = await run(['secrets', '@', '--write-baseline', baseline, '-o', 'json']);
    expect(JSON.parse(first.stdout).data.findings.length).toBeGreaterThan(0);
    const again = await run(['secrets', '@', '--baseline', baseline, '-o', 'json']);
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout).data.findings).toEqual([]);
    await writeFile(join(dir, 'src', 'new.env'), `GITHUB_TOKEN=${HISTORY_TOKEN}\n`);
    const fresh = await run(['secrets', '@', '--baseline', baseline, '-o', 'json']);
    expect(JSON.parse(fresh.stdout).data.findings.map((f: any) => f.location.file)).toEqual(['src/new.env']);
    await rm(join(dir, 'src', 'new.env'));
    expect(await readFile(baseline, 'utf8')).not.toContain(AWS_KEY);
    await rm(baseline);
  });

  it('emits SARIF 2.1.0 that validates against the schema, with stable rule ids and fingerprints', async () => {
    const result = await run(['secrets', '@', '-o', 'sarif']);
    const sarif = JSON.parse(result.stdout);
    const require = createRequire(import.meta.url);
    const schema = JSON.parse(await readFile(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
    const Ajv4 = (require('ajv-draft-04') as { default: typeof AjvDraft04.default }).default;
    const validate = new Ajv4({ allErrors: true, strict: false, unicodeRegExp: false }).compile(schema);
    expect(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    const results = sarif.runs[0].results;
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) {
      expect(r.partialFingerprints['govctl/v2']).toMatch(/^[0-9a-f]{32}$/);
      expect(sarif.runs[0].tool.driver.rules[r.ruleIndex].id).toBe(r.ruleId);
    }
    const again = JSON.parse((await run(['secrets', '@', '-o', 'sarif'])).stdout);
    expect(again.runs[0].results.map((r: any) => r.partialFingerprints)).toEqual(results.map((r: any) => r.partialFingerprints));
  });

  it('writes the report to --out atomically', async () => {
    const out = join(dir, '..', `${dir.split('/').pop()}-reports`);
    const result = await run(['secrets', '@', '--out', out, '-q']);
    expect(result.exitCode).toBe(1);
    const [runId] = await readdir(out);
    const report = JSON.parse(await readFile(join(out, runId!, 'scan.json'), 'utf8'));
    expect(report).toMatchObject({ schema: 'govctl.scan/v1', run: { status: 'failed' } });
    expect(JSON.stringify(report)).not.toContain(AWS_KEY);
    await rm(out, { recursive: true, force: true });
  });

  it('scans git history and names the commit that added a since-deleted secret', async () => {
    const repo = await mkdtemp(join(tmpdir(), 'govctl-scan-git-'));
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8' });
    git('init', '-q');
    await writeFile(join(repo, 'README.md'), '# project\n');
    git('add', '.');
    git('commit', '-q', '-m', 'first');
    await writeFile(join(repo, 'settings.py'), `DEBUG = False\nGITHUB_TOKEN = "${HISTORY_TOKEN}"\n`);
    git('add', '.');
    git('commit', '-q', '-m', 'add settings');
    const leaked = git('rev-parse', 'HEAD').trim();
    await writeFile(join(repo, 'settings.py'), 'DEBUG = False\nGITHUB_TOKEN = os.environ["GITHUB_TOKEN"]\n');
    git('commit', '-q', '-am', 'remove token');

    const tree = await run(['secrets', '@', '-o', 'json'], repo);
    expect(JSON.parse(tree.stdout).data.findings).toEqual([]);
    const history = await run(['secrets', '@', '--git', '-o', 'json'], repo);
    expect(history.exitCode).toBe(1);
    const report = JSON.parse(history.stdout);
    expect(report.data.summary.commits_scanned).toBe(3);
    expect(report.data.findings).toHaveLength(1);
    expect(report.data.findings[0].location).toEqual({ file: 'settings.py', line: 2, column: expect.any(Number), commit: leaked });
    const notRepo = await run(['secrets', '@', '--git'], dir);
    expect(notRepo.exitCode).toBe(2);
    expect(notRepo.stderr).toContain('needs a git repository');
    await rm(repo, { recursive: true, force: true });
  });

  it('finds dangerous patterns, not in comments, honouring # nosec', async () => {
    const result = await run(['patterns', '@', '-o', 'json', '--fail-on', 'low']);
    expect(result.exitCode).toBe(1);
    const findings = JSON.parse(result.stdout).data.findings;
    expect(findings.map((f: any) => `${f.location.file}:${f.location.line}`)).toEqual(['src/app.py:3']);
    expect(findings[0]).toMatchObject({ category: 'dangerous-code', cwe: expect.stringMatching(/^CWE-\d+$/) });
    expect(JSON.parse(result.stdout).data.summary.suppressed_inline).toBe(1);
  });

  it('gives clear errors for a missing directory, an invalid rules file and an unknown rule', async () => {
    const missing = await run(['secrets', join(dir, 'nope')]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('no such file or directory');
    const rules = join(dir, '..', `${dir.split('/').pop()}-rules.json`);
    await writeFile(rules, JSON.stringify({ rules: [{ id: 'x' }] }));
    const bad = await run(['secrets', '@', '--rules', rules]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain(rules);
    await rm(rules);
    const unknown = await run(['secrets', '@', '--disable', 'no-such-rule']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('no-such-rule');
    const sarifElsewhere = await govctl(['health', '-o', 'sarif', '--url', 'http://127.0.0.1:9']);
    expect(sarifElsewhere.exitCode).toBe(2);
  });

  it('never printed a raw secret in any output', () => {
    const everything = outputs.join('\n');
    for (const secret of [AWS_KEY, GITHUB_TOKEN, GITHUB_TOKEN_2, HISTORY_TOKEN]) expect(everything).not.toContain(secret);
  });
});
