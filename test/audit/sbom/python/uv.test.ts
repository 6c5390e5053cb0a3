import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../../src/core/errors.js';
import { findPythonManifests } from '../../../../src/audit/sbom/python/index.js';
import { byName, fixture, parse } from './helpers.js';

describe('uv.lock', () => {
  it('the editable project is the root, not a component; dev group and extras give dev and optional scope', async () => {
    expect(await findPythonManifests(fixture('uv'))).toEqual(['uv.lock']);
    const parsed = await parse('uv', 'uv.lock');
    expect(parsed.root).toEqual({ name: 'governance-api', version: '0.8.1' });
    expect(parsed.packages.some((p) => p.name === 'governance-api')).toBe(false);
    expect(Object.fromEntries(parsed.packages.map((p) => [p.name, p.scope]))).toEqual({
      'annotated-types': 'required',
      anyio: 'required',
      'audit-client': 'required',
      colorama: 'dev', // only pytest needs it
      exceptiongroup: 'required', // anyio needs it too, not only pytest
      fastapi: 'required',
      idna: 'required',
      iniconfig: 'dev',
      pydantic: 'required',
      pytest: 'dev',
      pyyaml: 'required',
      redis: 'optional',
      'async-timeout': 'optional',
      ruff: 'dev',
      sniffio: 'required',
      starlette: 'required',
      tomli: 'required',
      'typing-extensions': 'required',
    });
    expect(parsed.rootDependsOn.sort()).toEqual([
      'pkg:pypi/audit-client@1.2.0',
      'pkg:pypi/fastapi@0.111.1',
      'pkg:pypi/pytest@8.3.2',
      'pkg:pypi/pyyaml@6.0.1',
      'pkg:pypi/redis@5.0.8',
      'pkg:pypi/ruff@0.5.5',
      'pkg:pypi/tomli@2.0.1',
    ]);
  });

  it('edges, sdist and wheel hashes (sdist first), the sdist URL as resolved', async () => {
    const pkgs = byName(await parse('uv', 'uv.lock'));
    const anyio = pkgs.get('anyio@4.4.0')!;
    expect(anyio.dependsOn).toEqual(['pkg:pypi/exceptiongroup@1.2.2', 'pkg:pypi/idna@3.7', 'pkg:pypi/sniffio@1.3.1']);
    expect(anyio.hashes).toEqual([
      { alg: 'SHA-256', content: '5aadc6a1bbb7cdb0bede386cac5e2940f5e2ff3aa20277e991cf028e0585ce94' },
      { alg: 'SHA-256', content: 'c1b2d8f46a8a812513012e1107cb0e68c17159a7a594208005a57dc776e1bdc7' },
    ]);
    expect(anyio.resolved).toMatch(/^https:\/\/files\.pythonhosted\.org\/.*anyio-4\.4\.0\.tar\.gz$/);
    expect(pkgs.get('pyyaml@6.0.1')!.hashes).toHaveLength(3);
  });

  it('a git source is a component with a low finding', async () => {
    const parsed = await parse('uv', 'uv.lock');
    expect(parsed.findings).toHaveLength(1);
    expect(parsed.findings[0]).toMatchObject({
      rule: 'direct-url-requirement',
      severity: 'low',
      location: { purl: 'pkg:pypi/audit-client@1.2.0', manifest: 'uv.lock' },
    });
    expect(byName(parsed).get('audit-client@1.2.0')!.resolved).toBe(
      'git+https://github.com/example/audit-client?tag=v1.2.0#8c2e4f6a1b3d5c7e9f0a2b4c6d8e0f1a3b5c7d9e',
    );
  });

  it('workspace: virtual root and editable member are roots; forked versions resolve by version; local directory is a note; http registry is a finding', async () => {
    const parsed = await parse('uv-workspace', 'uv.lock');
    expect(parsed.root).toEqual({ name: 'platform', version: '0.1.0' });
    expect(parsed.packages.map((p) => p.purl)).toEqual(['pkg:pypi/numpy@2.0.2', 'pkg:pypi/numpy@2.1.1', 'pkg:pypi/pandas@2.2.2']);
    expect(byName(parsed).get('pandas@2.2.2')!.dependsOn).toEqual(['pkg:pypi/numpy@2.0.2', 'pkg:pypi/numpy@2.1.1']);
    expect(parsed.rootDependsOn).toEqual(['pkg:pypi/pandas@2.2.2']);
    expect(parsed.notes).toContain('uv.lock: shared-utils 0.3.0 from the local path libs/shared-utils not listed (project code)');
    expect(parsed.findings.map((f) => [f.rule, f.severity])).toEqual([['insecure-package-index', 'high']]);
  });

  it('corrupt TOML names the file and line; TOML that is not a uv.lock says what is missing', async () => {
    const err = await parse('corrupt/uv-bad-toml', 'uv.lock').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toMatch(/^uv\.lock:9:\d+: not valid TOML/);
    await expect(parse('corrupt/uv-not-uv', 'uv.lock')).rejects.toThrow('uv.lock: not a uv.lock: no top-level "version" number');
  });
});
