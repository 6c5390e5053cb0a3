import { InvalidInputError } from '../../../core/errors.js';
import type { Finding } from '../../../core/findings.js';
import type { LockPackage, PackageHash, ParsedLockfile } from '../model.js';
import {
  addHashes,
  directUrlFinding,
  isRecord,
  mergeByPurl,
  parseHash,
  parseTomlText,
  readManifestText,
  scopesByReachability,
  type PythonParseContext,
  type Scope,
} from './common.js';
import { pypiName, pypiPurl } from './pep503.js';
import { readPyprojectBeside } from './pyproject.js';

interface Locked {
  key: string;
  name: string;
  version: string;
  /** Declared scope (category / groups), when the lock says. */
  scope?: Scope;
  hashes: PackageHash[];
  deps: string[];
  /** git/url: a component with a finding; directory/file: project code, not a component. */
  source?: { type: string; url: string };
  local: boolean;
}

/**
 * poetry.lock, every lock format: 1.x (category "main"/"dev", hashes in [metadata.files]),
 * 2.0 (files = [...] per package, no category) and 2.1 (poetry 2: groups = ["main", "dev"]).
 */
export async function parsePoetryLock(dir: string, manifest: string, ctx: PythonParseContext): Promise<ParsedLockfile> {
  const doc = parseTomlText(await readManifestText(dir, manifest), manifest);
  if (!isRecord(doc.metadata)) throw new InvalidInputError(`${manifest}: not a poetry.lock: no [metadata] table`);
  if (!Array.isArray(doc.package)) throw new InvalidInputError(`${manifest}: not a poetry.lock: no [[package]] entries`);
  const metadataFiles = isRecord(doc.metadata.files) ? doc.metadata.files : {};
  const legacyFiles = new Map(Object.entries(metadataFiles).map(([k, v]) => [pypiName(k), v]));

  const locked: Locked[] = doc.package.map((raw, i) => {
    const where = `${manifest}: package[${i}]`;
    if (!isRecord(raw)) throw new InvalidInputError(`${where}: expected a [[package]] table`);
    if (typeof raw.name !== 'string' || raw.name === '') throw new InvalidInputError(`${where}: missing "name"`);
    if (typeof raw.version !== 'string' || raw.version === '') throw new InvalidInputError(`${where} (${raw.name}): missing "version"`);
    const key = pypiName(raw.name);
    const hashes: PackageHash[] = [];
    addHashes(hashes, fileHashes(raw.files ?? legacyFiles.get(key)));
    const item: Locked = {
      key: `${key}@${raw.version}`,
      name: key,
      version: raw.version,
      hashes,
      deps: isRecord(raw.dependencies) ? Object.keys(raw.dependencies).map(pypiName) : [],
      local: false,
    };
    const declared = declaredScope(raw);
    if (declared) item.scope = declared;
    if (isRecord(raw.source) && typeof raw.source.type === 'string') {
      const type = raw.source.type;
      const url = typeof raw.source.url === 'string' ? raw.source.url : '';
      if (type === 'git' || type === 'url' || type === 'directory' || type === 'file') {
        const ref = typeof raw.source.resolved_reference === 'string' ? `@${raw.source.resolved_reference}` : '';
        // git: pip's VCS URL form, so that the recorded source can be installed as written.
        item.source = { type, url: type === 'git' ? `git+${url}${ref}` : url };
        item.local = type === 'directory' || type === 'file';
      }
    }
    return item;
  });

  const byName = new Map<string, Locked[]>();
  for (const p of locked) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  // Edges by name: a dependency locked in several versions (per-marker forks) links to each; one
  // the lock leaves out (an unrequested extra, a marker that never matches) is skipped.
  const resolveNames = (names: readonly string[]) => names.flatMap((n) => byName.get(n) ?? []);

  const notes: string[] = [];
  const findings: Finding[] = [];
  const project = await readPyprojectBeside(dir, manifest);
  let scopes = new Map<string, Scope>();
  if (locked.some((p) => p.scope === undefined)) {
    if (project) {
      const edges = new Map(locked.map((p) => [p.key, resolveNames(p.deps).map((d) => d.key)]));
      const keys = (names: string[]) => resolveNames(names).map((p) => p.key);
      scopes = scopesByReachability(edges, { required: keys(project.required), optional: keys(project.optional), dev: keys(project.dev) });
    } else {
      notes.push(`${manifest}: the lock records no category or groups and there is no pyproject.toml beside it: scopes default to required`);
    }
  }

  const component = (p: Locked) => !p.local;
  const packages: LockPackage[] = [];
  for (const p of locked) {
    if (p.local) {
      notes.push(`${manifest}: ${p.name} ${p.version} from the local ${p.source!.type} ${p.source!.url} not listed (project code)`);
      continue;
    }
    const purl = pypiPurl(p.name, p.version);
    if (p.source) findings.push(directUrlFinding(ctx, manifest, p.name, `${p.name} ${p.version} from ${p.source.type} ${p.source.url}`, { purl, manifest }));
    const pkg: LockPackage = {
      ecosystem: 'PyPI',
      name: p.name,
      version: p.version,
      purl,
      scope: p.scope ?? scopes.get(p.key) ?? 'required',
      hashes: p.hashes,
      licenses: [],
      dependsOn: resolveNames(p.deps).filter(component).map((d) => pypiPurl(d.name, d.version)),
    };
    if (p.source) pkg.resolved = p.source.url;
    packages.push(pkg);
  }

  let rootDependsOn: string[];
  if (project) {
    const direct = resolveNames([...project.required, ...project.optional, ...project.dev]).filter(component);
    rootDependsOn = [...new Set(direct.map((p) => pypiPurl(p.name, p.version)))];
  } else {
    rootDependsOn = packages.map((p) => p.purl);
    notes.push(`${manifest}: no pyproject.toml beside it: every locked package is listed as a direct dependency`);
  }
  const result: ParsedLockfile = { manifest, ecosystem: 'PyPI', rootDependsOn, packages: mergeByPurl(packages), findings, notes };
  if (project?.name) {
    const name = pypiName(project.name);
    result.root = project.version ? { name, version: project.version } : { name };
  }
  return result;
}

function declaredScope(raw: Record<string, unknown>): Scope | undefined {
  const optional = raw.optional === true;
  if (Array.isArray(raw.groups)) {
    if (raw.groups.includes('main')) return optional ? 'optional' : 'required';
    return raw.groups.length > 0 ? 'dev' : undefined;
  }
  if (raw.category === 'dev') return 'dev';
  if (raw.category === 'main') return optional ? 'optional' : 'required';
  return undefined;
}

/** files = [{file, hash = "sha256:..."}]. */
function fileHashes(files: unknown): (PackageHash | undefined)[] {
  if (!Array.isArray(files)) return [];
  return files.map((f) => (isRecord(f) && typeof f.hash === 'string' ? parseHash(f.hash) : undefined));
}
