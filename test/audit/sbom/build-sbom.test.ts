import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSbom, readSbomFile } from '../../../src/audit/sbom/build-sbom.js';
import { ExitCode, GovctlError, InvalidInputError } from '../../../src/core/errors.js';

const KEY = new Uint8Array(32).fill(7);
const SHA512 = Buffer.alloc(64, 1).toString('base64');

/** A small package-lock.json v3: a scoped runtime dependency with its own dependency, a dev one. */
const LOCK = {
  name: 'shop',
  version: '2.0.0',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': { name: 'shop', version: '2.0.0', dependencies: { '@acme/cart': '^1.0.0' }, devDependencies: { tap: '^1.0.0' } },
    'node_modules/@acme/cart': { version: '1.4.0', integrity: `sha512-${SHA512}`, license: 'MIT', dependencies: { ms: '^2.1.0' } },
    'node_modules/ms': { version: '2.1.3', integrity: `sha512-${SHA512}`, license: 'MIT' },
    'node_modules/tap': { version: '1.0.0', dev: true, license: 'ISC' },
  },
};

const REQUIREMENTS = 'requests==2.31.0\nflask>=2\n';

const dirs: string[] = [];
function project(files: Record<string, string>, name = 'proj'): string {
  const root = mkdtempSync(join(tmpdir(), 'govctl-sbom-'));
  dirs.push(root);
  const dir = join(root, name);
  mkdirSync(dir);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const build = (dir: string, reproducible = true) => buildSbom({ dir, spec: '1.6', reproducible, fingerprintKey: KEY });

describe('buildSbom', () => {
  it('reads the npm lockfile and the Python manifests of a directory into one SBOM', async () => {
    const dir = project({ 'package-lock.json': JSON.stringify(LOCK), 'requirements.txt': REQUIREMENTS });
    const events: string[] = [];
    const result = await buildSbom({ dir, spec: '1.6', reproducible: true, fingerprintKey: KEY, onEvent: (e) => events.push(e.type) });

    expect(result.manifests).toEqual(['package-lock.json', 'requirements.txt']);
    expect(result.components.map((c) => c.purl)).toEqual([
      'pkg:npm/%40acme/cart@1.4.0',
      'pkg:npm/ms@2.1.3',
      'pkg:npm/tap@1.0.0',
      'pkg:pypi/requests@2.31.0',
    ]);
    expect(result.components[0]).toEqual({ purl: 'pkg:npm/%40acme/cart@1.4.0', ecosystem: 'npm', name: '@acme/cart', version: '1.4.0', manifests: ['package-lock.json'], scope: 'required' });
    expect(result.components.find((c) => c.name === 'tap')?.scope).toBe('dev');
    expect(result.summary).toMatchObject({ components: 4, by_ecosystem: { npm: 3, PyPI: 1 }, manifests: result.manifests });
    // shop -> cart, shop -> tap, cart -> ms, project -> requests.
    expect(result.summary.dependencies).toBe(4);
    // The unpinned "flask>=2" is the requirements parser's finding, passed on.
    expect(result.findings.length).toBeGreaterThan(0);
    expect(result.findings.every((f) => f.category === 'dependency')).toBe(true);
    expect(events).toContain('progress');

    const bom = JSON.parse(result.bomJson!) as { metadata: { component: { name: string; version: string } }; components: { purl: string }[] };
    expect(bom.metadata.component).toMatchObject({ name: 'shop', version: '2.0.0' });
    expect(bom.components.map((c) => c.purl).sort()).toEqual(result.components.map((c) => c.purl));
  });

  it('gives identical bytes on two --reproducible runs', async () => {
    const dir = project({ 'package-lock.json': JSON.stringify(LOCK), 'requirements.txt': REQUIREMENTS });
    const [a, b] = [await build(dir), await build(dir)];
    expect(Buffer.from(b.bomJson!).equals(Buffer.from(a.bomJson!))).toBe(true);
    const stamped = await build(dir, false);
    expect(stamped.bomJson).not.toBe(a.bomJson);
    expect(JSON.parse(stamped.bomJson!)).toHaveProperty('serialNumber');
  });

  it('uses npm-shrinkwrap.json over package-lock.json, as npm does, and says so', async () => {
    const shrinkwrap = { ...LOCK, packages: { ...LOCK.packages, 'node_modules/ms': { ...LOCK.packages['node_modules/ms'], version: '2.1.2' } } };
    const dir = project({ 'package-lock.json': JSON.stringify(LOCK), 'npm-shrinkwrap.json': JSON.stringify(shrinkwrap) });
    const result = await build(dir);
    expect(result.manifests).toEqual(['npm-shrinkwrap.json']);
    expect(result.components.map((c) => c.purl)).toContain('pkg:npm/ms@2.1.2');
    expect(result.summary.notes.join('\n')).toMatch(/npm-shrinkwrap\.json used/);
  });

  it('names the project after the directory when no lockfile names it', async () => {
    const dir = project({ 'requirements.txt': 'requests==2.31.0\n' }, 'governance-server');
    const result = await build(dir);
    const bom = JSON.parse(result.bomJson!) as { metadata: { component: { name: string } } };
    expect(bom.metadata.component.name).toBe(basename(dir));
    expect(result.summary.by_ecosystem).toEqual({ PyPI: 1 });
  });

  it('refuses a directory without a lockfile, saying what it looked for and what to do', async () => {
    const dir = project({ 'README.md': '# nothing to see\n' });
    const err = await build(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).message).toBe(
      `no lockfile in ${dir}: looked for package-lock.json, npm-shrinkwrap.json, requirements*.txt, poetry.lock, Pipfile.lock, uv.lock`,
    );
    expect((err as InvalidInputError).hint).toBe('run npm install --package-lock-only, or pass --dir');
  });

  it('refuses a directory that does not exist', async () => {
    const dir = join(project({}), 'missing');
    const err = await build(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).message).toBe(`no such directory: ${dir}`);
  });

  it('passes a corrupt lockfile on as invalid input (exit 2), not as an internal error', async () => {
    const dir = project({ 'package-lock.json': '{"lockfileVersion": 3, "packages": ' });
    const err = await build(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GovctlError);
    expect((err as GovctlError).exitCode).toBe(ExitCode.usage);
    expect((err as GovctlError).message).toContain('package-lock.json');
  });

  it('stops when interrupted', async () => {
    const dir = project({ 'package-lock.json': JSON.stringify(LOCK) });
    const controller = new AbortController();
    controller.abort();
    const err = await buildSbom({ dir, spec: '1.6', reproducible: true, fingerprintKey: KEY, signal: controller.signal }).catch((e: unknown) => e);
    expect((err as GovctlError).exitCode).toBe(ExitCode.interrupted);
  });
});

describe('readSbomFile', () => {
  it('reads back the components of an SBOM govctl built', async () => {
    const dir = project({ 'package-lock.json': JSON.stringify(LOCK), 'requirements.txt': 'requests==2.31.0\n' });
    const built = await build(dir);
    const file = join(dir, 'sbom.cdx.json');
    writeFileSync(file, built.bomJson!);
    const read = await readSbomFile(file);
    expect(read.components).toEqual(built.components);
    expect(read.spec).toBe('1.6');
    expect(read.bomJson).toBeUndefined();
    expect(read.summary).toMatchObject({ components: 4, by_ecosystem: { npm: 3, PyPI: 1 }, dependencies: built.summary.dependencies, notes: [] });
  });

  it('reads nested components, normalises purls, and counts what it cannot match', async () => {
    const file = join(project({}), 'other-tool.cdx.json');
    const doc = {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      version: 1,
      components: [
        {
          type: 'library',
          name: 'outer',
          version: '1.0.0',
          purl: 'pkg:npm/outer@1.0.0?vcs_url=git%2Bhttps://example.test/outer.git',
          scope: 'optional',
          components: [{ type: 'library', name: 'inner', group: '@x', version: '2.0.0', purl: 'pkg:npm/%40x/inner@2.0.0', properties: [{ name: 'cdx:npm:package:development', value: 'true' }] }],
        },
        { type: 'library', name: 'Django_REST.framework', version: '3.15.1', purl: 'pkg:pypi/Django_REST.framework@3.15.1' },
        { type: 'library', name: 'commons-lang3', version: '3.14.0', purl: 'pkg:maven/org.apache.commons/commons-lang3@3.14.0' },
        { type: 'library', name: 'no-purl' },
      ],
    };
    writeFileSync(file, JSON.stringify(doc));
    const read = await readSbomFile(file);
    expect(read.components).toEqual([
      { purl: 'pkg:npm/%40x/inner@2.0.0', ecosystem: 'npm', name: '@x/inner', version: '2.0.0', manifests: [file], scope: 'dev' },
      { purl: 'pkg:npm/outer@1.0.0', ecosystem: 'npm', name: 'outer', version: '1.0.0', manifests: [file], scope: 'optional' },
      { purl: 'pkg:pypi/django-rest-framework@3.15.1', ecosystem: 'PyPI', name: 'django-rest-framework', version: '3.15.1', manifests: [file], scope: 'required' },
    ]);
    expect(read.spec).toBe('1.5');
    expect(read.summary.notes).toEqual(['1 component(s) of other ecosystems not matched (maven: 1)', '1 component(s) without a purl not matched']);
  });

  it('refuses an SBOM that does not validate, naming the file and the error', async () => {
    const file = join(project({}), 'bad.cdx.json');
    writeFileSync(file, JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [{ type: 'gadget', name: 'x' }] }));
    const err = await readSbomFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid CycloneDX 1\\.6: \\$\\.components\\[0\\]\\.type: must be equal to one of the allowed values`));
  });

  it('refuses a missing file, a file that is not JSON, and JSON that is not CycloneDX', async () => {
    const dir = project({ 'broken.json': '{"bomFormat": ', 'spdx.json': JSON.stringify({ spdxVersion: 'SPDX-2.3' }) });
    await expect(readSbomFile(join(dir, 'nope.json'))).rejects.toThrow(/^cannot read SBOM .*nope\.json: no such file$/);
    await expect(readSbomFile(join(dir, 'broken.json'))).rejects.toThrow(/^SBOM .*broken\.json is not valid JSON: /);
    await expect(readSbomFile(join(dir, 'spdx.json'))).rejects.toThrow(/spdx\.json is not a CycloneDX JSON SBOM: \$\.bomFormat: expected "CycloneDX"$/);
  });
});
