import { createHash, generateKeyPairSync } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GovctlError } from '../../src/core/errors.js';
import { govctlVersion } from '../../src/core/version.js';
import { canonicalBytes } from '../../src/release/canonical-json.js';
import { buildManifest, writeManifest, type ReleaseManifest } from '../../src/release/manifest.js';
import { generateKeyPair } from '../../src/release/signing.js';
import { verifyRelease } from '../../src/release/verify.js';

let keys: string;
let dir: string;
const key = (name: string) => join(keys, name);

beforeAll(async () => {
  keys = await mkdtemp(join(tmpdir(), 'govctl-release-keys-'));
  await generateKeyPair({ privatePath: key('a.key'), publicPath: key('a.pub') });
  await generateKeyPair({ privatePath: key('b.key'), publicPath: key('b.pub') });
});
afterAll(async () => {
  await rm(keys, { recursive: true, force: true });
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'govctl-release-'));
  await mkdir(join(dir, 'scan'), { recursive: true });
  await writeFile(join(dir, 'scan', 'scan.json'), '{"findings":[]}\n');
  await writeFile(join(dir, 'gate.json'), '{"passed":true}\n');
  await writeFile(join(dir, 'sbom.cdx.json'), Buffer.alloc(200_000, 0x61));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const steps: ReleaseManifest['steps'] = [
  { name: 'scan', status: 'passed', duration_ms: 120 },
  { name: 'audit-vulns', status: 'skipped', reason: 'no --osv-db given', duration_ms: 0 },
];

async function release(signKey?: string): Promise<ReleaseManifest> {
  const manifest = await buildManifest({ dir, version: '1.4.0', startedAt: new Date('2026-01-15T10:00:00Z'), finishedAt: new Date('2026-01-15T10:05:00Z'), steps });
  await writeManifest(dir, manifest, signKey);
  return manifest;
}

const pub = async (name: string) => ({ publicKey: await readFile(key(name), 'utf8'), publicKeySource: `public key ${name}` });

describe('buildManifest', () => {
  it('lists every file sorted with its sha256 and size, and records versions, environment and steps', async () => {
    const manifest = await buildManifest({ dir, version: '1.4.0', startedAt: new Date('2026-01-15T10:00:00Z'), finishedAt: new Date('2026-01-15T10:05:00Z'), steps });
    expect(manifest.artifacts).toEqual([
      { path: 'gate.json', sha256: createHash('sha256').update('{"passed":true}\n').digest('hex'), size: 16 },
      { path: 'sbom.cdx.json', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), size: 200_000 },
      { path: 'scan/scan.json', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), size: 16 },
    ]);
    expect(manifest).toMatchObject({
      schema: 'govctl.release-manifest/v1',
      govctl_version: govctlVersion(),
      version: '1.4.0',
      started_at: '2026-01-15T10:00:00.000Z',
      finished_at: '2026-01-15T10:05:00.000Z',
      git: null,
      steps,
      environment: { node: process.version },
    });
    expect(manifest).not.toHaveProperty('excluded');
  });

  it('leaves out the manifest, its signature and excluded paths, and refuses a symbolic link', async () => {
    await release(key('a.key'));
    await mkdir(join(dir, 'tmp'));
    await writeFile(join(dir, 'tmp', 'scratch'), 'x');
    const manifest = await buildManifest({ dir, version: '1', startedAt: new Date(), finishedAt: new Date(), steps: [], exclude: ['tmp'] });
    expect(manifest.artifacts.map((a) => a.path)).toEqual(['gate.json', 'sbom.cdx.json', 'scan/scan.json']);
    expect(manifest.excluded).toEqual(['tmp']);
    // The exclusion is recorded (and signed): verify leaves the same paths out.
    await writeManifest(dir, manifest, key('a.key'));
    await writeFile(join(dir, 'tmp', 'later'), 'y');
    expect(await verifyRelease({ dir, ...(await pub('a.pub')) })).toMatchObject({ ok: true, artifacts: [{ path: 'gate.json' }, { path: 'sbom.cdx.json' }, { path: 'scan/scan.json' }] });
    await expect(buildManifest({ dir, version: '1', startedAt: new Date(), finishedAt: new Date(), steps: [], exclude: ['../x'] })).rejects.toThrow(/not a relative path/);
    await symlink('/etc/hostname', join(dir, 'link'));
    await expect(buildManifest({ dir, version: '1', startedAt: new Date(), finishedAt: new Date(), steps: [] })).rejects.toThrow(/link is a symbolic link/);
  });

  it('refuses to write a manifest that is not valid (exit 2), before writing anything', async () => {
    const manifest = await buildManifest({ dir, version: '1', startedAt: new Date(), finishedAt: new Date(), steps: [] });
    const bad = { ...manifest, version: '', steps: [{ name: 'x', status: 'maybe', duration_ms: 1 }] } as unknown as ReleaseManifest;
    await expect(writeManifest(dir, bad)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/release manifest is invalid: .*\$\.version.*\$\.steps\[0\]\.status/) });
    await expect(readFile(join(dir, 'manifest.json'))).rejects.toThrow();
  });

  it('writes without a key no manifest.sig, and removes a stale one', async () => {
    await release(key('a.key'));
    const written = await writeManifest(dir, await buildManifest({ dir, version: '2', startedAt: new Date(), finishedAt: new Date(), steps: [] }));
    expect(written.signaturePath).toBeUndefined();
    await expect(readFile(join(dir, 'manifest.sig'))).rejects.toThrow();
    const result = await verifyRelease({ dir });
    expect(result).toMatchObject({ ok: true, consistent: true, authenticated: false, signature: { status: 'unsigned' } });
  });
});

describe('verifyRelease', () => {
  it('verifies an Ed25519-signed release with its public key', async () => {
    await release(key('a.key'));
    const sig = JSON.parse(await readFile(join(dir, 'manifest.sig'), 'utf8')) as Record<string, string>;
    expect(Object.keys(sig).sort()).toEqual(['algorithm', 'public_key_sha256', 'schema', 'signature']);
    expect(sig['algorithm']).toBe('ed25519');
    const result = await verifyRelease({ dir, ...(await pub('a.pub')) });
    expect(result).toMatchObject({ ok: true, consistent: true, authenticated: true, signature: { status: 'verified', algorithm: 'ed25519' }, problems: [] });
    expect(result.artifacts.map((a) => a.status)).toEqual(['ok', 'ok', 'ok']);
  });

  it('verifies through a symbolic link to the release directory, and says when the signing key is readable by others', async () => {
    const loose = join(keys, 'loose.key');
    await writeFile(loose, await readFile(key('a.key')), { mode: 0o644 });
    await chmod(loose, 0o644);
    const manifest = await buildManifest({ dir, version: '1.4.0', startedAt: new Date(), finishedAt: new Date(), steps });
    const written = await writeManifest(dir, manifest, loose);
    expect(written.warnings).toEqual([`private key ${loose} is accessible by others (mode 0644); restrict it: chmod 600 ${loose}`]);
    const link = `${dir}-latest`;
    await symlink(dir, link);
    try {
      expect(await verifyRelease({ dir: link, ...(await pub('a.pub')) })).toMatchObject({ ok: true, authenticated: true });
    } finally {
      await unlink(link);
    }
  });

  it('verifies an RSA-PSS-signed release', async () => {
    // 2048 bits keeps the test quick; keygen's own 3072-bit keys are tested in signing.test.ts.
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(key('rsa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    await writeFile(key('rsa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    await release(key('rsa.key'));
    const result = await verifyRelease({ dir, ...(await pub('rsa.pub')) });
    expect(result).toMatchObject({ ok: true, authenticated: true, signature: { status: 'verified', algorithm: 'rsa-pss-sha256' } });
    // An Ed25519 key is not the RSA signer.
    expect(await verifyRelease({ dir, ...(await pub('a.pub')) })).toMatchObject({ ok: false, signature: { status: 'wrong-key' } });
  });

  it('without a public key checks the hashes but does not call the release authenticated', async () => {
    await release(key('a.key'));
    const result = await verifyRelease({ dir });
    expect(result).toMatchObject({ ok: true, consistent: true, authenticated: false, signature: { status: 'not-checked' } });
    expect(result.signature.problem).toContain('not checked: pass --public-key');
  });

  it('survives reformatting manifest.json, but not a changed value', async () => {
    const manifest = await release(key('a.key'));
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, schema: manifest.schema }, null, 8).replace(/\n/g, '\r\n'));
    expect((await verifyRelease({ dir, ...(await pub('a.pub')) })).ok).toBe(true);
    // Keys in another order: the same canonical bytes.
    const reordered = Object.fromEntries(Object.entries(manifest).reverse());
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(reordered));
    expect(canonicalBytes(reordered).equals(canonicalBytes(manifest))).toBe(true);
    expect((await verifyRelease({ dir, ...(await pub('a.pub')) })).ok).toBe(true);

    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, version: '1.4.1' }, null, 2));
    const result = await verifyRelease({ dir, ...(await pub('a.pub')) });
    expect(result).toMatchObject({ ok: false, consistent: true, authenticated: false, signature: { status: 'invalid' } });
    expect(result.problems).toEqual([{ file: 'manifest.sig', problem: expect.stringContaining('manifest.json or manifest.sig was altered') }]);
  });

  it('refuses a manifest.json that names a member twice (the signature covers only one value)', async () => {
    const manifest = await release(key('a.key'));
    const text = JSON.stringify(manifest).replace('{', '{"version":"9.9.9",');
    await writeFile(join(dir, 'manifest.json'), text);
    const result = await verifyRelease({ dir, ...(await pub('a.pub')) });
    expect(result).toMatchObject({ ok: false, manifest: { status: 'invalid', problem: 'names $.version twice: a reader could take either value' } });
  });

  it('detects a changed, a deleted and an added artifact, naming each', async () => {
    await release(key('a.key'));
    await writeFile(join(dir, 'gate.json'), '{"passed":false}');
    await writeFile(join(dir, 'scan', 'scan.json'), '{"findings":{}}\n'); // same size, other bytes
    await unlink(join(dir, 'sbom.cdx.json'));
    await writeFile(join(dir, 'scan', 'extra.txt'), 'added');
    const result = await verifyRelease({ dir, ...(await pub('a.pub')) });
    expect(result.ok).toBe(false);
    expect(result.consistent).toBe(false);
    // The manifest itself is intact: the signature still verifies.
    expect(result.authenticated).toBe(true);
    expect(result.artifacts.map((a) => [a.path, a.status])).toEqual([
      ['gate.json', 'changed'],
      ['sbom.cdx.json', 'missing'],
      ['scan/scan.json', 'changed'],
      ['scan/extra.txt', 'extra'],
    ]);
    expect(result.problems.map((p) => p.file)).toEqual(['gate.json', 'sbom.cdx.json', 'scan/scan.json', 'scan/extra.txt']);
    expect(result.artifacts[2]!.reason).toBe('content differs (sha256)');
  });

  it('detects an artifact replaced by a symbolic link and an added hidden file', async () => {
    await release();
    await unlink(join(dir, 'gate.json'));
    await symlink(join(keys, 'a.pub'), join(dir, 'gate.json'));
    await writeFile(join(dir, '.hidden'), 'x');
    const result = await verifyRelease({ dir });
    expect(result.artifacts.filter((a) => a.status !== 'ok').map((a) => [a.path, a.status, a.reason])).toEqual([
      ['gate.json', 'changed', 'now a symbolic link'],
      ['.hidden', 'extra', 'not in the manifest'],
    ]);
  });

  it('detects a rewritten manifest (hashes made to match a changed artifact) through the signature', async () => {
    const manifest = await release(key('a.key'));
    await writeFile(join(dir, 'gate.json'), '{"passed":"yes"}');
    const rehashed = await buildManifest({ dir, version: manifest.version, startedAt: new Date(manifest.started_at), finishedAt: new Date(manifest.finished_at), steps });
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...rehashed, created_at: manifest.created_at }));
    // Without a key the files look consistent: that is all that can be said.
    expect(await verifyRelease({ dir })).toMatchObject({ ok: true, authenticated: false });
    const result = await verifyRelease({ dir, ...(await pub('a.pub')) });
    expect(result).toMatchObject({ ok: false, consistent: true, signature: { status: 'invalid' } });
  });

  it('detects a tampered or damaged manifest.sig', async () => {
    await release(key('a.key'));
    const path = join(dir, 'manifest.sig');
    const original = JSON.parse(await readFile(path, 'utf8')) as Record<string, string>;
    const flipped = Buffer.from(original['signature']!, 'base64');
    flipped[0]! ^= 1;
    await writeFile(path, JSON.stringify({ ...original, signature: flipped.toString('base64') }));
    expect(await verifyRelease({ dir, ...(await pub('a.pub')) })).toMatchObject({ ok: false, signature: { status: 'invalid' }, problems: [{ file: 'manifest.sig' }] });

    // The named key changed, the signature intact: altered too.
    await writeFile(path, JSON.stringify({ ...original, public_key_sha256: '0'.repeat(64) }));
    const renamed = await verifyRelease({ dir, ...(await pub('a.pub')) });
    expect(renamed).toMatchObject({ ok: false, signature: { status: 'invalid' } });
    expect(renamed.signature.problem).toContain('manifest.sig was altered');

    await writeFile(path, '{"algorithm":"ed25519"');
    for (const options of [{ dir }, { dir, ...(await pub('a.pub')) }]) {
      const damaged = await verifyRelease(options);
      expect(damaged).toMatchObject({ ok: false, signature: { status: 'damaged' }, problems: [{ file: 'manifest.sig', problem: 'is not valid JSON' }] });
    }

    await unlink(path);
    const missing = await verifyRelease({ dir, ...(await pub('a.pub')) });
    expect(missing).toMatchObject({ ok: false, signature: { status: 'missing' }, problems: [{ file: 'manifest.sig' }] });
  });

  it('refuses a signature by another key', async () => {
    await release(key('a.key'));
    const result = await verifyRelease({ dir, ...(await pub('b.pub')) });
    expect(result).toMatchObject({ ok: false, consistent: true, authenticated: false, signature: { status: 'wrong-key' } });
    expect(result.problems[0]!.file).toBe('manifest.sig');
    expect(result.problems[0]!.problem).toMatch(/^was made by key sha256:[0-9a-f]{16}, not by public key b\.pub \(sha256:[0-9a-f]{16}\): refused$/);
  });

  it('reports an invalid manifest.json as a failed verification naming it', async () => {
    await release(key('a.key'));
    await writeFile(join(dir, 'manifest.json'), '{"schema": "govctl.release-manifest/v1", ');
    const broken = await verifyRelease({ dir, ...(await pub('a.pub')) });
    expect(broken).toMatchObject({ ok: false, manifest: { status: 'invalid' } });
    expect(broken.problems.map((p) => p.file)).toEqual(['manifest.json', 'manifest.sig']);

    const manifest = await buildManifest({ dir, version: '1', startedAt: new Date(), finishedAt: new Date(), steps: [] });
    const escaping = { ...manifest, artifacts: [{ path: '../../etc/passwd', sha256: '0'.repeat(64), size: 1 }] };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(escaping));
    const outside = await verifyRelease({ dir });
    expect(outside.ok).toBe(false);
    expect(outside.problems[0]).toMatchObject({ file: 'manifest.json', problem: expect.stringContaining('$.artifacts[0].path') });
  });

  it('no directory or no manifest is not found (exit 5); a newer manifest schema is exit 2', async () => {
    const noDir = await verifyRelease({ dir: join(dir, 'nope') }).catch((e: unknown) => e as GovctlError);
    expect(noDir).toMatchObject({ exitCode: 5, message: expect.stringContaining('does not exist') });
    const noManifest = await verifyRelease({ dir }).catch((e: unknown) => e as GovctlError);
    expect(noManifest).toMatchObject({ exitCode: 5, message: `no manifest.json in ${dir}: not a release directory` });
    await writeFile(join(dir, 'manifest.json'), '{"schema":"govctl.release-manifest/v2"}');
    const newer = await verifyRelease({ dir }).catch((e: unknown) => e as GovctlError);
    expect(newer).toMatchObject({ exitCode: 2, message: expect.stringContaining('govctl.release-manifest/v2') });
  });
});
