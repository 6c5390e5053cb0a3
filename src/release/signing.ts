import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair as generateKeyPairCallback,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { open } from 'node:fs/promises';
import { platform } from 'node:os';
import { writeFileDurable } from '../core/durable-write.js';
import { InvalidInputError } from '../core/errors.js';
import { ensureWritableFile, isErrnoError, withFileSystemErrors } from '../core/fs-errors.js';

export type KeyType = 'ed25519' | 'rsa-pss';
export type SignatureAlgorithm = 'ed25519' | 'rsa-pss-sha256';

export interface Signature {
  algorithm: SignatureAlgorithm;
  /** base64 */
  signature: string;
}

/** RSA keys govctl generates: 3072 bits, as NIST recommends past 2030. */
const RSA_BITS = 3072;
/** Shorter RSA keys are refused: 1024 bits has been breakable for years. */
const MIN_RSA_BITS = 2048;
/** A PEM key is a few KiB at most; a larger "key file" is the wrong file. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

const PEM_ENCODING = { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } } as const;

function newPemKeyPair(type: KeyType): Promise<{ publicKey: string; privateKey: string }> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKey: string, privateKey: string) => (err ? reject(err) : resolve({ publicKey, privateKey }));
    // An RSA key signs with PSS (see signBytes): a plain rsaEncryption key is what other tools read.
    if (type === 'rsa-pss') generateKeyPairCallback('rsa', { modulusLength: RSA_BITS, ...PEM_ENCODING }, done);
    else generateKeyPairCallback('ed25519', PEM_ENCODING, done);
  });
}

/**
 * Writes a new key pair: the private key as PKCS#8 PEM at mode 0600 (created so, never wider for
 * a moment), the public key as SPKI PEM. Existing files are refused (exit 2) unless `force`; both
 * paths are checked before either is written.
 */
export async function generateKeyPair(options: { privatePath: string; publicPath: string; type?: KeyType; force?: boolean }): Promise<{ fingerprint: string }> {
  const force = options.force === true;
  if (options.privatePath === options.publicPath) throw new InvalidInputError(`the private and the public key cannot both be written to ${options.privatePath}`);
  await ensureWritableFile(options.privatePath, force);
  await ensureWritableFile(options.publicPath, force);
  const pair = await newPemKeyPair(options.type ?? 'ed25519');
  await withFileSystemErrors('write', options.privatePath, () => writeFileDurable(options.privatePath, pair.privateKey, { mode: 0o600, dirMode: 0o700 }));
  await withFileSystemErrors('write', options.publicPath, () => writeFileDurable(options.publicPath, pair.publicKey, { mode: 0o644 }));
  return { fingerprint: publicKeyFingerprint(createPublicKey(pair.publicKey)) };
}

/** sha256 (hex) of the key's SPKI DER: the same for a private key and its public key. */
export function publicKeyFingerprint(key: KeyObject | string): string {
  const publicKey = typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

function algorithmOf(key: KeyObject, source: string): SignatureAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return 'ed25519';
    case 'rsa':
    case 'rsa-pss': {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) throw new InvalidInputError(`${source} is an RSA key of ${bits} bits: release signatures take at least ${MIN_RSA_BITS}`);
      return 'rsa-pss-sha256';
    }
    default:
      throw new InvalidInputError(`${source} is of key type ${key.asymmetricKeyType ?? 'unknown'}: release signatures take an Ed25519 or an RSA key`, {
        hint: 'govctl release keygen writes an Ed25519 key pair',
      });
  }
}

/** PSS with SHA-256 and a salt as long as the digest (32 bytes), the usual profile. */
const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } as const;

/** What a PEM text is, in words, for a message that never quotes the key itself. */
function describePem(text: string): string | undefined {
  if (!text.includes('-----BEGIN ')) return 'not a PEM file';
  if (text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) return 'an encrypted private key (govctl needs an unencrypted PKCS#8 key)';
  if (text.includes('-----BEGIN OPENSSH PRIVATE KEY-----')) return 'an OpenSSH private key (convert it: ssh-keygen -p -m PKCS8 -f FILE)';
  return undefined;
}

/** Parses a private key PEM; errors name `source`, never the key material. */
export function parsePrivateKey(pem: string, source = 'the private key'): KeyObject {
  const problem = describePem(pem);
  if (problem) throw new InvalidInputError(`${source} is ${problem}`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    const isPublic = /-----BEGIN (RSA )?PUBLIC KEY-----/.test(pem);
    // Node's decoder errors say nothing useful and never contain the key: keep them as the cause.
    throw new InvalidInputError(`${source} is ${isPublic ? 'a public key, not a private key' : 'not a readable PEM private key'}`, { cause: err });
  }
  algorithmOf(key, source);
  return key;
}

/**
 * Parses a public key PEM (SPKI). A private key is accepted (its public half is used) but said
 * in `warnings`: verifying should never need the private key at hand.
 */
export function parsePublicKey(pem: string, source = 'the public key', warnings: string[] = []): KeyObject {
  const problem = describePem(pem);
  if (problem) throw new InvalidInputError(`${source} is ${problem}`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new InvalidInputError(`${source} is not a readable PEM public key`, { cause: err });
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) warnings.push(`${source} is a private key; verifying needs only the public key (the .pub file)`);
  algorithmOf(key, source);
  return key;
}

/** Signs `bytes`: Ed25519 (pure, no pre-hash) or RSA-PSS/SHA-256, chosen by the key's type. */
export function signBytes(privateKeyPem: string | KeyObject, bytes: Buffer, source = 'the private key'): Signature {
  const key = typeof privateKeyPem === 'string' ? parsePrivateKey(privateKeyPem, source) : privateKeyPem;
  const algorithm = algorithmOf(key, source);
  let signature: Buffer;
  try {
    signature = algorithm === 'ed25519' ? sign(null, bytes, key) : sign('sha256', bytes, { key, ...PSS });
  } catch (err) {
    // e.g. an RSASSA-PSS key whose parameters forbid SHA-256.
    throw new InvalidInputError(`${source} cannot make an ${algorithm} signature`, { cause: err });
  }
  return { algorithm, signature: signature.toString('base64') };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * True when `signature` is a valid signature of `bytes` by this public key with the algorithm it
 * names. An algorithm that does not fit the key, or a malformed base64 text, is simply false.
 */
export function verifyBytes(publicKeyPem: string | KeyObject, bytes: Buffer, signature: Signature): boolean {
  const key = typeof publicKeyPem === 'string' ? parsePublicKey(publicKeyPem) : publicKeyPem;
  if (algorithmOf(key, 'the public key') !== signature.algorithm) return false;
  // Buffer.from(.., 'base64') skips junk silently: only a strict encoding is taken as given.
  if (typeof signature.signature !== 'string' || signature.signature.length === 0 || !BASE64.test(signature.signature)) return false;
  const raw = Buffer.from(signature.signature, 'base64');
  try {
    return signature.algorithm === 'ed25519' ? verify(null, bytes, key, raw) : verify('sha256', bytes, { key, ...PSS }, raw);
  } catch {
    return false;
  }
}

/**
 * Reads a key file: a regular file of at most 64 KiB. Unreadable -> InvalidInputError naming the
 * file (exit 2). For a private key, permissions wider than 0600 are reported in `warnings`, as
 * ssh does (not on Windows, where modes mean nothing).
 */
export async function readKeyFile(path: string, kind: 'private' | 'public'): Promise<{ pem: string; warnings: string[] }> {
  const label = `${kind} key ${path}`;
  const warnings: string[] = [];
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new InvalidInputError(`cannot read ${label}: ${readableCause(err)}`, { cause: err });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new InvalidInputError(`cannot read ${label}: not a regular file`);
    if (info.size > MAX_KEY_FILE_BYTES) throw new InvalidInputError(`${label} is not a key file: ${info.size} bytes, a PEM key is a few KiB`);
    if (kind === 'private' && platform() !== 'win32' && (info.mode & 0o077) !== 0) {
      warnings.push(`${label} is accessible by others (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}); restrict it: chmod 600 ${path}`);
    }
    const pem = await handle.readFile('utf8');
    return { pem, warnings };
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
    throw new InvalidInputError(`cannot read ${label}: ${readableCause(err)}`, { cause: err });
  } finally {
    await handle.close();
  }
}

function readableCause(err: unknown): string {
  if (!isErrnoError(err)) return 'unreadable';
  const causes: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'is a directory', EPERM: 'operation not permitted' };
  return causes[err.code!] ?? err.code!;
}

/** Reads and parses a private key file; the file is named in every error. */
export async function loadPrivateKey(path: string): Promise<{ key: KeyObject; warnings: string[] }> {
  const { pem, warnings } = await readKeyFile(path, 'private');
  return { key: parsePrivateKey(pem, `private key ${path}`), warnings };
}

/** Reads and parses a public key file; the file is named in every error. */
export async function loadPublicKey(path: string): Promise<{ key: KeyObject; pem: string; warnings: string[] }> {
  const { pem, warnings } = await readKeyFile(path, 'public');
  return { key: parsePublicKey(pem, `public key ${path}`, warnings), pem, warnings };
}
