import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PackageURL } from 'packageurl-js';
import { InterruptedError, InvalidInputError, messageOf } from '../../core/errors.js';
import type { LockPackage, ParsedLockfile } from './model.js';
import { LockGraph } from './npm-graph.js';
import { readInstalledLicenses } from './npm-installed.js';
import { declaredLicenses, integrityToHashes } from './npm-integrity.js';
import { readNpmLockfile, type LockEntry } from './npm-lock-file.js';
import { isInstalledKey, parentOf, workspaceMatcher } from './npm-tree.js';

/** "pkg:npm/%40scope/name@1.2.3" per purl-spec (packageurl-js encodes and normalises). */
export function npmPurl(name: string, version: string): string {
  const slash = name.startsWith('@') ? name.indexOf('/') : -1;
  const namespace = slash > 0 ? name.slice(0, slash) : undefined;
  return new PackageURL('npm', namespace, slash > 0 ? name.slice(slash + 1) : name, version === '' ? undefined : version).toString();
}

type Scope = LockPackage['scope'];

/**
 * npm's lockfile flags -> scope:
 * - `dev` (only in the devDependencies tree, also with `optional`: an optional dep of a dev dep) -> dev
 * - `optional` (only in the optionalDependencies tree) -> optional
 * - `devOptional` (a dev dep that is also an optional dep of a production dep: a production
 *   install may carry it, but only optionally) -> optional
 * - `peer` (only reachable through peerDependencies: the host provides it, `--omit peer` leaves
 *   it out) -> optional
 * - none -> required.
 * One package installed at several paths takes the widest: required > optional > dev.
 */
function scopeOf(entry: LockEntry): Scope {
  if (entry.dev) return 'dev';
  if (entry.optional || entry.devOptional || entry.peer) return 'optional';
  return 'required';
}

const SCOPE_RANK: Record<Scope, number> = { dev: 0, optional: 1, required: 2 };

interface PackageAcc extends LockPackage {
  edges: Set<string>;
  installPaths: string[];
}

/**
 * Parses an npm lockfile (lockfileVersion 2 or 3) into packages with purls, scopes, hashes,
 * licenses and the dependency graph, resolving each dependency as Node does from where the
 * dependent is installed. One package (name@version) installed at several paths is one package
 * with several installPaths. Workspace folders are packages of their own, and the project
 * depends on each. `manifest` is relative to `dir` ("package-lock.json", "npm-shrinkwrap.json").
 */
export async function parseNpmLockfile(dir: string, manifest: string, options: { signal?: AbortSignal } = {}): Promise<ParsedLockfile> {
  const { signal } = options;
  if (signal?.aborted) throw new InterruptedError(`interrupted before reading ${manifest}`);
  const path = join(dir, manifest);
  const lock = await readNpmLockfile(dir, path, signal);
  const notes: string[] = [];
  if (lock.lockfileVersion > 3) notes.push(`${manifest} has lockfileVersion ${lock.lockfileVersion}, newer than 3: read as version 3`);
  const entries = lock.packages;
  const rootEntry = entries[''] ?? {};

  const graph = new LockGraph(entries, (name, version, key) => purlFor(name, version, path, key));
  const byPurl = groupPackages(graph);
  const packages = [...byPurl.values()];
  const rootDeps = rootEdges(graph, byPurl, rootEntry, rootEntry.name ?? lock.name ?? 'the project');

  await addInstalledLicenses(dir, manifest, packages, notes, signal);
  notes.push(...graphNotes(graph, manifest));

  const rootName = rootEntry.name ?? lock.name;
  const rootVersion = rootEntry.version ?? lock.version;
  return {
    manifest,
    ecosystem: 'npm',
    ...(rootName === undefined ? {} : { root: rootVersion === undefined ? { name: rootName } : { name: rootName, version: rootVersion } }),
    rootDependsOn: [...rootDeps].sort(compare),
    packages: packages.sort((a, b) => compare(a.purl, b.purl)).map(finish),
    findings: [],
    notes,
  };
}

/** One package per purl: the copies installed at several paths merged. */
function groupPackages(graph: LockGraph): Map<string, PackageAcc> {
  const packages = new Map<string, PackageAcc>();
  for (const node of graph.nodes.values()) {
    const { entry, purl } = node;
    const scope = scopeOf(entry);
    let pkg = packages.get(purl);
    if (!pkg) {
      const { name, version } = node;
      pkg = { ecosystem: 'npm', name, version, purl, scope, hashes: [], licenses: [], dependsOn: [], installPaths: [], edges: new Set() };
      packages.set(purl, pkg);
    } else if (SCOPE_RANK[scope] > SCOPE_RANK[pkg.scope]) {
      pkg.scope = scope;
    }
    pkg.installPaths.push(node.key);
    if (entry.integrity) {
      for (const hash of integrityToHashes(entry.integrity)) if (!pkg.hashes.some((h) => h.alg === hash.alg)) pkg.hashes.push(hash);
    }
    if (pkg.licenses.length === 0) pkg.licenses = declaredLicenses(entry.license, entry.licenses);
    if (pkg.resolved === undefined && entry.resolved) pkg.resolved = entry.resolved;
    for (const dep of graph.edgesOf(node.key, entry)) if (dep !== purl) pkg.edges.add(dep);
  }
  return packages;
}

/**
 * What the project depends on: its own declared deps, each workspace folder, and (as npm ls and
 * so cyclonedx-npm show them) the extraneous packages in its node_modules. An extraneous package
 * deeper down becomes a dependency of the package whose node_modules holds it, so no component
 * is left out of the graph.
 */
function rootEdges(graph: LockGraph, byPurl: Map<string, PackageAcc>, rootEntry: LockEntry, label: string): Set<string> {
  const deps = new Set(graph.edgesOf('', rootEntry, label));
  const isWorkspace = workspaceMatcher(rootEntry.workspaces);
  for (const node of graph.nodes.values()) {
    if (!isInstalledKey(node.key) && isWorkspace(node.key)) deps.add(node.purl);
    if (!node.entry.extraneous) continue;
    const holder = parentOf(node.key);
    const owner = holder ? graph.nodes.get(holder) : undefined;
    if (holder === '') deps.add(node.purl);
    else if (owner && owner.purl !== node.purl) byPurl.get(owner.purl)!.edges.add(node.purl);
  }
  return deps;
}

function graphNotes(graph: LockGraph, manifest: string): string[] {
  const notes: string[] = [];
  if (graph.outsideUnlocked.size > 0) {
    const first = [...graph.outsideUnlocked][0]!;
    notes.push(
      `${graph.outsideUnlocked.size} package(s) linked from outside the project (e.g. ${first}): ` +
        `${manifest} does not lock their own dependencies, so the SBOM does not list them`,
    );
  }
  const broken = graph.brokenLinks();
  if (broken.length > 0) notes.push(`${broken.length} link(s) in ${manifest} point at folders it does not list (e.g. ${broken[0]![0]} -> ${broken[0]![1]})`);
  const { unresolved } = graph;
  if (unresolved.length > 0) {
    const what = unresolved.length === 1 ? 'dependency resolves' : 'dependencies resolve';
    notes.push(`${unresolved.length} ${what} to no package in ${manifest} (e.g. ${unresolved.slice(0, 3).join(', ')}); run npm install to repair the lockfile`);
  }
  return notes;
}

/**
 * Licenses the lockfile does not record, read from installed package.json files: source folders
 * (workspaces) always, node_modules copies when node_modules exists.
 */
async function addInstalledLicenses(dir: string, manifest: string, packages: PackageAcc[], notes: string[], signal?: AbortSignal): Promise<void> {
  const installed = await isDirectory(join(dir, 'node_modules'));
  if (signal?.aborted) throw new InterruptedError(`interrupted while reading ${manifest}`);
  const lookups = [];
  for (const pkg of packages) {
    if (pkg.licenses.length > 0) continue;
    const paths = pkg.installPaths.filter((p) => installed || !isInstalledKey(p));
    if (paths.length > 0) lookups.push({ purl: pkg.purl, version: pkg.version, paths });
  }
  if (lookups.length > 0) {
    const found = await readInstalledLicenses(dir, lookups, signal);
    for (const pkg of packages) {
      const licenses = found.licenses.get(pkg.purl);
      if (licenses) pkg.licenses = licenses;
    }
    if (found.stale > 0) {
      notes.push(
        `node_modules is out of date with ${manifest}: ${found.stale} installed package.json file(s) have ` +
          'another version than it names (their licenses are not used); run npm install',
      );
    }
  }
  if (!installed) {
    const without = packages.filter((p) => p.licenses.length === 0).length;
    const count = without > 0 ? ` (${without} of ${packages.length} packages have none there)` : '';
    notes.push(`node_modules not installed: licenses only from ${manifest}${count}`);
  }
}

function finish(pkg: PackageAcc): LockPackage {
  const { edges, installPaths, ...rest } = pkg;
  return { ...rest, dependsOn: [...edges].sort(compare), installPaths: installPaths.sort(compare) };
}

function purlFor(name: string, version: string, path: string, key: string): string {
  try {
    return npmPurl(name, version);
  } catch (err) {
    const what = `${JSON.stringify(name)}@${version}`;
    throw new InvalidInputError(`${path}: packages[${JSON.stringify(key)}]: cannot make a package URL of ${what}: ${messageOf(err)}`);
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
