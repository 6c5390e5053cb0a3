import { lstat, readFile, stat } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { InvalidInputError, NotFoundError, messageOf } from '../core/errors.js';
import { isErrnoError, withFileSystemErrors } from '../core/fs-errors.js';
import { hashFile, listEntries, MANIFEST_FILE, SIGNATURE_FILE } from './artifacts.js';
import { canonicalBytes, findDuplicateKey } from './canonical-json.js';
import { manifestProblems, signatureProblems, type SignatureFile } from './manifest-schema.js';
import { MANIFEST_SCHEMA, type ReleaseManifest } from './manifest.js';
import { parsePublicKey, publicKeyFingerprint, verifyBytes } from './signing.js';

export type ArtifactStatus = 'ok' | 'changed' | 'missing' | 'extra';

export interface ArtifactCheck {
  /** Relative to the release directory, posix. */
  path: string;
  status: ArtifactStatus;
  /** What the manifest says (absent for an extra file). */
  expected?: { sha256: string; size: number };
  /** What is there now (absent for a missing file; no sha256 when the size or kind already differs). */
  actual?: { sha256?: string; size?: number };
  reason?: string;
}

/**
 * verified: checked against the given public key. not-checked: present, but no public key was
 * given. unsigned: no manifest.sig and no key given. missing: a key was given but there is no
 * manifest.sig. invalid: it does not verify over manifest.json. wrong-key: made by another key.
 * damaged: not a readable signature file.
 */
export type SignatureStatus = 'verified' | 'not-checked' | 'unsigned' | 'missing' | 'invalid' | 'wrong-key' | 'damaged';

export interface VerifyResult {
  dir: string;
  /** Every check that could be made passed: the exit status. */
  ok: boolean;
  /** The files match manifest.json: none changed, missing or extra. */
  consistent: boolean;
  /** manifest.json is signed by the given public key. Never true without one. */
  authenticated: boolean;
  manifest: {
    path: string;
    status: 'ok' | 'invalid';
    problem?: string;
    version?: string;
    govctl_version?: string;
    created_at?: string;
    git?: ReleaseManifest['git'];
  };
  signature: {
    path: string;
    status: SignatureStatus;
    algorithm?: string;
    /** The key manifest.sig names (sha256 of its SPKI DER): unauthenticated without a public key. */
    key_sha256?: string;
    /** The fingerprint of the public key given. */
    given_key_sha256?: string;
    problem?: string;
  };
  artifacts: ArtifactCheck[];
  /** One line per problem, each naming the file (relative to dir). */
  problems: Array<{ file: string; problem: string }>;
  warnings: string[];
}

export interface VerifyOptions {
  dir: string;
  /** PEM text of the trusted public key; without it the signature cannot be checked. */
  publicKey?: string;
  /** How to name the public key in messages (its file). */
  publicKeySource?: string;
  signal?: AbortSignal;
}

async function readOptional(path: string): Promise<string | undefined> {
  const info = await lstat(path).catch((err: unknown) => {
    if (isErrnoError(err) && err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!info) return undefined;
  // Not a regular file (a link, a directory): read as nothing, so it is reported as invalid.
  if (!info.isFile()) return '';
  return withFileSystemErrors('read', path, () => readFile(path, 'utf8'));
}

type Parsed<T> = { value: T; problem?: undefined } | { value?: undefined; problem: string };

function parseManifest(text: string): Parsed<ReleaseManifest> {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    return { problem: `is not valid JSON: ${messageOf(err)}` };
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate) return { problem: `names ${duplicate} twice: a reader could take either value` };
  const schema = (value as { schema?: unknown } | null)?.schema;
  const newer = typeof schema === 'string' ? /^govctl\.release-manifest\/v(\d+)$/.exec(schema) : null;
  if (newer && schema !== MANIFEST_SCHEMA) {
    throw new InvalidInputError(`${MANIFEST_FILE} is of schema ${schema}; this govctl reads ${MANIFEST_SCHEMA}`, { hint: 'verify it with the govctl version that wrote it' });
  }
  const problems = manifestProblems(value);
  if (problems.length > 0) return { problem: `is not a valid release manifest: ${problems.slice(0, 5).join('; ')}` };
  const manifest = value as ReleaseManifest;
  const seen = new Set<string>();
  for (const artifact of manifest.artifacts) {
    if (seen.has(artifact.path)) return { problem: `lists ${artifact.path} twice` };
    seen.add(artifact.path);
  }
  return { value: manifest };
}

function parseSignature(text: string): Parsed<SignatureFile> {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return { problem: 'is not valid JSON' };
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate) return { problem: `names ${duplicate} twice` };
  const problems = signatureProblems(value);
  return problems.length > 0 ? { problem: `is not a valid signature file: ${problems.join('; ')}` } : { value: value as SignatureFile };
}

async function checkArtifacts(dir: string, manifest: ReleaseManifest, signal?: AbortSignal): Promise<ArtifactCheck[]> {
  const entries = await listEntries(dir, manifest.excluded ?? []);
  const checks: ArtifactCheck[] = [];
  for (const artifact of manifest.artifacts) {
    signal?.throwIfAborted();
    const expected = { sha256: artifact.sha256, size: artifact.size };
    const kind = entries.get(artifact.path);
    entries.delete(artifact.path);
    if (kind === undefined) {
      checks.push({ path: artifact.path, status: 'missing', expected, reason: 'not in the release directory' });
      continue;
    }
    if (kind !== 'file') {
      checks.push({ path: artifact.path, status: 'changed', expected, reason: kind === 'symlink' ? 'now a symbolic link' : 'not a regular file' });
      continue;
    }
    const path = join(dir, artifact.path);
    const { size } = await lstat(path);
    if (size !== artifact.size) {
      checks.push({ path: artifact.path, status: 'changed', expected, actual: { size }, reason: `size ${size}, expected ${artifact.size}` });
      continue;
    }
    const actual = await hashFile(path, signal);
    const same = actual.sha256 === artifact.sha256 && actual.size === artifact.size;
    checks.push({ path: artifact.path, status: same ? 'ok' : 'changed', expected, actual, ...(same ? {} : { reason: 'content differs (sha256)' }) });
  }
  for (const [path, kind] of entries) {
    checks.push({ path, status: 'extra', reason: kind === 'file' ? 'not in the manifest' : `not in the manifest (${kind === 'symlink' ? 'a symbolic link' : 'not a regular file'})` });
  }
  return checks;
}

const short = (fingerprint: string) => `sha256:${fingerprint.slice(0, 16)}`;

/**
 * Verifies a release directory: recomputes the hash and size of every artifact manifest.json
 * lists, finds the changed, missing and extra files, and checks manifest.sig over the manifest's
 * canonical JSON bytes with the given public key. Without a key only consistency is checked and
 * the result says so (`authenticated` false): anyone able to change the files can rewrite
 * manifest.json too. No directory or no manifest.json: NotFoundError (exit 5); a manifest of a
 * newer schema or a bad key: InvalidInputError (exit 2); everything else is data in the result.
 */
export async function verifyRelease(options: VerifyOptions): Promise<VerifyResult> {
  const dir = options.dir;
  // The directory itself may be a link (reports/latest); what is inside it is never followed.
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw new NotFoundError(`release directory ${dir} does not exist`);
  if (!info.isDirectory()) throw new InvalidInputError(`${dir} is not a directory: verify takes a release directory (the one holding ${MANIFEST_FILE})`);
  const manifestText = await readOptional(join(dir, MANIFEST_FILE));
  if (manifestText === undefined) {
    throw new NotFoundError(`no ${MANIFEST_FILE} in ${dir}: not a release directory`, { hint: 'govctl release-check writes reports/release-<version>/manifest.json' });
  }
  const warnings: string[] = [];
  const keySource = options.publicKeySource ?? 'the public key';
  const publicKey = options.publicKey === undefined ? undefined : parsePublicKey(options.publicKey, keySource, warnings);
  const givenKey = publicKey ? publicKeyFingerprint(publicKey) : undefined;
  const problems: VerifyResult['problems'] = [];

  const parsed = parseManifest(manifestText);
  const manifest = parsed.value;
  const manifestPart: VerifyResult['manifest'] = manifest
    ? { path: MANIFEST_FILE, status: 'ok', version: manifest.version, govctl_version: manifest.govctl_version, created_at: manifest.created_at, git: manifest.git }
    : { path: MANIFEST_FILE, status: 'invalid', problem: parsed.problem };
  if (parsed.problem) problems.push({ file: MANIFEST_FILE, problem: parsed.problem });

  const artifacts = manifest ? await checkArtifacts(dir, manifest, options.signal) : [];
  for (const check of artifacts) if (check.status !== 'ok') problems.push({ file: check.path, problem: `${check.status}: ${check.reason ?? ''}` });

  const signature = checkSignature(await readOptional(join(dir, SIGNATURE_FILE)), manifest, publicKey && givenKey ? { key: publicKey, fingerprint: givenKey, source: keySource } : undefined);
  if (signature.problem && signature.status !== 'not-checked' && signature.status !== 'unsigned') problems.push({ file: SIGNATURE_FILE, problem: signature.problem });

  const consistent = manifest !== undefined && artifacts.every((a) => a.status === 'ok');
  const authenticated = signature.status === 'verified';
  const signatureOk = publicKey ? authenticated : signature.status === 'not-checked' || signature.status === 'unsigned';
  return { dir, ok: consistent && signatureOk, consistent, authenticated, manifest: manifestPart, signature, artifacts, problems, warnings };
}

function checkSignature(
  text: string | undefined,
  manifest: ReleaseManifest | undefined,
  key: { key: KeyObject; fingerprint: string; source: string } | undefined,
): VerifyResult['signature'] {
  const base = { path: SIGNATURE_FILE, ...(key ? { given_key_sha256: key.fingerprint } : {}) };
  if (text === undefined) {
    return key
      ? { ...base, status: 'missing', problem: `missing: the release is not signed, but ${key.source} was given to check its signature` }
      : { ...base, status: 'unsigned', problem: 'no signature: the files were checked against manifest.json only, which is not authenticated' };
  }
  const parsed = parseSignature(text);
  if (!parsed.value) return { ...base, status: 'damaged', problem: parsed.problem };
  const sig = parsed.value;
  const named = { ...base, algorithm: sig.algorithm, key_sha256: sig.public_key_sha256 };
  if (!key) {
    return { ...named, status: 'not-checked', problem: `signature present (key ${short(sig.public_key_sha256)}) but not checked: pass --public-key` };
  }
  if (!manifest) return { ...named, status: 'invalid', problem: `cannot be checked: ${MANIFEST_FILE} is not a valid manifest` };
  const valid = verifyBytes(key.key, canonicalBytes(manifest), { algorithm: sig.algorithm, signature: sig.signature });
  if (valid && sig.public_key_sha256 === key.fingerprint) return { ...named, status: 'verified' };
  if (valid) return { ...named, status: 'invalid', problem: `names key ${short(sig.public_key_sha256)}, but was made by ${key.source} (${short(key.fingerprint)}): manifest.sig was altered` };
  if (sig.public_key_sha256 !== key.fingerprint) {
    return { ...named, status: 'wrong-key', problem: `was made by key ${short(sig.public_key_sha256)}, not by ${key.source} (${short(key.fingerprint)}): refused` };
  }
  return { ...named, status: 'invalid', problem: `does not verify over ${MANIFEST_FILE} with ${key.source}: ${MANIFEST_FILE} or ${SIGNATURE_FILE} was altered` };
}
