import { rm } from 'node:fs/promises';
import { cpus, platform, release } from 'node:os';
import { join } from 'node:path';
import { fsyncDir, writeFileDurable } from '../core/durable-write.js';
import { InvalidInputError } from '../core/errors.js';
import { withFileSystemErrors } from '../core/fs-errors.js';
import { govctlVersion } from '../core/version.js';
import { hashFile, listEntries, MANIFEST_FILE, SIGNATURE_FILE } from './artifacts.js';
import { canonicalBytes } from './canonical-json.js';
import { readGitState } from './git-state.js';
import { loadPrivateKey, publicKeyFingerprint, signBytes } from './signing.js';
import { manifestProblems, safeRelativePath, SIGNATURE_SCHEMA, type SignatureFile } from './manifest-schema.js';

export { MANIFEST_FILE, SIGNATURE_FILE } from './artifacts.js';

export const MANIFEST_SCHEMA = 'govctl.release-manifest/v1';

export type StepStatus = 'passed' | 'failed' | 'skipped' | 'error';

export interface ReleaseManifest {
  schema: typeof MANIFEST_SCHEMA;
  govctl_version: string;
  /** The release version. */
  version: string;
  created_at: string;
  started_at: string;
  finished_at: string;
  git: { commit: string; dirty: boolean; root: string } | null;
  environment: { os: string; cpus: number; node: string };
  steps: Array<{ name: string; status: StepStatus; reason?: string; duration_ms: number }>;
  /** Relative posix paths, sorted; every regular file of the directory but the manifest and its signature. */
  artifacts: Array<{ path: string; sha256: string; size: number }>;
  /** Paths (or directories) left out of `artifacts` on purpose; verify leaves them out too. Absent when none. */
  excluded?: string[];
}

export interface BuildManifestOptions {
  dir: string;
  version: string;
  startedAt: Date;
  finishedAt: Date;
  steps: ReleaseManifest['steps'];
  /** Where to read the git commit and dirty state; none recorded when absent. */
  gitRoot?: string;
  /** Relative posix paths or directories under `dir` not to list. */
  exclude?: string[];
  /** Why something could not be recorded (no git repository, ...). */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  /** For tests: the creation time. */
  now?: Date;
}

function checkExclude(exclude: string[]): string[] {
  for (const pattern of exclude) {
    if (!safeRelativePath.test(pattern)) throw new InvalidInputError(`exclude pattern ${JSON.stringify(pattern)} is not a relative path inside the release directory`);
  }
  return [...new Set(exclude)].sort();
}

/**
 * Lists and hashes (SHA-256, streamed) every file under `dir`, sorted by path, leaving out the
 * top-level manifest.json and manifest.sig and the `exclude` paths; records govctl's version,
 * the git state of `gitRoot` (with the release directory itself left out of the dirty check),
 * the environment and the steps. Anything but a regular file or directory in `dir` (a symbolic
 * link, a socket) is refused: it cannot be hashed as evidence.
 */
export async function buildManifest(options: BuildManifestOptions): Promise<ReleaseManifest> {
  const exclude = checkExclude(options.exclude ?? []);
  const entries = await listEntries(options.dir, exclude);
  const artifacts: ReleaseManifest['artifacts'] = [];
  for (const [path, kind] of entries) {
    if (kind !== 'file') {
      throw new InvalidInputError(`release artifact ${join(options.dir, path)} is ${kind === 'symlink' ? 'a symbolic link' : 'not a regular file'}: only regular files can be listed in a manifest`, {
        hint: 'copy the file into the release directory, or exclude it',
      });
    }
    artifacts.push({ path, ...(await hashFile(join(options.dir, path), options.signal)) });
  }
  let git: ReleaseManifest['git'] = null;
  if (options.gitRoot !== undefined) {
    const result = await readGitState(options.gitRoot, { ignore: [options.dir], ...(options.signal ? { signal: options.signal } : {}) });
    git = result.state;
    if (result.reason) options.onWarning?.(result.reason);
  }
  return {
    schema: MANIFEST_SCHEMA,
    govctl_version: govctlVersion(),
    version: options.version,
    created_at: (options.now ?? new Date()).toISOString(),
    started_at: options.startedAt.toISOString(),
    finished_at: options.finishedAt.toISOString(),
    git,
    environment: { os: `${platform()} ${release()}`, cpus: cpus().length, node: process.version },
    steps: options.steps.map((step) => ({ ...step })),
    artifacts,
    ...(exclude.length > 0 ? { excluded: exclude } : {}),
  };
}

export interface WrittenManifest {
  manifestPath: string;
  signaturePath?: string;
  /** sha256 of the signing key's SPKI DER, when signed. */
  keyFingerprint?: string;
  /** About the key file (permissions wider than 0600). */
  warnings: string[];
}

/**
 * Writes `manifest.json` (pretty-printed; the signature does not depend on the formatting) and,
 * with a private key, `manifest.sig` over the manifest's canonical JSON bytes. The key is read
 * and checked before anything is written. Without a key, a stale manifest.sig of an earlier run
 * is removed: it would not match. Both writes are atomic and durable. A manifest that does not
 * validate (an empty version, an unknown step status) is refused before anything is written.
 */
export async function writeManifest(dir: string, manifest: ReleaseManifest, signKeyPath?: string): Promise<WrittenManifest> {
  const manifestPath = join(dir, MANIFEST_FILE);
  const signaturePath = join(dir, SIGNATURE_FILE);
  const problems = manifestProblems(manifest);
  if (problems.length > 0) throw new InvalidInputError(`the release manifest is invalid: ${problems.join('; ')}`);
  const bytes = canonicalBytes(manifest);
  let signature: SignatureFile | undefined;
  const warnings: string[] = [];
  if (signKeyPath !== undefined) {
    const loaded = await loadPrivateKey(signKeyPath);
    warnings.push(...loaded.warnings);
    const signed = signBytes(loaded.key, bytes, `private key ${signKeyPath}`);
    signature = { schema: SIGNATURE_SCHEMA, algorithm: signed.algorithm, public_key_sha256: publicKeyFingerprint(loaded.key), signature: signed.signature };
  }
  await withFileSystemErrors('write', manifestPath, () => writeFileDurable(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`));
  if (!signature) {
    await withFileSystemErrors('remove', signaturePath, async () => {
      await rm(signaturePath, { force: true });
      await fsyncDir(dir);
    });
    return { manifestPath, warnings };
  }
  await withFileSystemErrors('write', signaturePath, () => writeFileDurable(signaturePath, `${JSON.stringify(signature, null, 2)}\n`));
  return { manifestPath, signaturePath, keyFingerprint: signature.public_key_sha256, warnings };
}
