import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ExitCode, GovctlError } from '../../core/errors.js';
import { govctlVersion } from '../../core/version.js';
import { mergeLockfiles, type MergedPackage } from './cyclonedx-merge.js';
import { FILE_HASH_PROPERTY, MANIFEST_PROPERTY, NPM_DEVELOPMENT_PROPERTY, NPM_PATH_PROPERTY } from './cyclonedx-names.js';
import { cyclonedxValidator } from './cyclonedx-validate.js';
import type { ParsedLockfile } from './model.js';

/**
 * Parsed lockfiles -> a CycloneDX JSON SBOM, built with @cyclonedx/cyclonedx-library and validated
 * with its JSON schema before it is returned. The library is imported here, lazily: only
 * `audit --sbom` pays for it.
 *
 * Conventions (as @cyclonedx/cyclonedx-npm where it has one): bom-ref = purl; npm "@scope/name"
 * is group "@scope" + name "name"; a dev-only package has scope "excluded" (CycloneDX: "not
 * included in the runtime") and, for npm, the property cdx:npm:package:development=true; install
 * paths are cdx:npm:package:path properties; the lockfiles naming a component are govctl:manifest
 * properties; the lockfile's `resolved` URL (credentials removed) is a distribution reference.
 */

export interface BomOptions {
  spec: '1.5' | '1.6';
  /** No timestamp, no serial number, every list sorted: the same input gives the same bytes. */
  reproducible: boolean;
  projectName: string;
  projectVersion?: string;
  /** The timestamp (not reproducible only); default now. */
  now?: Date;
}

const require = createRequire(import.meta.url);

type Library = Awaited<ReturnType<typeof loadLibrary>>;

async function loadLibrary() {
  const [Models, Enums, Spec, Serialize, License] = await Promise.all([
    import('@cyclonedx/cyclonedx-library/Models'),
    import('@cyclonedx/cyclonedx-library/Enums'),
    import('@cyclonedx/cyclonedx-library/Spec'),
    loadJsonSerialize(),
    import('@cyclonedx/cyclonedx-library/Contrib/License'),
  ]);
  // The library's suggested SPDX expression check (CommonJS, untyped): throws on a bad expression.
  const parseSpdx = require('spdx-expression-parse') as (expression: string) => unknown;
  return { Models, Enums, Spec, Serialize, licenses: new License.Factories.LicenseFactory((value) => void parseSpdx(value)) };
}

type SerializeModule = typeof import('@cyclonedx/cyclonedx-library/Serialize');

/**
 * The JSON half of the library's Serialize entry. The public entry also loads the XML serializer,
 * which loads xmlbuilder2 whenever that optional peer is installed (it is, beside cyclonedx-npm):
 * 60-90 ms for nothing. Same files, same module instances; the public entry when the layout differs.
 */
async function loadJsonSerialize(): Promise<SerializeModule> {
  try {
    const root = dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json'));
    return require(join(root, 'dist.node', 'serialize', 'index.common.js')) as SerializeModule;
  } catch {
    return import('@cyclonedx/cyclonedx-library/Serialize');
  }
}

export async function buildBomJson(lockfiles: ParsedLockfile[], options: BomOptions): Promise<string> {
  const [lib, validator] = await Promise.all([loadLibrary(), cyclonedxValidator(options.spec)]);
  const { Models, Enums, Spec, Serialize } = lib;
  const graph = mergeLockfiles(lockfiles);

  const bom = new Models.Bom();
  if (!options.reproducible) {
    bom.serialNumber = `urn:uuid:${randomUUID()}`;
    bom.metadata.timestamp = options.now ?? new Date();
  }
  bom.metadata.tools.components.add(
    new Models.Component(Enums.ComponentType.Application, 'govctl', { version: govctlVersion(), bomRef: 'govctl-tool' }),
  );
  const version = options.projectVersion;
  const project = new Models.Component(Enums.ComponentType.Application, options.projectName, {
    // A fixed ref (the library would draw a random one); no purl starts like a project name.
    bomRef: version ? `${options.projectName}@${version}` : options.projectName,
    ...(version ? { version } : {}),
  });
  bom.metadata.component = project;

  const components = new Map<string, InstanceType<Library['Models']['Component']>>();
  for (const pkg of graph.packages) {
    const component = makeComponent(lib, pkg);
    components.set(pkg.purl, component);
    bom.components.add(component);
  }
  for (const pkg of graph.packages) {
    const component = components.get(pkg.purl)!;
    for (const purl of pkg.dependsOn) component.dependencies.add(components.get(purl)!.bomRef);
  }
  for (const purl of graph.rootDependsOn) project.dependencies.add(components.get(purl)!.bomRef);

  const spec = options.spec === '1.5' ? Spec.Spec1dot5 : Spec.Spec1dot6;
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(spec));
  const json = serializer.serialize(bom, { sortLists: options.reproducible, space: 2 });

  const problem = await validator.validate(json);
  if (problem !== undefined) {
    throw new GovctlError(
      'GOVCTL_INTERNAL',
      ExitCode.internal,
      `the CycloneDX ${options.spec} SBOM govctl built does not validate (a govctl bug: please report it): ${problem}`,
    );
  }
  return json;
}

function makeComponent(lib: Library, pkg: MergedPackage) {
  const { Models, Enums } = lib;
  const npmScoped = pkg.ecosystem === 'npm' && pkg.name.startsWith('@') && pkg.name.includes('/');
  const slash = pkg.name.indexOf('/');
  const component = new Models.Component(Enums.ComponentType.Library, npmScoped ? pkg.name.slice(slash + 1) : pkg.name, {
    bomRef: pkg.purl,
    purl: pkg.purl,
    version: pkg.version,
    ...(npmScoped ? { group: pkg.name.slice(0, slash) } : {}),
  });
  if (pkg.scope === 'required') component.scope = Enums.ComponentScope.Required;
  else if (pkg.scope === 'optional') component.scope = Enums.ComponentScope.Optional;
  else component.scope = Enums.ComponentScope.Excluded;

  // The model holds one hash per algorithm; several of one algorithm are files, not the package.
  const perAlg = new Map<string, number>();
  for (const hash of pkg.hashes) perAlg.set(hash.alg, (perAlg.get(hash.alg) ?? 0) + 1);
  for (const hash of pkg.hashes) {
    const content = hash.content.toLowerCase();
    if (perAlg.get(hash.alg) === 1) component.hashes.set(hash.alg as Parameters<typeof component.hashes.set>[0], content);
    else component.properties.add(new Models.Property(FILE_HASH_PROPERTY, `${hash.alg}:${content}`));
  }
  for (const value of pkg.licenses) {
    const license = lib.licenses.makeFromString(value);
    // Licenses come from the package's own metadata: declared, not concluded (as cyclonedx-npm).
    license.acknowledgement = Enums.LicenseAcknowledgement.Declared;
    component.licenses.add(license);
  }
  for (const manifest of pkg.manifests) component.properties.add(new Models.Property(MANIFEST_PROPERTY, manifest));
  if (pkg.ecosystem === 'npm') {
    if (pkg.scope === 'dev') component.properties.add(new Models.Property(NPM_DEVELOPMENT_PROPERTY, 'true'));
    for (const path of pkg.installPaths ?? []) component.properties.add(new Models.Property(NPM_PATH_PROPERTY, path));
  }
  const url = pkg.resolved === undefined ? undefined : distributionUrl(pkg.resolved);
  if (url !== undefined) {
    component.externalReferences.add(
      new Models.ExternalReference(url, Enums.ExternalReferenceType.Distribution, { comment: 'as recorded in the lockfile' }),
    );
  }
  return component;
}

/** A download URL without credentials; local paths and non-URLs are not distributions. */
function distributionUrl(resolved: string): string | undefined {
  let url: URL;
  try {
    url = new URL(resolved);
  } catch {
    return undefined;
  }
  if (url.protocol === 'file:') return undefined;
  if (url.username !== '' || url.password !== '') {
    url.username = '';
    url.password = '';
  }
  return url.toString();
}
