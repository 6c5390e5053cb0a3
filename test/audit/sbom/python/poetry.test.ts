import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../../src/core/errors.js';
import { fingerprintOf } from '../../../../src/core/findings.js';
import { findPythonManifests, parsePythonManifest } from '../../../../src/audit/sbom/python/index.js';
import { byName, fixture, KEY, parse } from './helpers.js';

const scopes = (parsed: Awaited<ReturnType<typeof parse>>) => Object.fromEntries(parsed.packages.map((p) => [p.name, p.scope]));

describe('poetry.lock', () => {
  let tmp: string | undefined;
  afterEach(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
    tmp = undefined;
  });

  it('lock format 1.1: category and optional give scope, [metadata.files] the hashes, [package.dependencies] the edges', async () => {
    expect(await findPythonManifests(fixture('poetry-1x'))).toEqual(['poetry.lock']);
    const parsed = await parse('poetry-1x', 'poetry.lock');
    expect(parsed.root).toEqual({ name: 'governance-server', version: '1.4.2' });
    expect(parsed.packages).toHaveLength(16);
    expect(scopes(parsed)).toMatchObject({
      fastapi: 'required',
      starlette: 'required',
      pyyaml: 'required',
      redis: 'optional',
      'async-timeout': 'optional',
      pytest: 'dev',
      pluggy: 'dev',
      exceptiongroup: 'dev',
    });
    const pkgs = byName(parsed);
    // "PyYAML" in the lock and "pyyaml" in [metadata.files]: one PEP 503 name.
    expect(pkgs.get('pyyaml@6.0')!.purl).toBe('pkg:pypi/pyyaml@6.0');
    expect(pkgs.get('pyyaml@6.0')!.hashes).toEqual([{ alg: 'SHA-256', content: '68fb519c14306fec9720a2a5b45bc9f0c8d1b9c72adf45c37baedfcd949c35a2' }]);
    expect(pkgs.get('anyio@3.6.2')!.hashes).toHaveLength(2);
    // typing_extensions as a dependency key resolves to the locked typing-extensions.
    expect(pkgs.get('pydantic@1.10.7')!.dependsOn).toEqual(['pkg:pypi/typing-extensions@4.5.0']);
    expect(pkgs.get('fastapi@0.95.0')!.dependsOn).toEqual(['pkg:pypi/pydantic@1.10.7', 'pkg:pypi/starlette@0.26.1']);
    // attrs and colorama are not in the lock (marker-only / not locked): skipped, not invented.
    expect(pkgs.get('pytest@7.2.2')!.dependsOn).toEqual([
      'pkg:pypi/exceptiongroup@1.1.0',
      'pkg:pypi/iniconfig@2.0.0',
      'pkg:pypi/packaging@23.0',
      'pkg:pypi/pluggy@1.0.0',
    ]);
    expect(parsed.rootDependsOn).toEqual([
      'pkg:pypi/fastapi@0.95.0',
      'pkg:pypi/pyyaml@6.0',
      'pkg:pypi/governance-sdk@0.3.1',
      'pkg:pypi/redis@4.5.4',
      'pkg:pypi/pytest@7.2.2',
    ]);
  });

  it('a git dependency is a component with a low "not pinned to an index release" finding', async () => {
    const parsed = await parse('poetry-1x', 'poetry.lock');
    const sdk = byName(parsed).get('governance-sdk@0.3.1')!;
    expect(sdk.resolved).toBe('git+https://github.com/example/governance-sdk.git@4f1c2d3e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d');
    expect(parsed.findings).toHaveLength(1);
    expect(parsed.findings[0]).toMatchObject({
      rule: 'direct-url-requirement',
      severity: 'low',
      category: 'dependency',
      location: { purl: 'pkg:pypi/governance-sdk@0.3.1', manifest: 'poetry.lock' },
      fingerprint: fingerprintOf(KEY, 'direct-url-requirement', 'poetry.lock', 'governance-sdk'),
    });
  });

  it('lock format 2.1 (poetry 2): groups give scope, per-package files the hashes, PEP 621 pyproject the roots', async () => {
    const parsed = await parse('poetry-2x', 'poetry.lock');
    expect(parsed.root).toEqual({ name: 'governance-gateway', version: '2.0.0' });
    expect(scopes(parsed)).toEqual({
      anyio: 'required',
      certifi: 'required',
      colorama: 'dev',
      'django-rest-framework': 'required',
      httpx: 'required',
      idna: 'required',
      mkdocs: 'dev',
      pydantic: 'required',
      pytest: 'dev',
      redis: 'optional',
      sniffio: 'required',
      'typing-extensions': 'required',
    });
    // The local directory dependency is project code: not a component, edges to it dropped, said in a note.
    expect(parsed.packages.some((p) => p.name === 'policy-engine')).toBe(false);
    expect(parsed.notes).toContain('poetry.lock: policy-engine 0.9.0 from the local directory libs/policy-engine not listed (project code)');
    expect(parsed.rootDependsOn.sort()).toEqual([
      'pkg:pypi/django-rest-framework@3.15.2',
      'pkg:pypi/httpx@0.27.0',
      'pkg:pypi/mkdocs@1.6.0',
      'pkg:pypi/pydantic@2.8.2',
      'pkg:pypi/pytest@8.3.2',
      'pkg:pypi/redis@5.0.8',
    ]);
    // A private "legacy" index is a normal index release: no finding.
    expect(parsed.findings).toEqual([]);
    expect(byName(parsed).get('httpx@0.27.0')!.hashes).toHaveLength(2);
  });

  it('lock format 2.0 (no category, no groups): scope by reachability from pyproject.toml', async () => {
    const parsed = await parse('poetry-20', 'poetry.lock');
    expect(scopes(parsed)).toEqual({
      flask: 'required',
      werkzeug: 'required',
      markupsafe: 'required',
      redis: 'optional',
      pytest: 'dev',
      iniconfig: 'dev',
    });
    expect(byName(parsed).get('werkzeug@3.0.3')!.dependsOn).toEqual(['pkg:pypi/markupsafe@2.1.5']);
  });

  it('without pyproject.toml every package is a direct dependency, and scopes default to required when the lock has none', async () => {
    tmp = await mkdtemp(join(tmpdir(), 'govctl-poetry-'));
    await cp(join(fixture('poetry-20'), 'poetry.lock'), join(tmp, 'poetry.lock'));
    const parsed = await parsePythonManifest(tmp, 'poetry.lock', { fingerprintKey: KEY });
    expect(parsed.root).toBeUndefined();
    expect(parsed.rootDependsOn).toHaveLength(6);
    expect(parsed.packages.every((p) => p.scope === 'required')).toBe(true);
    expect(parsed.notes.join('\n')).toMatch(/no pyproject\.toml beside it/);
  });

  it('corrupt TOML names the file and line; a file without [[package]] says what is missing', async () => {
    const err = await parse('corrupt/poetry-bad-toml', 'poetry.lock').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toMatch(/^poetry\.lock:4:\d+: not valid TOML/);
    await expect(parse('corrupt/poetry-no-package', 'poetry.lock')).rejects.toThrow('poetry.lock: not a poetry.lock: no [[package]] entries');
  });
});
