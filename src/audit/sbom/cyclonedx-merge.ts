import type { LockPackage, PackageHash, ParsedLockfile } from './model.js';

/**
 * Lockfiles -> one component per purl. A package installed from several lockfiles (or several
 * times in one: nested npm installs of the same version) is one component that lists every
 * manifest; its edges, hashes, licenses and install paths are the union, its scope the strongest.
 */

export interface MergedPackage extends LockPackage {
  /** Lock/manifest files naming it, in the order given. */
  manifests: string[];
}

export interface MergedGraph {
  /** In order of first appearance. */
  packages: MergedPackage[];
  /** purls the project depends on directly, over all lockfiles. */
  rootDependsOn: string[];
  /** Edges of the dependency graph between listed components (root edges included). */
  edges: number;
}

const SCOPE_RANK: Record<LockPackage['scope'], number> = { required: 0, optional: 1, dev: 2 };

export function mergeLockfiles(lockfiles: readonly ParsedLockfile[]): MergedGraph {
  const byPurl = new Map<string, MergedPackage>();
  const rootDependsOn = new Set<string>();
  for (const lockfile of lockfiles) {
    for (const pkg of lockfile.packages) {
      const seen = byPurl.get(pkg.purl);
      if (!seen) {
        byPurl.set(pkg.purl, {
          ...pkg,
          hashes: [...pkg.hashes],
          licenses: [...pkg.licenses],
          dependsOn: [...pkg.dependsOn],
          ...(pkg.installPaths ? { installPaths: [...pkg.installPaths] } : {}),
          manifests: [lockfile.manifest],
        });
        continue;
      }
      if (SCOPE_RANK[pkg.scope] < SCOPE_RANK[seen.scope]) seen.scope = pkg.scope;
      addAll(seen.manifests, [lockfile.manifest]);
      addAll(seen.dependsOn, pkg.dependsOn);
      addAll(seen.licenses, pkg.licenses);
      if (pkg.installPaths) addAll((seen.installPaths ??= []), pkg.installPaths);
      for (const hash of pkg.hashes) if (!seen.hashes.some((h) => sameHash(h, hash))) seen.hashes.push(hash);
      if (seen.resolved === undefined && pkg.resolved !== undefined) seen.resolved = pkg.resolved;
    }
    for (const purl of lockfile.rootDependsOn) rootDependsOn.add(purl);
  }
  const packages = [...byPurl.values()];
  let edges = 0;
  for (const pkg of packages) {
    // Parsers dedupe their own edges; after a merge an edge may point at a purl no lockfile lists.
    pkg.dependsOn = unique(pkg.dependsOn).filter((purl) => purl !== pkg.purl && byPurl.has(purl));
    edges += pkg.dependsOn.length;
  }
  const roots = [...rootDependsOn].filter((purl) => byPurl.has(purl));
  return { packages, rootDependsOn: roots, edges: edges + roots.length };
}

function addAll(into: string[], values: readonly string[]): void {
  for (const value of values) if (!into.includes(value)) into.push(value);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function sameHash(a: PackageHash, b: PackageHash): boolean {
  return a.alg === b.alg && a.content.toLowerCase() === b.content.toLowerCase();
}
