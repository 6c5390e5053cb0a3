import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GovctlError, InvalidInputError } from '../../src/core/errors.js';
import { generateKeyPair, loadPrivateKey, loadPublicKey, publicKeyFingerprint, signBytes, verifyBytes } from '../../src/release/signing.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'govctl-signing-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function keyPair(type: 'ed25519' | 'rsa-pss' = 'ed25519', name = 'k') {
  const privatePath = join(dir, `${name}.key`);
  const publicPath = join(dir, `${name}.pub`);
  await generateKeyPair({ privatePath, publicPath, type });
  return { privatePath, publicPath, privatePem: await readFile(privatePath, 'utf8'), publicPem: await readFile(publicPath, 'utf8') };
}

async function rejection(promise: Promise<unknown>): Promise<GovctlError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(GovctlError);
  return err as GovctlError;
}

describe('generateKeyPair', () => {
  it('writes a PKCS#8 private key at mode 0600 and an SPKI public key not writable by others', async () => {
    const { privatePath, publicPath, privatePem, publicPem } = await keyPair();
    expect((await stat(privatePath)).mode & 0o777).toBe(0o600);
    expect((await stat(publicPath)).mode & 0o022).toBe(0);
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(publicKeyFingerprint(privatePem)).toBe(publicKeyFingerprint(publicPem));
  });

  it('refuses to overwrite an existing key (exit 2) unless forced, and then the new key is 0600', async () => {
    const first = await keyPair();
    await chmod(first.privatePath, 0o644);
    const err = await rejection(generateKeyPair({ privatePath: first.privatePath, publicPath: join(dir, 'other.pub') }));
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(first.privatePath);
    expect(err.message).toContain('already exists');
    // Nothing was written for the refused pair.
    await expect(stat(join(dir, 'other.pub'))).rejects.toThrow();
    await generateKeyPair({ privatePath: first.privatePath, publicPath: first.publicPath, force: true });
    expect((await stat(first.privatePath)).mode & 0o777).toBe(0o600);
    expect(await readFile(first.privatePath, 'utf8')).not.toBe(first.privatePem);
  });
});

describe('signBytes / verifyBytes', () => {
  const data = Buffer.from('{"schema":"govctl.release-manifest/v1"}');

  it('round-trips with Ed25519', async () => {
    const { privatePem, publicPem } = await keyPair('ed25519');
    const sig = signBytes(privatePem, data);
    expect(sig.algorithm).toBe('ed25519');
    expect(Buffer.from(sig.signature, 'base64')).toHaveLength(64);
    expect(verifyBytes(publicPem, data, sig)).toBe(true);
    expect(verifyBytes(publicPem, Buffer.from(`${data.toString()} `), sig)).toBe(false);
  });

  it('round-trips with RSA-PSS (SHA-256), detected from the key', async () => {
    const { privatePem, publicPem } = await keyPair('rsa-pss');
    const sig = signBytes(privatePem, data);
    expect(sig.algorithm).toBe('rsa-pss-sha256');
    expect(Buffer.from(sig.signature, 'base64')).toHaveLength(384);
    expect(verifyBytes(publicPem, data, sig)).toBe(true);
    // PSS is randomised: two signatures differ, both verify.
    const again = signBytes(privatePem, data);
    expect(again.signature).not.toBe(sig.signature);
    expect(verifyBytes(publicPem, data, again)).toBe(true);
  });

  it('accepts a PKCS#1 RSA key made by other tools', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(pkcs1).toContain('BEGIN RSA PRIVATE KEY');
    const sig = signBytes(pkcs1, data);
    expect(verifyBytes(publicKey.export({ type: 'spki', format: 'pem' }).toString(), data, sig)).toBe(true);
  });

  it('refuses an RSA key shorter than 2048 bits', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => signBytes(pem, data, 'private key weak.pem')).toThrow('private key weak.pem is an RSA key of 1024 bits: release signatures take at least 2048');
  });

  it('is false for another key, another algorithm or a malformed signature', async () => {
    const a = await keyPair('ed25519', 'a');
    const b = await keyPair('ed25519', 'b');
    const sig = signBytes(a.privatePem, data);
    expect(verifyBytes(b.publicPem, data, sig)).toBe(false);
    expect(verifyBytes(a.publicPem, data, { ...sig, algorithm: 'rsa-pss-sha256' })).toBe(false);
    expect(verifyBytes(a.publicPem, data, { ...sig, signature: `${sig.signature.slice(0, -4)}!!==` })).toBe(false);
    expect(verifyBytes(a.publicPem, data, { ...sig, signature: '' })).toBe(false);
  });

  it('refuses an EC key (exit 2), naming it', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => signBytes(pem, data, 'private key ec.pem')).toThrow(InvalidInputError);
    expect(() => signBytes(pem, data, 'private key ec.pem')).toThrow(/private key ec\.pem is of key type ec: release signatures take an Ed25519 or an RSA key/);
  });
});

describe('loading key files', () => {
  it('an unreadable, missing or non-PEM key file is exit 2 naming the file, without key material', async () => {
    const missing = await rejection(loadPrivateKey(join(dir, 'nope.key')));
    expect(missing.exitCode).toBe(2);
    expect(missing.message).toBe(`cannot read private key ${join(dir, 'nope.key')}: no such file`);

    const garbage = join(dir, 'garbage.key');
    await writeFile(garbage, 'SECRET-NOT-A-KEY-1234567890');
    const notPem = await rejection(loadPrivateKey(garbage));
    expect(notPem.exitCode).toBe(2);
    expect(notPem.message).toBe(`private key ${garbage} is not a PEM file`);

    const broken = join(dir, 'broken.key');
    await writeFile(broken, '-----BEGIN PRIVATE KEY-----\nTUlJQ0lBSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NBZ293Z2dJR0FnRUFBb0lCQVFEQQ==\n-----END PRIVATE KEY-----\n', { mode: 0o600 });
    const bad = await rejection(loadPrivateKey(broken));
    expect(bad.exitCode).toBe(2);
    expect(bad.message).toBe(`private key ${broken} is not a readable PEM private key`);
    expect(bad.message).not.toContain('TUlJ');

    const asDir = await rejection(loadPrivateKey(dir));
    expect(asDir.message).toContain('not a regular file');
  });

  it('a private key file unreadable for permissions is exit 2', async () => {
    if (process.getuid?.() === 0) return; // root reads anything: nothing to test
    const { privatePath } = await keyPair();
    await chmod(privatePath, 0o000);
    const err = await rejection(loadPrivateKey(privatePath));
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('permission denied');
  });

  it('warns, as ssh does, about a private key readable by others', async () => {
    const { privatePath } = await keyPair();
    expect((await loadPrivateKey(privatePath)).warnings).toEqual([]);
    await chmod(privatePath, 0o644);
    const { warnings } = await loadPrivateKey(privatePath);
    expect(warnings).toEqual([`private key ${privatePath} is accessible by others (mode 0644); restrict it: chmod 600 ${privatePath}`]);
  });

  it('says what is wrong with a public key given as the private key, an encrypted or an OpenSSH key', async () => {
    const { publicPath, privatePath } = await keyPair();
    const pub = await rejection(loadPrivateKey(publicPath));
    expect(pub.message).toBe(`private key ${publicPath} is a public key, not a private key`);

    const { privateKey } = generateKeyPairSync('ed25519');
    const encrypted = join(dir, 'enc.key');
    await writeFile(encrypted, privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }), { mode: 0o600 });
    expect((await rejection(loadPrivateKey(encrypted))).message).toContain('an encrypted private key');

    const openssh = join(dir, 'id_ed25519');
    await writeFile(openssh, '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n', { mode: 0o600 });
    expect((await rejection(loadPrivateKey(openssh))).message).toContain('ssh-keygen -p -m PKCS8');

    // A private key given where the public key goes works (its public half), but is said.
    const loaded = await loadPublicKey(privatePath);
    expect(loaded.warnings.join()).toContain('is a private key');
  });

  it('refuses a large file as a key before reading it', async () => {
    const big = join(dir, 'big.key');
    await mkdir(dir, { recursive: true });
    await writeFile(big, Buffer.alloc(100_000, 0x41));
    expect((await rejection(loadPublicKey(big))).message).toContain('is not a key file');
  });
});
