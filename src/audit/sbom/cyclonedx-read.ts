import { readFile } from 'node:fs/promises';
import { PackageURL } from 'packageurl-js';
import { InvalidInputError, messageOf } from '../../core/errors.js';
import { fileSystemError, isErrnoError } from '../../core/fs-errors.js';
import type { PackageRef, SbomResult } from '../types.js';
import { MANIFEST_PROPERTY, NPM_DEVELOPMENT_PROPERTY } from './cyclonedx-names.js';
import { cyclonedxValidator, type CycloneDxSpec } from './cyclonedx-validate.js';
import { npmPurl } from './npm-lock.js';
import { pypiName, pypiPurl } from './python/pep503.js';

/**
 * `audit --vulns --sbom FILE`: an existing CycloneDX JSON SBOM (any tool's) -> the packages
 * vulnerability matching can use. The file is validated with the library's JSON validator first;
 * components are read recursively (nested components count); npm and PyPI purls are kept, other
 * ecosystems are counted and said to be not matched.
 */

const SPECS: readonly CycloneDxSpec[] = ['1.2', '1.3', '1.4', '1.5', '1.6', '1.7'];

interface CdxComponent {
  purl?: unknown;
  scope?: unknown;
  properties?: unknown;
  components?: unknown;
}

export async function readSbomFile(path: string): Promise<SbomResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrnoError(err) && err.code === 'ENOENT') throw new InvalidInputError(`cannot read SBOM ${path}: no such file`, { cause: err });
    throw fileSystemError(err, 'read SBOM', path);
  }
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as Record<string, unknown>;
  } catch (err) {
    throw new InvalidInputError(`SBOM ${path} is not valid JSON: ${messageOf(err)}`, { cause: err });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || doc['bomFormat'] !== 'CycloneDX') {
    throw new InvalidInputError(`${path} is not a CycloneDX JSON SBOM: $.bomFormat: expected "CycloneDX"`, { hint: 'pass an SBOM in CycloneDX JSON (e.g. one govctl audit --sbom wrote)' });
  }
  const specVersion = doc['specVersion'];
  if (typeof specVersion !== 'string' || !SPECS.includes(specVersion as CycloneDxSpec)) {
    throw new InvalidInputError(`${path}: $.specVersion: expected one of ${SPECS.join(', ')}, got ${JSON.stringify(specVersion)}`);
  }
  const validator = await cyclonedxValidator(specVersion as CycloneDxSpec);
  const problem = await validator.validate(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  if (problem !== undefined) throw new InvalidInputError(`${path} is not valid CycloneDX ${specVersion}: ${problem}`);

  const byPurl = new Map<string, PackageRef>();
  const other = new Map<string, number>();
  let withoutPurl = 0;
  let unversioned = 0;
  let badPurl = 0;
  const visit = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const c of list as CdxComponent[]) {
      visit(c.components);
      if (typeof c.purl !== 'string') {
        withoutPurl += 1;
        continue;
      }
      let purl: PackageURL;
      try {
        purl = PackageURL.fromString(c.purl);
      } catch {
        badPurl += 1;
        continue;
      }
      if (purl.type !== 'npm' && purl.type !== 'pypi') {
        other.set(purl.type, (other.get(purl.type) ?? 0) + 1);
        continue;
      }
      if (!purl.version) {
        unversioned += 1;
        continue;
      }
      const ref = toRef(purl, c, path);
      const seen = byPurl.get(ref.purl);
      if (!seen) byPurl.set(ref.purl, ref);
      else for (const m of ref.manifests) if (!seen.manifests.includes(m)) seen.manifests.push(m);
    }
  };
  visit(doc['components']);

  const components = [...byPurl.values()].sort((a, b) => (a.purl < b.purl ? -1 : a.purl > b.purl ? 1 : 0));
  for (const c of components) c.manifests.sort();
  const byEcosystem: Record<string, number> = {};
  for (const c of components) byEcosystem[c.ecosystem] = (byEcosystem[c.ecosystem] ?? 0) + 1;
  const notes: string[] = [];
  if (other.size > 0) {
    const counts = [...other].sort(([a], [b]) => (a < b ? -1 : 1)).map(([type, n]) => `${type}: ${n}`);
    notes.push(`${[...other.values()].reduce((a, b) => a + b, 0)} component(s) of other ecosystems not matched (${counts.join(', ')})`);
  }
  if (withoutPurl > 0) notes.push(`${withoutPurl} component(s) without a purl not matched`);
  if (unversioned > 0) notes.push(`${unversioned} npm/PyPI component(s) without a version in their purl not matched`);
  if (badPurl > 0) notes.push(`${badPurl} component(s) with an unparseable purl not matched`);
  return {
    spec: specVersion,
    manifests: [path],
    components,
    findings: [],
    summary: { components: components.length, by_ecosystem: byEcosystem, dependencies: countEdges(doc['dependencies']), manifests: [path], notes },
  };
}

/** The same identity a built SBOM gives: purl without qualifiers or subpath, PyPI names normalised. */
function toRef(purl: PackageURL, component: CdxComponent, path: string): PackageRef {
  const version = purl.version!;
  const manifests = manifestsOf(component.properties);
  const scope = scopeOf(component);
  if (purl.type === 'npm') {
    const name = purl.namespace ? `${purl.namespace}/${purl.name}` : purl.name;
    return { purl: npmPurl(name, version), ecosystem: 'npm', name, version, manifests: manifests.length > 0 ? manifests : [path], scope };
  }
  const name = pypiName(purl.name);
  return { purl: pypiPurl(name, version), ecosystem: 'PyPI', name, version, manifests: manifests.length > 0 ? manifests : [path], scope };
}

function scopeOf(component: CdxComponent): PackageRef['scope'] {
  if (component.scope === 'excluded') return 'dev';
  if (Array.isArray(component.properties) && component.properties.some((p: { name?: unknown; value?: unknown }) => p?.name === NPM_DEVELOPMENT_PROPERTY && p.value === 'true')) return 'dev';
  return component.scope === 'optional' ? 'optional' : 'required';
}

function manifestsOf(properties: unknown): string[] {
  if (!Array.isArray(properties)) return [];
  const found: string[] = [];
  for (const p of properties as { name?: unknown; value?: unknown }[]) {
    if (p?.name === MANIFEST_PROPERTY && typeof p.value === 'string' && !found.includes(p.value)) found.push(p.value);
  }
  return found;
}

function countEdges(dependencies: unknown): number {
  if (!Array.isArray(dependencies)) return 0;
  let edges = 0;
  for (const d of dependencies as { dependsOn?: unknown }[]) if (Array.isArray(d?.dependsOn)) edges += d.dependsOn.length;
  return edges;
}
