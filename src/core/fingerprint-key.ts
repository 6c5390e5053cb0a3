import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, tempPathFor } from './durable-write.js';
import { InvalidInputError } from './errors.js';
import { fileSystemError, isErrnoError } from './fs-errors.js';

/**
 * The key of finding fingerprints (HMAC, see findings.ts). Chosen over a slow hash with a fixed
 * salt: a weak secret is still found from a short word list when the salt is public, however slow
 * the hash; with a key that is not in the report, the fingerprint tells nothing about the secret.
 *
 * Where it comes from: GOVCTL_FINGERPRINT_KEY (set it in CI from a secret store, so CI's
 * fingerprints match the baseline committed by developers), else `<project>/.govctl/fingerprint-key`
 * (32 random bytes, hex, mode 0600, created on first use; keep `.govctl/` out of version control).
 * A scan never reads the `.govctl` directory.
 */
export const FINGERPRINT_KEY_ENV = 'GOVCTL_FINGERPRINT_KEY';
export const FINGERPRINT_KEY_DIR = '.govctl';
export const FINGERPRINT_KEY_FILE = 'fingerprint-key';

export interface FingerprintKey {
  key: Uint8Array;
  /** env: from GOVCTL_FINGERPRINT_KEY; file: read; created: made now; ephemeral: could not be kept. */
  source: 'env' | 'file' | 'created' | 'ephemeral';
  path?: string;
  /** Why an ephemeral key was used. */
  reason?: string;
}

function parseKeyFile(text: string, path: string): Uint8Array {
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new InvalidInputError(`${path} is not a fingerprint key (64 hex characters expected)`, { hint: 'delete it to make a new one; existing baselines must then be rewritten' });
  return Buffer.from(hex, 'hex');
}

/**
 * The project's fingerprint key for `projectDir`: from the environment, the key file, or a new
 * key file. If none can be kept (read-only checkout), an ephemeral key: fingerprints are then
 * not stable across runs, which the caller must say.
 */
export async function loadFingerprintKey(projectDir: string, env: Record<string, string | undefined>): Promise<FingerprintKey> {
  const fromEnv = env[FINGERPRINT_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < 16) throw new InvalidInputError(`${FINGERPRINT_KEY_ENV} is too short: use at least 16 characters (e.g. openssl rand -hex 32)`);
    // Hashed, so any string (hex or not) becomes a 32-byte key.
    return { key: createHash('sha256').update(fromEnv).digest(), source: 'env' };
  }
  const dir = join(projectDir, FINGERPRINT_KEY_DIR);
  const path = join(dir, FINGERPRINT_KEY_FILE);
  const existing = await readFile(path, 'utf8').catch((err: unknown) => {
    // ENOTDIR: `.govctl` is a file; then no key can be kept there (an ephemeral one, below).
    if (isErrnoError(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return undefined;
    throw fileSystemError(err, 'read the fingerprint key', path);
  });
  if (existing !== undefined) return { key: parseKeyFile(existing, path), source: 'file', path };

  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = tempPathFor(path);
    await writeFile(temp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      // link() fails if another scan created the key first: then both use that one.
      await link(temp, path).catch((err: unknown) => {
        if (!(isErrnoError(err) && err.code === 'EEXIST')) throw err;
      });
    } finally {
      await rm(temp, { force: true });
    }
    await fsyncDir(dir);
    return { key: parseKeyFile(await readFile(path, 'utf8'), path), source: 'created', path };
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
    const cause = isErrnoError(err) ? err.code! : String(err);
    return { key: randomBytes(32), source: 'ephemeral', path, reason: `cannot create ${path}: ${cause}` };
  }
}
