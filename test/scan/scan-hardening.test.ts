import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSecretRules, type SecretRuleSet } from '../../src/scan/rules/secret-rules.js';
import { decodeText } from '../../src/scan/file-scan.js';
import type { runScan as RunScan } from '../../src/scan/scanner.js';
import { runScan } from '../../src/scan/scanner.js';

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
const TOKEN = fakeGithubToken(101);
const KEY = new Uint8Array(32).fill(7);

describe('scan hardening', () => {
  let dir: string;
  let rules: SecretRuleSet;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-scan-hard-'));
    rules = await loadSecretRules();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('decodes UTF-16 files with a byte-order mark (LE and BE) and finds the secret in them', async () => {
    const root = join(dir, 'utf16');
    await mkdir(root);
    const text = `# settings\nGITHUB_TOKEN = "${TOKEN}"\n`;
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.from(le);
    be.swap16();
    await writeFile(join(root, 'le.txt'), le);
    await writeFile(join(root, 'be.txt'), be);
    expect(decodeText(be)).toBe(text);
    const result = await runScan({ kind: 'secrets', root, rules, maxFileBytes: 1 << 20, fingerprintKey: KEY, workers: 0 });
    expect(result.summary.skipped.binary).toBe(0);
    expect(result.findings.map((f) => `${(f.location as { file: string }).file}:${(f.location as { line: number }).line}`).sort()).toEqual(['be.txt:2', 'le.txt:2']);
    // A NUL without a byte-order mark is still binary.
    expect(decodeText(Buffer.from([0x41, 0x00, 0x42]))).toBeUndefined();
  });

  it('refuses a root that does not exist or cannot be read, naming the path and the cause', async () => {
    const missing = join(dir, 'missing');
    await expect(runScan({ kind: 'secrets', root: missing, rules, maxFileBytes: 1024, fingerprintKey: KEY })).rejects.toMatchObject({
      exitCode: 2,
      message: `cannot scan ${missing}: no such file or directory`,
    });
    // A symlink loop cannot be read whoever runs the test (root reads a chmod 000 directory).
    const loop = join(dir, 'loop');
    await symlink(loop, loop);
    await expect(runScan({ kind: 'secrets', root: loop, rules, maxFileBytes: 1024, fingerprintKey: KEY })).rejects.toMatchObject({
      exitCode: 2,
      message: `cannot scan ${loop}: too many symbolic links`,
    });
    await expect(runScan({ kind: 'secrets', root: dir, rules, maxFileBytes: 0, fingerprintKey: KEY })).rejects.toMatchObject({ exitCode: 2 });
  });

  it.skipIf(process.getuid?.() === 0)('refuses an unreadable root directory (not as root)', async () => {
    const { chmod } = await import('node:fs/promises');
    const locked = join(dir, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o000);
    try {
      await expect(runScan({ kind: 'secrets', root: locked, rules, maxFileBytes: 1024, fingerprintKey: KEY })).rejects.toMatchObject({
        exitCode: 2,
        message: `cannot scan ${locked}: permission denied`,
      });
    } finally {
      await chmod(locked, 0o700);
    }
  });

  it('keys fingerprints: a weak secret cannot be found from its hash, and they stay stable across runs', async () => {
    const root = join(dir, 'weak');
    await mkdir(root);
    const weak = 'Winter2024!Prod';
    await writeFile(join(root, 'app.env'), `DB_PASSWORD=${weak}\n`);
    const first = await runScan({ kind: 'secrets', root, rules, maxFileBytes: 1 << 20, env: {}, workers: 0 });
    expect(first.findings).toHaveLength(1);
    const fp = first.findings[0]!.fingerprint;
    const unkeyed = ['sha256', 'sha1', 'md5'].flatMap((alg) => {
      const parts = ['secrets', first.findings[0]!.rule, 'app.env', weak].join('\u0000');
      return [createHash(alg).update(weak).digest('hex'), createHash(alg).update(parts).digest('hex')];
    });
    for (const h of unkeyed) expect(h.startsWith(fp)).toBe(false);
    // The key was created once, private to the owner, and is reused: the same fingerprint again.
    const keyFile = join(root, '.govctl', 'fingerprint-key');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const second = await runScan({ kind: 'secrets', root, rules, maxFileBytes: 1 << 20, env: {}, workers: 0 });
    expect(second.findings.map((f) => f.fingerprint)).toEqual([fp]);
    // ... and the key file itself is never scanned.
    expect(second.findings.every((f) => !(f.location as { file: string }).file.startsWith('.govctl'))).toBe(true);
    // GOVCTL_FINGERPRINT_KEY (for CI) gives other, equally stable fingerprints.
    const env = { GOVCTL_FINGERPRINT_KEY: 'ci-secret-0123456789abcdef' };
    const ci1 = await runScan({ kind: 'secrets', root, rules, maxFileBytes: 1 << 20, env, workers: 0 });
    const ci2 = await runScan({ kind: 'secrets', root, rules, maxFileBytes: 1 << 20, env, workers: 0 });
    expect(ci1.findings[0]!.fingerprint).toBe(ci2.findings[0]!.fingerprint);
    expect(ci1.findings[0]!.fingerprint).not.toBe(fp);
    expect(await readFile(keyFile, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
  });

  it('says so when no fingerprint key can be kept (fingerprints of that run are not stable)', async () => {
    const root = join(dir, 'no-key');
    await mkdir(root);
    await writeFile(join(root, '.govctl'), 'a file where the key directory would go\n');
    await writeFile(join(root, 'app.env'), 'DB_PASSWORD=Winter2024!Prod\n');
    const warnings: string[] = [];
    const result = await runScan({
      kind: 'secrets',
      root,
      rules,
      maxFileBytes: 1 << 20,
      env: {},
      workers: 0,
      onEvent: (event) => {
        if (event.type === 'warning') warnings.push(event.message);
      },
    });
    expect(result.findings).toHaveLength(1);
    expect(warnings).toEqual([expect.stringMatching(/cannot create .*fingerprint-key: .*fingerprints of this run are not stable.*GOVCTL_FINGERPRINT_KEY/)]);
  });

  it('never scans govctl report directories nor the excluded --out directory', async () => {
    const root = join(dir, 'reports-root');
    await mkdir(join(root, 'out', '20261201T000000Z-0123abcd'), { recursive: true });
    await mkdir(join(root, 'elsewhere', '20261201T000000Z-89abcdef'), { recursive: true });
    await mkdir(join(root, 'src'));
    await writeFile(join(root, 'out', 'notes.txt'), `token = "${TOKEN}"\n`);
    await writeFile(join(root, 'elsewhere', '20261201T000000Z-89abcdef', 'scan.json'), `{"token": "${TOKEN}"}\n`);
    await writeFile(join(root, 'src', 'a.js'), `const token = '${TOKEN}';\n`);
    const result = await runScan({ kind: 'secrets', root, rules, maxFileBytes: 1 << 20, fingerprintKey: KEY, excludeDirs: [join(root, 'out')], workers: 0 });
    expect(result.findings.map((f) => (f.location as { file: string }).file)).toEqual(['src/a.js']);
    expect(result.summary.report_dirs_skipped).toBe(2);
  });

  it('returns the verdict from the core: failing findings at or above --fail-on', async () => {
    const root = join(dir, 'verdict');
    await mkdir(root);
    await writeFile(join(root, 'a.js'), `const token = '${TOKEN}';\n`);
    const failing = await runScan({ kind: 'secrets', root, rules, maxFileBytes: 1 << 20, fingerprintKey: KEY, failOn: 'high', workers: 0 });
    expect(failing.verdict).toMatchObject({ fail_on: 'high', passed: false, failing: 1 });
    const none = await runScan({ kind: 'secrets', root, rules, maxFileBytes: 1 << 20, fingerprintKey: KEY, failOn: 'none', workers: 0 });
    expect(none.verdict).toMatchObject({ fail_on: 'none', passed: true, failing: 0 });
    expect(none.verdict.counts.high + none.verdict.counts.critical).toBe(1);
    const baselined = await runScan({ kind: 'secrets', root, rules, maxFileBytes: 1 << 20, fingerprintKey: KEY, baseline: new Set([failing.findings[0]!.fingerprint]), workers: 0 });
    expect(baselined.verdict.passed).toBe(true);
    expect(baselined.summary.suppressed_by_baseline).toBe(1);
  });

  it('honours an abort while one huge, slow file is being scanned: terminates the worker, returns a partial result', async () => {
    // The built scanner (dist/) has its worker; a deliberately quadratic user rule on a 400 KB line
    // would take minutes, so only an abort that reaches the running scan can end it.
    const { runScan: builtRunScan } = (await import(new URL('../../dist/scan/scanner.js', import.meta.url).href)) as { runScan: typeof RunScan };
    const root = join(dir, 'slow');
    await mkdir(root);
    await writeFile(join(root, 'huge.txt'), `${'a-'.repeat(200_000)}\n`.repeat(4));
    const slowRules = {
      rules: [{ id: 'slow', title: 'slow', severity: 'high', regex: '(?:a+-)*zz', keywords: ['a-'], remediation: 'none' }],
    };
    const controller = new AbortController();
    const started = performance.now();
    const result = await builtRunScan({
      kind: 'secrets',
      root,
      rules: slowRules,
      maxFileBytes: 1 << 24,
      fingerprintKey: KEY,
      workers: 1,
      signal: controller.signal,
      // Abort once the worker says it has begun on the slow file.
      onEvent: (event) => {
        if (event.type === 'batch-started') controller.abort();
      },
    });
    const elapsed = performance.now() - started;
    expect(result.partial).toBe(true);
    expect(result.verdict.passed).toBe(false);
    expect(result.summary.files_scanned).toBe(0);
    // Backstop for the 2 s promise; without the abort this scan runs for minutes.
    expect(elapsed).toBeLessThan(2000);
  }, 30_000);
});
