import { InvalidInputError } from '../../../core/errors.js';
import type { Finding } from '../../../core/findings.js';
import type { LockPackage, PackageHash, ParsedLockfile } from '../model.js';
import {
  addHashes,
  directUrlFinding,
  insecureIndexFinding,
  isInsecureRemoteUrl,
  isRecord,
  mergeByPurl,
  parseHash,
  parseTomlText,
  readManifestText,
  scopesByReachability,
  type PythonParseContext,
} from './common.js';
import { pypiName, pypiPurl } from './pep503.js';

type SourceKind = 'registry' | 'remote' | 'local' | 'member';

interface Locked {
  key: string;
  name: string;
  version: string;
  kind: SourceKind;
  /** The registry, git or URL source as written; the path of a local or member package. */
  where: string;
  hashes: PackageHash[];
  resolved?: string;
  deps: DepRef[];
  optionalDeps: DepRef[];
  devDeps: DepRef[];
}

interface DepRef {
  name: string;
  version?: string;
}

/**
 * uv.lock (version 1): [[package]] with source = registry | git | url | path | directory |
 * editable | virtual, dependencies / optional-dependencies / dev-dependencies as {name, version?},
 * hashes on sdist and wheels. Editable and virtual packages are the project and its workspace
 * members: the roots of the graph, not components.
 */
export async function parseUvLock(dir: string, manifest: string, ctx: PythonParseContext): Promise<ParsedLockfile> {
  const doc = parseTomlText(await readManifestText(dir, manifest), manifest);
  if (typeof doc.version !== 'number') throw new InvalidInputError(`${manifest}: not a uv.lock: no top-level "version" number`);
  if (!Array.isArray(doc.package)) throw new InvalidInputError(`${manifest}: not a uv.lock: no [[package]] entries`);

  const locked = doc.package.map((raw, i) => lockedPackage(raw, `${manifest}: package[${i}]`));
  const byName = new Map<string, Locked[]>();
  for (const p of locked) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  // A dependency names a version (and source) only when the lock holds several of that name.
  const resolveRefs = (refs: DepRef[]) =>
    refs.flatMap((r) => (byName.get(r.name) ?? []).filter((p) => r.version === undefined || p.version === r.version));

  const members = locked.filter((p) => p.kind === 'member');
  const root = members.find((p) => p.where === '.') ?? members[0];
  const edges = new Map(locked.map((p) => [p.key, resolveRefs([...p.deps, ...p.optionalDeps]).map((d) => d.key)]));
  const memberRefs = (pick: (p: Locked) => DepRef[]) => resolveRefs(members.flatMap(pick)).map((p) => p.key);
  const scopes = scopesByReachability(edges, {
    required: memberRefs((p) => p.deps),
    optional: memberRefs((p) => p.optionalDeps),
    dev: memberRefs((p) => p.devDeps),
  });

  const notes: string[] = [];
  const findings: Finding[] = [];
  const insecure = new Set<string>();
  const isComponent = (p: Locked) => p.kind === 'registry' || p.kind === 'remote';
  const packages: LockPackage[] = [];
  for (const p of locked) {
    if (p.kind === 'member') continue;
    if (p.kind === 'local') {
      notes.push(`${manifest}: ${p.name} ${p.version} from the local path ${p.where} not listed (project code)`);
      continue;
    }
    const purl = pypiPurl(p.name, p.version);
    if (p.kind === 'remote') findings.push(directUrlFinding(ctx, manifest, p.name, `${p.name} ${p.version} from ${p.where}`, { purl, manifest }));
    if (p.kind === 'registry' && isInsecureRemoteUrl(p.where) && !insecure.has(p.where)) {
      insecure.add(p.where);
      findings.push(insecureIndexFinding(ctx, manifest, p.where, { purl, manifest }, `${p.name} ${p.version} from the registry ${p.where}`));
    }
    const pkg: LockPackage = {
      ecosystem: 'PyPI',
      name: p.name,
      version: p.version,
      purl,
      scope: scopes.get(p.key) ?? 'required',
      hashes: p.hashes,
      licenses: [],
      dependsOn: resolveRefs([...p.deps, ...p.optionalDeps]).filter(isComponent).map((d) => pypiPurl(d.name, d.version)),
    };
    if (p.resolved) pkg.resolved = p.resolved;
    packages.push(pkg);
  }

  const direct = resolveRefs(members.flatMap((m) => [...m.deps, ...m.optionalDeps, ...m.devDeps])).filter(isComponent);
  const rootDependsOn = [...new Set(direct.map((p) => pypiPurl(p.name, p.version)))];
  if (!root) notes.push(`${manifest}: no editable or virtual project package: no roots, scopes default to required`);
  if (members.length > 1) notes.push(`${manifest}: workspace of ${members.length} members: ${members.map((m) => m.name).join(', ')}`);
  const result: ParsedLockfile = { manifest, ecosystem: 'PyPI', rootDependsOn, packages: mergeByPurl(packages), findings, notes };
  if (root) result.root = root.version ? { name: root.name, version: root.version } : { name: root.name };
  if (!root && rootDependsOn.length === 0) result.rootDependsOn = result.packages.map((p) => p.purl);
  return result;
}

function lockedPackage(raw: unknown, where: string): Locked {
  if (!isRecord(raw)) throw new InvalidInputError(`${where}: expected a [[package]] table`);
  if (typeof raw.name !== 'string' || raw.name === '') throw new InvalidInputError(`${where}: missing "name"`);
  const name = pypiName(raw.name);
  // A dynamic-version workspace member may have no version.
  const version = typeof raw.version === 'string' ? raw.version : '';
  const source = isRecord(raw.source) ? raw.source : {};
  const hashes: PackageHash[] = [];
  const sdist = isRecord(raw.sdist) ? raw.sdist : undefined;
  addHashes(hashes, [typeof sdist?.hash === 'string' ? parseHash(sdist.hash) : undefined]);
  if (Array.isArray(raw.wheels)) addHashes(hashes, raw.wheels.map((w) => (isRecord(w) && typeof w.hash === 'string' ? parseHash(w.hash) : undefined)));
  const item: Locked = {
    key: `${name}@${version}@${JSON.stringify(source)}`,
    name,
    version,
    kind: 'registry',
    where: '',
    hashes,
    deps: depRefs(raw.dependencies),
    optionalDeps: isRecord(raw['optional-dependencies']) ? Object.values(raw['optional-dependencies']).flatMap(depRefs) : [],
    devDeps: isRecord(raw['dev-dependencies']) ? Object.values(raw['dev-dependencies']).flatMap(depRefs) : [],
  };
  const text = (k: string) => (typeof source[k] === 'string' ? (source[k] as string) : undefined);
  if (text('editable') !== undefined || text('virtual') !== undefined) {
    item.kind = 'member';
    item.where = (text('editable') ?? text('virtual'))!;
  } else if (text('path') !== undefined || text('directory') !== undefined) {
    item.kind = 'local';
    item.where = (text('path') ?? text('directory'))!;
  } else if (text('git') !== undefined || text('url') !== undefined) {
    item.kind = 'remote';
    item.where = (text('git') ?? text('url'))!;
    item.resolved = text('git') !== undefined ? `git+${item.where}` : item.where;
  } else {
    item.where = text('registry') ?? '';
    if (typeof sdist?.url === 'string') item.resolved = sdist.url;
  }
  if (item.kind !== 'member' && version === '') throw new InvalidInputError(`${where} (${raw.name}): missing "version"`);
  return item;
}

function depRefs(list: unknown): DepRef[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((d) => {
    if (!isRecord(d) || typeof d.name !== 'string') return [];
    const ref: DepRef = { name: pypiName(d.name) };
    if (typeof d.version === 'string') ref.version = d.version;
    return [ref];
  });
}
