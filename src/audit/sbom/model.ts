import type { Finding } from '../../core/findings.js';

/**
 * What a lockfile parser (npm-lock.ts, python/) hands the SBOM builder (cyclonedx.ts): packages
 * with their purl, scope, hashes, licenses and edges, independent of CycloneDX.
 */

export type HashAlgorithm = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' | 'MD5';

export interface PackageHash {
  alg: HashAlgorithm;
  /** Lower-case hex. */
  content: string;
}

export interface LockPackage {
  ecosystem: 'npm' | 'PyPI';
  /** As the ecosystem spells it: "@scope/name" for npm; PEP 503-normalised for PyPI. */
  name: string;
  version: string;
  /** Package URL; also the component's identity (bom-ref) once duplicates are merged. */
  purl: string;
  /** required (runtime), optional (optional/peer-only), dev (development only). */
  scope: 'required' | 'optional' | 'dev';
  hashes: PackageHash[];
  /** SPDX ids or expressions where known ("MIT", "(MIT OR Apache-2.0)"), else license names as written. */
  licenses: string[];
  /** purls of the packages this one depends on (resolved edges of the lockfile). */
  dependsOn: string[];
  /** Where it is installed, when the lockfile says ("node_modules/a/node_modules/b"). */
  installPaths?: string[];
  /** Download URL recorded in the lockfile, when there is one. */
  resolved?: string;
}

export interface ParsedLockfile {
  /** Path of the lock/manifest file relative to the scanned directory ("package-lock.json"). */
  manifest: string;
  ecosystem: 'npm' | 'PyPI';
  /** The project itself, when the file names it (npm root package, poetry project). */
  root?: { name: string; version?: string };
  /** purls of the packages the project depends on directly. */
  rootDependsOn: string[];
  packages: LockPackage[];
  /** Problems that are findings, e.g. an unpinned requirement (category "dependency"). */
  findings: Finding[];
  /** Things worth telling the user that are not findings ("node_modules absent: no licenses"). */
  notes: string[];
}
