import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildManifest, writeManifest } from '../../src/release/manifest.js';
import { runInProcess } from '../helpers/run-in-process.js';

let dir: string;
let releaseDir: string;
let keys: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'govctl-release-cli-'));
  keys = join(dir, 'keys');
  releaseDir = join(dir, 'release-1.0.0');
  await mkdir(join(releaseDir, 'load'), { recursive: true });
  await writeFile(join(releaseDir, 'gate.json'), '{"passed":true}\n');
  await writeFile(join(releaseDir, 'load', 'load.json'), '{"requests":100}\n');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function keygen(...extra: string[]) {
  return runInProcess(['release', 'keygen', '--out', keys, ...extra]);
}

async function signedRelease(): Promise<void> {
  expect((await keygen()).exitCode).toBe(0);
  const manifest = await buildManifest({ dir: releaseDir, version: '1.0.0', startedAt: new Date(), finishedAt: new Date(), steps: [{ name: 'gates', status: 'passed', duration_ms: 5 }] });
  await writeManifest(releaseDir, manifest, join(keys, 'govctl-release.key'));
}

describe('govctl release keygen', () => {
  it('writes the private key at 0600 and the public key, and prints the fingerprint', async () => {
    const result = await keygen();
    expect(result.exitCode).toBe(0);
    const privatePath = join(keys, 'govctl-release.key');
    expect((await stat(privatePath)).mode & 0o777).toBe(0o600);
    expect((await stat(keys)).mode & 0o777).toBe(0o700);
    expect(await readFile(join(keys, 'govctl-release.pub'), 'utf8')).toContain('BEGIN PUBLIC KEY');
    expect(result.stdout).toMatch(/fingerprint\s+sha256:[0-9a-f]{64}/);
    expect(result.stdout).toContain('ed25519');
    // Never the key itself.
    expect(result.stdout + result.stderr).not.toContain('BEGIN');
  });

  it('refuses to overwrite an existing key (exit 2) unless --force; -o json', async () => {
    expect((await keygen()).exitCode).toBe(0);
    const before = await readFile(join(keys, 'govctl-release.key'), 'utf8');
    const again = await keygen();
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain(`${join(keys, 'govctl-release.key')}: it already exists`);
    expect(again.stderr).toContain('--force');
    expect(await readFile(join(keys, 'govctl-release.key'), 'utf8')).toBe(before);
    const forced = await keygen('--force', '-o', 'json');
    expect(forced.exitCode).toBe(0);
    const json = JSON.parse(forced.stdout) as Record<string, string>;
    expect(json).toEqual({ private_key: join(keys, 'govctl-release.key'), public_key: join(keys, 'govctl-release.pub'), type: 'ed25519', algorithm: 'ed25519', public_key_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(await readFile(join(keys, 'govctl-release.key'), 'utf8')).not.toBe(before);
  });

  it('warns when the private key lands in a git work tree without being ignored', async () => {
    await execa('git', ['-C', dir, 'init', '-q']);
    const result = await keygen();
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('is inside a git work tree and not ignored');
    await writeFile(join(dir, '.gitignore'), '*.key\n');
    const ignored = await keygen('--force');
    expect(ignored.stderr).not.toContain('not ignored');
  });

  it('rejects an unknown --type', async () => {
    const result = await keygen('--type', 'ec');
    expect(result.exitCode).toBe(2);
  });
});

describe('govctl release verify', () => {
  it('verifies with the public key: a table of artifacts and the signature, exit 0', async () => {
    await signedRelease();
    const result = await runInProcess(['release', 'verify', releaseDir, '--public-key', join(keys, 'govctl-release.pub')]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/OK\s+gate\.json\s+16/);
    expect(result.stdout).toMatch(/OK\s+load\/load\.json\s+17/);
    expect(result.stdout).toMatch(/manifest\.sig\s+verified with the given key/);
    expect(result.stdout).toContain('verified: 2 artifact(s) match manifest.json, signed by the given key');
    expect(result.stderr).toBe('');
  });

  it('without --public-key checks the hashes but never says verified', async () => {
    await signedRelease();
    const result = await runInProcess(['release', 'verify', releaseDir]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('NOT checked: pass --public-key');
    expect(result.stdout).toContain('consistent but NOT authenticated');
    expect(result.stdout).not.toMatch(/^verified/m);
    expect(result.stderr).toContain('signature present (key sha256:');
    expect(result.stderr).toContain('not checked: pass --public-key');
  });

  it('a tampered artifact, an added file and a deleted one: exit 1 naming each', async () => {
    await signedRelease();
    await writeFile(join(releaseDir, 'gate.json'), '{"passed":false}\n');
    await writeFile(join(releaseDir, 'notes.txt'), 'added later');
    await rm(join(releaseDir, 'load', 'load.json'));
    const result = await runInProcess(['release', 'verify', releaseDir, '--public-key', join(keys, 'govctl-release.pub')]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/CHANGED\s+gate\.json/);
    expect(result.stdout).toMatch(/MISSING\s+load\/load\.json/);
    expect(result.stdout).toMatch(/EXTRA\s+notes\.txt/);
    expect(result.stdout).toContain('verification FAILED: 3 problem(s)');
    expect(result.stdout).toContain('  gate.json: changed: size 17, expected 16');
  });

  it('a tampered manifest or signature: exit 1 naming manifest.sig', async () => {
    await signedRelease();
    const manifestPath = join(releaseDir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { steps: Array<{ status: string }> };
    manifest.steps[0]!.status = 'failed';
    await writeFile(manifestPath, JSON.stringify(manifest));
    const result = await runInProcess(['release', 'verify', releaseDir, '--public-key', join(keys, 'govctl-release.pub')]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('manifest.sig: does not verify over manifest.json');
  });

  it('refuses a signature by another key (exit 1), -o json', async () => {
    await signedRelease();
    const other = join(dir, 'other');
    expect((await runInProcess(['release', 'keygen', '--out', other])).exitCode).toBe(0);
    const result = await runInProcess(['release', 'verify', releaseDir, '--public-key', join(other, 'govctl-release.pub'), '-o', 'json']);
    expect(result.exitCode).toBe(1);
    const json = JSON.parse(result.stdout) as { ok: boolean; authenticated: boolean; signature: { status: string }; problems: Array<{ file: string; problem: string }> };
    expect(json).toMatchObject({ ok: false, authenticated: false, signature: { status: 'wrong-key' } });
    expect(json.problems).toEqual([{ file: 'manifest.sig', problem: expect.stringContaining('refused') }]);
  });

  it('an unreadable or non-PEM public key is exit 2 naming the file', async () => {
    await signedRelease();
    const missing = join(dir, 'missing.pub');
    const result = await runInProcess(['release', 'verify', releaseDir, '--public-key', missing]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`cannot read public key ${missing}: no such file`);
    const junk = join(dir, 'junk.pub');
    await writeFile(junk, 'not a key');
    const notPem = await runInProcess(['release', 'verify', releaseDir, '--public-key', junk]);
    expect(notPem.exitCode).toBe(2);
    expect(notPem.stderr).toContain(`public key ${junk} is not a PEM file`);
  });

  it('no manifest: exit 5 with a clear message', async () => {
    const result = await runInProcess(['release', 'verify', releaseDir]);
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toContain(`no manifest.json in ${releaseDir}: not a release directory`);
    const none = await runInProcess(['release', 'verify', join(dir, 'nope')]);
    expect(none.exitCode).toBe(5);
  });

  it('help names the exit codes and examples', async () => {
    const result = await runInProcess(['release', 'verify', '--help']);
    expect(result.stdout).toContain('EXIT CODES\n  0 every file matches');
    expect(result.stdout).toContain('govctl release verify reports/release-1.4.0 --public-key');
  });
});
