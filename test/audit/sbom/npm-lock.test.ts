import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { InterruptedError, InvalidInputError } from '../../../src/core/errors.js';
import type { LockPackage, ParsedLockfile } from '../../../src/audit/sbom/model.js';
import { npmPurl, parseNpmLockfile } from '../../../src/audit/sbom/npm-lock.js';
import { parentOf, resolveKey, workspaceMatcher } from '../../../src/audit/sbom/npm-tree.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/audit/npm');
const LOCK = 'package-lock.json';

const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'govctl-npm-lock-'));
  temps.push(dir);
  return dir;
}

/** Writes files (path -> JSON value or text) under a new temp dir. */
async function project(files: Record<string, unknown>): Promise<string> {
  const dir = await tempDir();
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

function pkg(parsed: ParsedLockfile, purl: string): LockPackage {
  const found = parsed.packages.find((p) => p.purl === purl);
  if (!found) throw new Error(`no ${purl} in ${parsed.packages.map((p) => p.purl).join(', ')}`);
  return found;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('npmPurl', () => {
  it('encodes scopes and leaves plain names alone', () => {
    expect(npmPurl('@babel/core', '7.0.0')).toBe('pkg:npm/%40babel/core@7.0.0');
    expect(npmPurl('ms', '2.1.3')).toBe('pkg:npm/ms@2.1.3');
    expect(npmPurl('a', '1.0.0-beta.1+build.5')).toBe('pkg:npm/a@1.0.0-beta.1+build.5');
    expect(npmPurl('no-version', '')).toBe('pkg:npm/no-version');
  });
});

describe('parseNpmLockfile: lockfileVersion 3 with workspaces', () => {
  it('lists every install, merges duplicates, resolves nested installs and aliases', async () => {
    const parsed = await parseNpmLockfile(join(FIXTURES, 'workspaces'), LOCK);
    expect(parsed.manifest).toBe(LOCK);
    expect(parsed.ecosystem).toBe('npm');
    expect(parsed.root).toEqual({ name: 'ws-root', version: '1.0.0' });
    expect(parsed.packages.map((p) => p.purl)).toEqual([
      'pkg:npm/%40types/ms@0.7.34',
      'pkg:npm/%40ws/a@0.1.0',
      'pkg:npm/b@0.2.0',
      'pkg:npm/debug@2.6.9',
      'pkg:npm/fsevents@2.3.3',
      'pkg:npm/is-number@6.0.0',
      'pkg:npm/is-number@7.0.0',
      'pkg:npm/is-odd@3.0.1',
      'pkg:npm/js-tokens@4.0.0',
      'pkg:npm/loose-envify@1.4.0',
      'pkg:npm/ms@2.0.0',
      'pkg:npm/ms@2.1.2',
      'pkg:npm/ms@2.1.3',
      'pkg:npm/react-dom@18.3.1',
      'pkg:npm/react@18.3.1',
      'pkg:npm/scheduler@0.23.2',
    ]);
    // One name@version installed at two paths is one package.
    expect(pkg(parsed, 'pkg:npm/ms@2.0.0').installPaths).toEqual(['node_modules/debug/node_modules/ms', 'packages/a/node_modules/ms']);
    // debug finds its own nested ms, not the hoisted 2.1.3.
    expect(pkg(parsed, 'pkg:npm/debug@2.6.9').dependsOn).toEqual(['pkg:npm/ms@2.0.0']);
    // is-odd (hoisted from the workspace's devDependencies) finds its nested is-number 6.
    expect(pkg(parsed, 'pkg:npm/is-odd@3.0.1').dependsOn).toEqual(['pkg:npm/is-number@6.0.0']);
    // An alias "my-ms": "npm:ms@2.1.2" is the package ms.
    expect(pkg(parsed, 'pkg:npm/ms@2.1.2')).toMatchObject({ name: 'ms', installPaths: ['node_modules/my-ms'] });
  });

  it('makes workspace folders packages of their own, with edges resolved from their folder', async () => {
    const parsed = await parseNpmLockfile(join(FIXTURES, 'workspaces'), LOCK);
    expect(pkg(parsed, 'pkg:npm/%40ws/a@0.1.0')).toMatchObject({
      name: '@ws/a',
      installPaths: ['packages/a'],
      licenses: ['Apache-2.0'],
      scope: 'required',
      // Its own nested ms 2.0.0 (not the root's 2.1.3), and its devDependency.
      dependsOn: ['pkg:npm/is-odd@3.0.1', 'pkg:npm/ms@2.0.0'],
    });
    // The lockfile omits `name` when it equals the folder: the link names it.
    expect(pkg(parsed, 'pkg:npm/b@0.2.0')).toMatchObject({ name: 'b', dependsOn: ['pkg:npm/%40ws/a@0.1.0', 'pkg:npm/react-dom@18.3.1'] });
    expect(parsed.rootDependsOn).toEqual([
      'pkg:npm/%40types/ms@0.7.34',
      'pkg:npm/%40ws/a@0.1.0',
      'pkg:npm/b@0.2.0',
      'pkg:npm/debug@2.6.9',
      'pkg:npm/fsevents@2.3.3',
      'pkg:npm/is-number@7.0.0',
      'pkg:npm/ms@2.1.2',
      'pkg:npm/ms@2.1.3',
      'pkg:npm/react@18.3.1',
    ]);
    expect(parsed.notes).toEqual(['node_modules not installed: licenses only from package-lock.json (1 of 16 packages have none there)']);
  });

  it('reads a workspace license from its package.json when the lockfile has none', async () => {
    const dir = await tempDir();
    await cp(join(FIXTURES, 'workspaces'), dir, { recursive: true });
    await writeFile(join(dir, 'packages/b/package.json'), JSON.stringify({ name: 'b', version: '0.2.0', license: 'BSD-2-Clause' }));
    const parsed = await parseNpmLockfile(dir, LOCK);
    expect(pkg(parsed, 'pkg:npm/b@0.2.0').licenses).toEqual(['BSD-2-Clause']);
    expect(parsed.notes).toEqual(['node_modules not installed: licenses only from package-lock.json']);
  });

  it('has the purl set and edges cyclonedx-npm finds in the same lockfile', async () => {
    const dir = await tempDir();
    await cp(join(FIXTURES, 'workspaces'), dir, { recursive: true });
    const out = join(dir, 'bom.json');
    await execa(join(ROOT, 'node_modules/.bin/cyclonedx-npm'), ['--package-lock-only', '--output-format', 'JSON', '--output-file', out], { cwd: dir });
    const bom = JSON.parse(await readFile(out, 'utf8')) as CdxBom;
    const { purls, edges } = cdxGraph(bom);
    const parsed = await parseNpmLockfile(dir, LOCK);
    expect(new Set(parsed.packages.map((p) => p.purl))).toEqual(purls);
    const mine = new Set([...parsed.rootDependsOn.map((to) => `ROOT -> ${to}`), ...parsed.packages.flatMap((p) => p.dependsOn.map((to) => `${p.purl} -> ${to}`))]);
    expect(mine).toEqual(edges);
  });
});

describe('node resolution over lockfile keys', () => {
  it('walks up through enclosing node_modules folders, and not out of a folder outside the project', () => {
    const keys = new Set(['node_modules/b', 'node_modules/a/node_modules/@s/c', 'packages/w/node_modules/d', '../lib/node_modules/e']);
    const has = (key: string): boolean => keys.has(key);
    expect(resolveKey('node_modules/a/node_modules/@s/c', 'b', has)).toBe('node_modules/b');
    expect(resolveKey('node_modules/a', '@s/c', has)).toBe('node_modules/a/node_modules/@s/c');
    expect(resolveKey('node_modules/b', '@s/c', has)).toBeUndefined();
    expect(resolveKey('packages/w', 'b', has)).toBe('node_modules/b');
    expect(resolveKey('packages/w/node_modules/x', 'd', has)).toBe('packages/w/node_modules/d');
    expect(resolveKey('../lib', 'e', has)).toBe('../lib/node_modules/e');
    expect(resolveKey('../lib', 'b', has)).toBeUndefined();
    expect(parentOf('node_modules/@s/a/node_modules/b')).toBe('node_modules/@s/a');
    expect(parentOf('packages/w')).toBe('packages');
    expect(parentOf('')).toBeUndefined();
  });

  it('matches workspace globs', () => {
    const match = workspaceMatcher(['packages/*', './apps/**', 'tools/cli/', '!packages/private']);
    expect(['packages/a', 'apps/web', 'apps/x/y', 'tools/cli'].every(match)).toBe(true);
    expect(['packages/a/b', 'packages/private', 'tools', 'node_modules/a'].some(match)).toBe(false);
    expect(workspaceMatcher({ packages: ['libs/*'] })('libs/a')).toBe(true);
    expect(workspaceMatcher(undefined)('packages/a')).toBe(false);
  });
});

describe('parseNpmLockfile: lockfileVersion 2', () => {
  it('reads the packages map and ignores the v1 dependencies section', async () => {
    const parsed = await parseNpmLockfile(join(FIXTURES, 'v2'), LOCK);
    expect(parsed.root).toEqual({ name: 'v2-app', version: '2.0.0' });
    expect(parsed.packages.map((p) => [p.purl, p.scope])).toEqual([
      ['pkg:npm/%40types/ms@0.7.34', 'dev'],
      ['pkg:npm/debug@2.6.9', 'required'],
      ['pkg:npm/ms@2.0.0', 'required'],
      ['pkg:npm/ms@2.1.3', 'required'],
    ]);
    expect(parsed.rootDependsOn).toEqual(['pkg:npm/%40types/ms@0.7.34', 'pkg:npm/debug@2.6.9', 'pkg:npm/ms@2.1.3']);
    expect(pkg(parsed, 'pkg:npm/debug@2.6.9').dependsOn).toEqual(['pkg:npm/ms@2.0.0']);
  });
});

describe('parseNpmLockfile: scope, hashes, licenses', () => {
  it('maps dev, optional, devOptional and peer flags to scopes', async () => {
    const parsed = await parseNpmLockfile(join(FIXTURES, 'flags'), LOCK);
    const scopes = Object.fromEntries(parsed.packages.map((p) => [p.name, p.scope]));
    expect(scopes).toEqual({
      '@babel/core': 'required',
      legacy: 'required',
      'opt-parent': 'required',
      'has-peer': 'required',
      'dev-tool': 'dev',
      // dev + optional: an optional dep of a dev dep, only in the dev tree.
      'dev-opt': 'dev',
      // devOptional: dev dep and optional dep of a production dep.
      shared: 'optional',
      fsevents: 'optional',
      // peer: only reachable through peerDependencies.
      'peer-host': 'optional',
    });
  });

  it('takes the widest scope of a package installed at several paths', async () => {
    const dir = await project({
      [LOCK]: {
        lockfileVersion: 3,
        packages: {
          '': { name: 'p', dependencies: { a: '1', b: '1' }, devDependencies: { d: '1' } },
          'node_modules/a': { version: '1.0.0', dependencies: { x: '1' } },
          'node_modules/a/node_modules/x': { version: '1.0.0' },
          'node_modules/d': { version: '1.0.0', dev: true, dependencies: { x: '1' } },
          'node_modules/d/node_modules/x': { version: '1.0.0', dev: true },
          'node_modules/x': { version: '2.0.0' },
          'node_modules/b': { version: '1.0.0' },
        },
      },
    });
    const parsed = await parseNpmLockfile(dir, LOCK);
    expect(pkg(parsed, 'pkg:npm/x@1.0.0')).toMatchObject({ scope: 'required', installPaths: ['node_modules/a/node_modules/x', 'node_modules/d/node_modules/x'] });
    expect(parsed.root).toEqual({ name: 'p' });
  });

  it('converts integrity to hex hashes, one per algorithm, and drops malformed ones', async () => {
    const parsed = await parseNpmLockfile(join(FIXTURES, 'flags'), LOCK);
    expect(pkg(parsed, 'pkg:npm/%40babel/core@7.0.0').hashes).toEqual([
      { alg: 'SHA-512', content: '02ef052036b6e1997f4dc9bdfd862a49ce5fb6387146bb50333b0bece5564c3678e1ee1a9392d8f03b9a1bfe0bdd32865bfa997ba263b1bff6f90cd8a07043e1' },
      { alg: 'SHA-1', content: 'cad160f3d4cd7c33896f42a479eeaa1b5bedc5fb' },
    ]);
    expect(pkg(parsed, 'pkg:npm/legacy@1.0.0').hashes).toEqual([{ alg: 'SHA-1', content: '9b33046ed39d182e3adafa9045ad6787d4bbc321' }]);
    expect(pkg(parsed, 'pkg:npm/dev-tool@1.0.0').hashes).toEqual([]);
    expect(pkg(parsed, 'pkg:npm/%40babel/core@7.0.0').resolved).toBe('https://registry.npmjs.org/@babel/core/-/core-7.0.0.tgz');
    expect(pkg(parsed, 'pkg:npm/legacy@1.0.0').licenses).toEqual(['(MIT OR Apache-2.0)']);
  });

  it('ignores missing optional deps and peers, and notes a missing required one', async () => {
    const parsed = await parseNpmLockfile(join(FIXTURES, 'flags'), LOCK);
    expect(parsed.rootDependsOn).toEqual([
      'pkg:npm/%40babel/core@7.0.0',
      'pkg:npm/dev-tool@1.0.0',
      'pkg:npm/fsevents@2.3.3',
      'pkg:npm/has-peer@1.0.0',
      'pkg:npm/opt-parent@1.0.0',
    ]);
    expect(pkg(parsed, 'pkg:npm/has-peer@1.0.0').dependsOn).toEqual(['pkg:npm/peer-host@1.2.0']);
    expect(pkg(parsed, 'pkg:npm/dev-tool@1.0.0').dependsOn).toEqual(['pkg:npm/dev-opt@1.0.0', 'pkg:npm/shared@1.0.0']);
    expect(parsed.notes).toContain(
      '1 dependency resolves to no package in package-lock.json (e.g. node_modules/has-peer -> ghost); run npm install to repair the lockfile',
    );
  });

  it('reads licenses the lockfile lacks from installed package.json files, never from another version', async () => {
    const dir = await project({
      [LOCK]: {
        lockfileVersion: 3,
        packages: {
          '': { name: 'p', version: '1.0.0', dependencies: { a: '1', b: '1', c: '1', d: '1', e: '1' }, optionalDependencies: { f: '1' } },
          'node_modules/a': { version: '1.0.0' },
          'node_modules/b': { version: '1.0.0' },
          'node_modules/c': { version: '1.0.0' },
          'node_modules/d': { version: '1.0.0', license: 'MIT' },
          'node_modules/e': { version: '2.0.0' },
          'node_modules/f': { version: '1.0.0', optional: true },
        },
      },
      'node_modules/a/package.json': { name: 'a', version: '1.0.0', license: 'Apache-2.0' },
      'node_modules/b/package.json': { name: 'b', version: '1.0.0', license: { type: 'BSD-3-Clause', url: 'https://example.test' } },
      'node_modules/c/package.json': { name: 'c', version: '1.0.0', licenses: [{ type: 'MIT' }, { type: 'GPL-2.0' }] },
      'node_modules/d/package.json': { name: 'd', version: '1.0.0', license: 'GPL-3.0' },
      'node_modules/e/package.json': { name: 'e', version: '1.9.0', license: 'WTFPL' },
    });
    const parsed = await parseNpmLockfile(dir, LOCK);
    const licenses = Object.fromEntries(parsed.packages.map((p) => [p.name, p.licenses]));
    expect(licenses).toEqual({ a: ['Apache-2.0'], b: ['BSD-3-Clause'], c: ['MIT', 'GPL-2.0'], d: ['MIT'], e: [], f: [] });
    expect(parsed.notes).toEqual([
      'node_modules is out of date with package-lock.json: 1 installed package.json file(s) have another version than it names (their licenses are not used); run npm install',
    ]);
  });
});

describe('parseNpmLockfile: extraneous, outside links, a large lockfile', () => {
  it('keeps extraneous packages, held by the package whose node_modules they are in (as npm ls shows them)', async () => {
    const dir = await project({
      [LOCK]: {
        lockfileVersion: 3,
        packages: {
          '': { name: 'p', dependencies: { a: '1' } },
          'node_modules/a': { version: '1.0.0' },
          'node_modules/a/node_modules/left': { version: '1.0.0', extraneous: true },
          'node_modules/stray': { version: '2.0.0', extraneous: true, dependencies: { a: '1' } },
        },
      },
    });
    const parsed = await parseNpmLockfile(dir, LOCK);
    expect(parsed.rootDependsOn).toEqual(['pkg:npm/a@1.0.0', 'pkg:npm/stray@2.0.0']);
    expect(pkg(parsed, 'pkg:npm/a@1.0.0').dependsOn).toEqual(['pkg:npm/left@1.0.0']);
    expect(pkg(parsed, 'pkg:npm/stray@2.0.0').dependsOn).toEqual(['pkg:npm/a@1.0.0']);
  });

  it('lists a `file:` folder outside the project and says its own dependencies are not locked', async () => {
    const dir = await project({
      'app/package-lock.json': {
        name: 'app',
        version: '1.0.0',
        lockfileVersion: 3,
        packages: {
          '': { name: 'app', version: '1.0.0', dependencies: { 'shared-lib': 'file:../lib' } },
          '../lib': { name: 'shared-lib', version: '3.0.0', dependencies: { ms: '2.1.1' }, devDependencies: { 'is-number': '7.0.0' } },
          'node_modules/shared-lib': { resolved: '../lib', link: true },
        },
      },
      'lib/package.json': { name: 'shared-lib', version: '3.0.0', license: 'ISC' },
    });
    const parsed = await parseNpmLockfile(join(dir, 'app'), LOCK);
    expect(parsed.rootDependsOn).toEqual(['pkg:npm/shared-lib@3.0.0']);
    expect(pkg(parsed, 'pkg:npm/shared-lib@3.0.0')).toMatchObject({ installPaths: ['../lib'], licenses: ['ISC'], dependsOn: [] });
    expect(parsed.notes).toContain(
      '1 package(s) linked from outside the project (e.g. ../lib): package-lock.json does not lock their own dependencies, so the SBOM does not list them',
    );
    expect(parsed.notes.join('\n')).not.toContain('resolves to no package');
  });

  it('reads a lockfile of more than 1,000 packages', async () => {
    const parsed = await parseNpmLockfile(join(FIXTURES, 'large'), LOCK);
    expect(parsed.packages.length).toBe(1452);
    expect(parsed.packages.filter((p) => p.scope === 'dev').length).toBeGreaterThan(1000);
    expect(parsed.packages.every((p) => p.hashes.length === 1 && p.hashes[0]!.content.length === 128)).toBe(true);
    expect(parsed.notes).toEqual(['node_modules not installed: licenses only from package-lock.json (2 of 1452 packages have none there)']);
  });
});

describe('parseNpmLockfile: bad input', () => {
  it('refuses a lockfileVersion 1 lockfile and says how to regenerate it', async () => {
    const err = await rejection(parseNpmLockfile(join(FIXTURES, 'v1'), LOCK));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).exitCode).toBe(2);
    expect(err.message).toContain('lockfileVersion 1');
    expect(err.message).toContain(join(FIXTURES, 'v1', LOCK));
    expect((err as InvalidInputError).hint).toContain('npm install --package-lock-only');
  });

  it('refuses corrupt JSON naming the file', async () => {
    const err = await rejection(parseNpmLockfile(join(FIXTURES, 'corrupt'), LOCK));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toMatch(new RegExp(`^${escape(join(FIXTURES, 'corrupt', LOCK))} is not valid JSON: `));
  });

  it('refuses JSON that is not a lockfile, naming the JSON path', async () => {
    const cases: Array<[unknown, string]> = [
      [[1, 2], 'is not an npm lockfile: expected a JSON object, got an array'],
      [{ name: 'x' }, 'is not an npm lockfile: lockfileVersion: expected an integer, got nothing'],
      [{ lockfileVersion: 3 }, 'is not an npm lockfile: packages: expected an object, got nothing'],
      [{ lockfileVersion: 3, packages: { 'node_modules/a': { version: 1 } } }, ': packages["node_modules/a"].version: expected a string, got number 1'],
      [{ lockfileVersion: 3, packages: { 'node_modules/a': { version: '1', dependencies: { b: 2 } } } }, ': packages["node_modules/a"].dependencies["b"]: expected a version range string, got number 2'],
      [{ lockfileVersion: 3, packages: { 'node_modules/a': { link: true } } }, ': packages["node_modules/a"].resolved: expected the path a link points to, got nothing'],
    ];
    for (const [json, message] of cases) {
      const dir = await project({ [LOCK]: json });
      const err = await rejection(parseNpmLockfile(dir, LOCK));
      expect(err, message).toBeInstanceOf(InvalidInputError);
      expect(err.message).toBe(`${join(dir, LOCK)}${message.startsWith(':') ? '' : ' '}${message}`);
    }
  });

  it('says plainly when there is no lockfile', async () => {
    const dir = await tempDir();
    const err = await rejection(parseNpmLockfile(dir, LOCK));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toBe(`no package-lock.json in ${dir}`);
  });

  it('honours an abort signal, before and during the read', async () => {
    const aborted = AbortSignal.abort();
    expect(await rejection(parseNpmLockfile(join(FIXTURES, 'v2'), LOCK, { signal: aborted }))).toBeInstanceOf(InterruptedError);
    const controller = new AbortController();
    const pending = parseNpmLockfile(join(FIXTURES, 'workspaces'), LOCK, { signal: controller.signal });
    controller.abort();
    expect(await rejection(pending)).toBeInstanceOf(InterruptedError);
  });
});

interface CdxComponent {
  'bom-ref': string;
  purl: string;
  components?: CdxComponent[];
}
interface CdxBom {
  metadata: { component: { 'bom-ref': string } };
  components: CdxComponent[];
  dependencies: Array<{ ref: string; dependsOn?: string[] }>;
}

/** purls (without qualifiers) of every component, nested ones too, and edges by purl. */
function cdxGraph(bom: CdxBom): { purls: Set<string>; edges: Set<string> } {
  const byRef = new Map<string, string>([[bom.metadata.component['bom-ref'], 'ROOT']]);
  const walk = (list: CdxComponent[] = []): void => {
    for (const c of list) {
      byRef.set(c['bom-ref'], c.purl.split('?')[0]!);
      walk(c.components);
    }
  };
  walk(bom.components);
  const edges = new Set<string>();
  for (const dep of bom.dependencies) for (const to of dep.dependsOn ?? []) edges.add(`${byRef.get(dep.ref)} -> ${byRef.get(to)}`);
  return { purls: new Set([...byRef.values()].filter((p) => p !== 'ROOT')), edges };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
