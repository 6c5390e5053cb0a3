import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, GovctlError } from '../../../src/core/errors.js';
import { govctlVersion } from '../../../src/core/version.js';
import { buildBomJson, type BomOptions } from '../../../src/audit/sbom/cyclonedx.js';
import { cyclonedxValidator } from '../../../src/audit/sbom/cyclonedx-validate.js';
import type { LockPackage, ParsedLockfile } from '../../../src/audit/sbom/model.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Hand-made parser output: the builder's contract with npm-lock.ts and python/. */

const SHA512 = 'ab'.repeat(64);
const SHA256_A = 'cd'.repeat(32);
const SHA256_B = 'ef'.repeat(32);

function pkg(p: Partial<LockPackage> & Pick<LockPackage, 'name' | 'version' | 'purl'>): LockPackage {
  return { ecosystem: 'npm', scope: 'required', hashes: [], licenses: [], dependsOn: [], ...p };
}

const SCOPED = pkg({
  name: '@acme/widget',
  version: '1.2.3',
  purl: 'pkg:npm/%40acme/widget@1.2.3',
  hashes: [{ alg: 'SHA-512', content: SHA512 }],
  licenses: ['MIT'],
  dependsOn: ['pkg:npm/left-pad@1.3.0'],
  installPaths: ['node_modules/@acme/widget'],
  resolved: 'https://user:s3cret@registry.example.test/@acme/widget/-/widget-1.2.3.tgz',
});
const LEFT_PAD = pkg({ name: 'left-pad', version: '1.3.0', purl: 'pkg:npm/left-pad@1.3.0', scope: 'dev', licenses: ['(MIT OR Apache-2.0)'], installPaths: ['node_modules/left-pad'] });
const FSEVENTS = pkg({ name: 'fsevents', version: '2.3.3', purl: 'pkg:npm/fsevents@2.3.3', scope: 'optional', licenses: ['Some Custom License'] });
const REQUESTS = pkg({
  ecosystem: 'PyPI',
  name: 'requests',
  version: '2.31.0',
  purl: 'pkg:pypi/requests@2.31.0',
  hashes: [
    { alg: 'SHA-256', content: SHA256_A },
    { alg: 'SHA-256', content: SHA256_B },
  ],
  licenses: ['Apache-2.0'],
  dependsOn: ['pkg:pypi/urllib3@2.2.1'],
});
const URLLIB3 = pkg({ ecosystem: 'PyPI', name: 'urllib3', version: '2.2.1', purl: 'pkg:pypi/urllib3@2.2.1', hashes: [{ alg: 'SHA-256', content: SHA256_A }] });

function npmLock(packages: LockPackage[] = [SCOPED, LEFT_PAD, FSEVENTS]): ParsedLockfile {
  return {
    manifest: 'package-lock.json',
    ecosystem: 'npm',
    root: { name: 'demo', version: '0.1.0' },
    rootDependsOn: ['pkg:npm/%40acme/widget@1.2.3', 'pkg:npm/left-pad@1.3.0', 'pkg:npm/fsevents@2.3.3'],
    packages,
    findings: [],
    notes: [],
  };
}

function pyLock(manifest: string, packages: LockPackage[] = [REQUESTS, URLLIB3]): ParsedLockfile {
  return { manifest, ecosystem: 'PyPI', rootDependsOn: ['pkg:pypi/requests@2.31.0'], packages, findings: [], notes: [] };
}

// The library's own validator (running from src/, buildBomJson uses the same instance: one compile).
const libraryValidate = async (spec: '1.5' | '1.6', json: string) => (await cyclonedxValidator(spec, { precompiledDir: null })).validate(json);

const OPTIONS: BomOptions = { spec: '1.6', reproducible: true, projectName: 'demo', projectVersion: '0.1.0' };

interface Bom {
  specVersion: string;
  serialNumber?: string;
  metadata: { timestamp?: string; tools: { components: { name: string; version: string }[] }; component: { name: string; version?: string; 'bom-ref': string } };
  components: {
    name: string;
    group?: string;
    version: string;
    purl: string;
    'bom-ref': string;
    scope?: string;
    hashes?: { alg: string; content: string }[];
    licenses?: ({ license: { id?: string; name?: string; acknowledgement?: string } } | { expression: string })[];
    properties?: { name: string; value: string }[];
    externalReferences?: { url: string; type: string }[];
  }[];
  dependencies: { ref: string; dependsOn?: string[] }[];
}

async function build(lockfiles: ParsedLockfile[], options: Partial<BomOptions> = {}): Promise<{ json: string; bom: Bom }> {
  const json = await buildBomJson(lockfiles, { ...OPTIONS, ...options });
  return { json, bom: JSON.parse(json) as Bom };
}

const component = (bom: Bom, purl: string) => bom.components.find((c) => c.purl === purl)!;
const props = (bom: Bom, purl: string, name: string) => (component(bom, purl).properties ?? []).filter((p) => p.name === name).map((p) => p.value);

describe('buildBomJson', () => {
  it('builds a CycloneDX 1.6 document the library validator accepts', async () => {
    const { json, bom } = await build([npmLock(), pyLock('requirements.txt')]);
    expect(await libraryValidate('1.6', json)).toBeUndefined();
    expect(bom.specVersion).toBe('1.6');
    expect(bom.metadata.component).toMatchObject({ name: 'demo', version: '0.1.0', 'bom-ref': 'demo@0.1.0' });
    expect(bom.metadata.tools.components).toEqual([expect.objectContaining({ name: 'govctl', version: govctlVersion() })]);
    expect(bom.components.map((c) => c['bom-ref']).sort()).toEqual(bom.components.map((c) => c.purl).sort());
  });

  it('names scoped npm packages with a group, and records hashes, licenses, paths and the download URL', async () => {
    const { bom } = await build([npmLock()]);
    const widget = component(bom, SCOPED.purl);
    expect(widget).toMatchObject({ group: '@acme', name: 'widget', version: '1.2.3', scope: 'required' });
    expect(widget.hashes).toEqual([{ alg: 'SHA-512', content: SHA512 }]);
    expect(widget.licenses).toEqual([{ license: { id: 'MIT', acknowledgement: 'declared' } }]);
    expect(props(bom, SCOPED.purl, 'cdx:npm:package:path')).toEqual(['node_modules/@acme/widget']);
    // Credentials in a resolved URL never reach the SBOM.
    expect(widget.externalReferences).toEqual([expect.objectContaining({ type: 'distribution', url: 'https://registry.example.test/@acme/widget/-/widget-1.2.3.tgz' })]);
    expect(component(bom, LEFT_PAD.purl).licenses).toEqual([{ expression: '(MIT OR Apache-2.0)', acknowledgement: 'declared' }]);
    expect(component(bom, FSEVENTS.purl).licenses).toEqual([{ license: { name: 'Some Custom License', acknowledgement: 'declared' } }]);
  });

  it('marks dev packages excluded with the cyclonedx-npm development property, optional ones optional', async () => {
    const { bom } = await build([npmLock()]);
    expect(component(bom, LEFT_PAD.purl).scope).toBe('excluded');
    expect(props(bom, LEFT_PAD.purl, 'cdx:npm:package:development')).toEqual(['true']);
    expect(component(bom, FSEVENTS.purl).scope).toBe('optional');
    expect(props(bom, SCOPED.purl, 'cdx:npm:package:development')).toEqual([]);
  });

  it('keeps several hashes of one algorithm (Python files) as properties, not as the component hash', async () => {
    const { bom } = await build([pyLock('requirements.txt')]);
    expect(component(bom, REQUESTS.purl).hashes).toBeUndefined();
    expect(props(bom, REQUESTS.purl, 'govctl:file-hash').sort()).toEqual([`SHA-256:${SHA256_A}`, `SHA-256:${SHA256_B}`]);
    expect(component(bom, URLLIB3.purl).hashes).toEqual([{ alg: 'SHA-256', content: SHA256_A }]);
  });

  it('merges a package named by several lockfiles into one component listing every manifest', async () => {
    const devUrllib3 = { ...URLLIB3, scope: 'dev' as const, hashes: [] };
    const { bom } = await build([pyLock('requirements.txt'), pyLock('poetry.lock', [devUrllib3])]);
    expect(bom.components.filter((c) => c.purl === URLLIB3.purl)).toHaveLength(1);
    expect(props(bom, URLLIB3.purl, 'govctl:manifest')).toEqual(['poetry.lock', 'requirements.txt']);
    // Required somewhere wins over dev elsewhere.
    expect(component(bom, URLLIB3.purl).scope).toBe('required');
  });

  it('writes the full dependency graph: project -> direct dependencies, each component -> its own', async () => {
    const { bom } = await build([npmLock(), pyLock('requirements.txt')]);
    const deps = new Map(bom.dependencies.map((d) => [d.ref, d.dependsOn ?? []]));
    expect(deps.get('demo@0.1.0')!.sort()).toEqual([...npmLock().rootDependsOn, 'pkg:pypi/requests@2.31.0'].sort());
    expect(deps.get(SCOPED.purl)).toEqual(['pkg:npm/left-pad@1.3.0']);
    expect(deps.get(REQUESTS.purl)).toEqual(['pkg:pypi/urllib3@2.2.1']);
    expect(deps.get(URLLIB3.purl)).toEqual([]);
    expect(deps.size).toBe(1 + bom.components.length);
  });

  it('is reproducible: no timestamp or serial number, and the same bytes whatever the input order', async () => {
    const a = await build([npmLock(), pyLock('requirements.txt')]);
    const b = await build([pyLock('requirements.txt', [URLLIB3, REQUESTS]), npmLock([FSEVENTS, LEFT_PAD, SCOPED])]);
    expect(b.json).toBe(a.json);
    expect(a.bom.serialNumber).toBeUndefined();
    expect(a.bom.metadata.timestamp).toBeUndefined();
    const refs = a.bom.components.map((c) => c['bom-ref']);
    expect(refs).toEqual([...refs].sort((x, y) => x.localeCompare(y)));
  });

  it('stamps a timestamp and a urn:uuid serial number when not reproducible', async () => {
    const now = new Date('2026-01-02T03:04:05.000Z');
    const { bom } = await build([npmLock()], { reproducible: false, now });
    expect(bom.metadata.timestamp).toBe('2026-01-02T03:04:05.000Z');
    expect(bom.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const again = await build([npmLock()], { reproducible: false, now });
    expect(again.bom.serialNumber).not.toBe(bom.serialNumber);
  });

  it('builds CycloneDX 1.5 too (no license acknowledgement there)', async () => {
    const { json, bom } = await build([npmLock()], { spec: '1.5' });
    expect(bom.specVersion).toBe('1.5');
    expect(await libraryValidate('1.5', json)).toBeUndefined();
    expect(component(bom, SCOPED.purl).licenses).toEqual([{ license: { id: 'MIT' } }]);
  });

  it('treats a BOM that does not validate as a govctl bug: exit 70 with the validation error', async () => {
    // The library's normaliser drops what it knows to be invalid (a non-hex hash); the schema's
    // 1,024-character limit on versions is left to the validator.
    const broken = { ...SCOPED, version: '1'.repeat(1025) };
    const err = await buildBomJson([npmLock([broken, LEFT_PAD, FSEVENTS])], OPTIONS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GovctlError);
    expect((err as GovctlError).exitCode).toBe(ExitCode.internal);
    expect((err as GovctlError).message).toMatch(/does not validate.*\$\.components\[\d+\]\.version: must NOT have more than 1024 characters/);
  });

  it('builds an empty SBOM for a lockfile without packages', async () => {
    const { json, bom } = await build([{ ...npmLock([]), rootDependsOn: [] }], { projectVersion: undefined });
    expect(bom.components).toEqual([]);
    expect(bom.metadata.component['bom-ref']).toBe('demo');
    expect(await libraryValidate('1.6', json)).toBeUndefined();
  });
});

describe('the precompiled validator (scripts/build-cyclonedx-validators.mjs)', () => {
  // Generated where the modules can resolve ajv and its formats, as in dist/.
  const dir = join(REPO, 'node_modules', '.cache', 'govctl-test', `cdx-validators-${process.pid}-${Date.now()}`);
  const fallbackDir = mkdtempSync(join(tmpdir(), 'govctl-cdx-'));

  beforeAll(async () => {
    await execa(process.execPath, [join(REPO, 'scripts', 'build-cyclonedx-validators.mjs'), dir], { cwd: REPO });
  }, 120_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(fallbackDir, { recursive: true, force: true });
  });

  it('gives the library validator\'s verdict and errors on valid and broken BOMs', async () => {
    const precompiled = await cyclonedxValidator('1.6', { precompiledDir: dir });
    const library = await cyclonedxValidator('1.6', { precompiledDir: null });
    expect([precompiled.kind, library.kind]).toEqual(['precompiled', 'library']);
    const { bom } = await build([npmLock(), pyLock('requirements.txt')]);
    const variants: Record<string, (b: Bom) => void> = {
      valid: () => {},
      'duplicate component': (b) => b.components.push(structuredClone(b.components[1]!)),
      'duplicate dependency': (b) => b.dependencies.push(structuredClone(b.dependencies[2]!)),
      'bad scope': (b) => (b.components[0]!.scope = 'sometimes'),
      'long version': (b) => (b.components[2]!.version = '9'.repeat(1025)),
      'unknown SPDX id': (b) => (b.components[0]!.licenses = [{ license: { id: 'NOT-A-LICENSE' } }]),
      'missing name': (b) => delete (b.components[3] as Partial<Bom['components'][number]>).name,
      'unknown field': (b) => Object.assign(b.components[0]!, { colour: 'blue' }),
      'bad hash': (b) => (b.components.find((c) => c.hashes)!.hashes![0]!.content = 'xyz'),
    };
    for (const [name, mutate] of Object.entries(variants)) {
      const doc = structuredClone(bom);
      mutate(doc);
      const json = JSON.stringify(doc);
      const expected = await library.validate(json);
      expect(await precompiled.validate(json), name).toBe(expected);
      expect(expected === undefined, name).toBe(name === 'valid');
    }
  });

  it('replaces ajv\'s deep equality with one that agrees with it on JSON values', () => {
    const require = createRequire(import.meta.url);
    const jsonEqual = require(join(dir, 'json-equal.cjs')) as (a: unknown, b: unknown) => boolean;
    const ajvEqual = (require('ajv/dist/runtime/equal') as { default: (a: unknown, b: unknown) => boolean }).default;
    // Small alphabets so that equal and nearly equal pairs are common; every pair is checked both ways.
    let seed = 20261202;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    const value = (depth: number): unknown => {
      const kind = rand(depth > 2 ? 5 : 7);
      if (kind === 0) return null;
      if (kind === 1) return rand(2) === 0;
      if (kind === 2) return rand(3);
      if (kind === 3) return ['a', 'b', ''][rand(3)];
      if (kind === 4) return rand(2) === 0 ? 0.5 : '0';
      if (kind === 5) return Array.from({ length: rand(3) }, () => value(depth + 1));
      const o: Record<string, unknown> = {};
      // defineProperty: "__proto__" as an own key, as JSON.parse makes it.
      for (let i = rand(4); i > 0; i--) Object.defineProperty(o, ['x', 'y', 'z', '__proto__'][rand(4)]!, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
      return o;
    };
    let equalPairs = 0;
    for (let i = 0; i < 5000; i++) {
      const a = JSON.parse(JSON.stringify(value(0))) as unknown;
      // A copy with keys in reverse order, a mutated copy, or an unrelated value.
      const b = JSON.parse(i % 3 === 0 ? JSON.stringify(a, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v)) : JSON.stringify(i % 3 === 1 ? value(0) : a).replace('"a"', '"b"')) as unknown;
      expect(jsonEqual(a, b), JSON.stringify([a, b])).toBe(ajvEqual(a, b));
      expect(jsonEqual(b, a)).toBe(ajvEqual(b, a));
      if (ajvEqual(a, b)) equalPairs += 1;
    }
    expect(equalPairs).toBeGreaterThan(1000);
  });

  it('is not used when built from another library version, nor when turned off', async () => {
    writeFileSync(join(fallbackDir, 'bom-1.6.cjs'), 'module.exports = () => true; module.exports.libraryVersion = "0.0.0";\n');
    expect((await cyclonedxValidator('1.6', { precompiledDir: fallbackDir })).kind).toBe('library');
    expect((await cyclonedxValidator('1.6', { precompiledDir: null })).kind).toBe('library');
  });
});
