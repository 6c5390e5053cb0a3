import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../../src/core/errors.js';
import { fingerprintOf, type FileLocation } from '../../../../src/core/findings.js';
import { findPythonManifests, parsePythonManifest } from '../../../../src/audit/sbom/python/index.js';
import { isDevRequirementsFile } from '../../../../src/audit/sbom/python/requirements.js';
import { byName, fixture, KEY, parse } from './helpers.js';

describe('requirements*.txt', () => {
  it('finds requirements*.txt at the top level and requirements/*.txt, sorted', async () => {
    expect(await findPythonManifests(fixture('requirements'))).toEqual([
      'requirements-dev.txt',
      'requirements.txt',
      'requirements/base.txt',
    ]);
  });

  it('lists pinned packages with hashes, extras, markers and -r includes; no graph', async () => {
    const parsed = await parse('requirements', 'requirements.txt');
    const pkgs = byName(parsed);
    expect([...pkgs.keys()].sort()).toEqual([
      'certifi@2024.2.2',
      'charset-normalizer@3.3.2',
      'django-rest-framework@3.15.1',
      'idna@3.6',
      'prometheus-client@0.20.0',
      'pywin32@306',
      'redis@5.0.3',
      'requests@2.31.0',
      'tomli@2.0.1',
      'urllib3@2.2.1',
    ]);
    expect(pkgs.get('requests@2.31.0')).toEqual({
      ecosystem: 'PyPI',
      name: 'requests',
      version: '2.31.0',
      purl: 'pkg:pypi/requests@2.31.0',
      scope: 'required',
      hashes: [
        { alg: 'SHA-256', content: '58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f' },
        { alg: 'SHA-256', content: '942c5a758f98d790eaed1a29cb6eefc7ffb0d1cf7af05c3d2791656dbd6ad1e1' },
      ],
      licenses: [],
      dependsOn: [],
    });
    expect(pkgs.get('certifi@2024.2.2')!.hashes).toHaveLength(2);
    expect(pkgs.get('urllib3@2.2.1')!.hashes).toHaveLength(1);
    expect(pkgs.get('idna@3.6')!.hashes).toHaveLength(1); // from the -r included base.txt
    expect(pkgs.get('django-rest-framework@3.15.1')!.purl).toBe('pkg:pypi/django-rest-framework@3.15.1');
    expect(parsed.rootDependsOn.sort()).toEqual(parsed.packages.map((p) => p.purl).sort());
    expect(parsed.packages.every((p) => p.dependsOn.length === 0)).toBe(true);
    // Markers: listed, and said in a note.
    expect(parsed.notes).toContain('requirements.txt:24: pywin32==306 only where sys_platform == "win32"');
    expect(parsed.notes).toContain('requirements.txt:25: tomli==2.0.1 only where python_version < "3.11"');
  });

  it('each unpinned line is exactly one finding at its own file and line; unpinned packages are not components', async () => {
    const parsed = await parse('requirements', 'requirements.txt');
    const unpinned = parsed.findings.filter((f) => f.rule === 'unpinned-requirement');
    const at = unpinned.map((f) => {
      const loc = f.location as FileLocation;
      return `${loc.file}:${loc.line}:${loc.column} ${f.evidence}`;
    });
    expect(at.sort()).toEqual([
      'requirements.txt:28:1 fastapi',
      'requirements.txt:29:1 pydantic>=2',
      'requirements.txt:30:1 httpx~=0.27.0',
      'requirements.txt:31:1 sqlalchemy==2.*',
      'requirements/base.txt:5:1 structlog',
    ]);
    for (const f of unpinned) {
      expect(f).toMatchObject({ severity: 'medium', category: 'dependency' });
      expect(f.remediation).toMatch(/pip-compile --generate-hashes/);
      const loc = f.location as FileLocation;
      const name = f.evidence.match(/^[a-z]+/)![0];
      expect(f.fingerprint).toBe(fingerprintOf(KEY, 'unpinned-requirement', loc.file, name));
      expect(f.id).toBe(`unpinned-requirement:${f.fingerprint.slice(0, 8)}`);
    }
    const names = new Set(parsed.packages.map((p) => p.name));
    for (const n of ['fastapi', 'pydantic', 'httpx', 'sqlalchemy', 'structlog']) expect(names.has(n)).toBe(false);
    expect(parsed.notes).toContain('requirements.txt: 5 unpinned requirement(s) not listed as components (no version to list)');
  });

  it('uses -c constraints to pin an unpinned requirement, and lists nothing that only the constraints name', async () => {
    const parsed = await parse('requirements', 'requirements.txt');
    const redis = byName(parsed).get('redis@5.0.3')!;
    expect(redis.hashes).toEqual([{ alg: 'SHA-256', content: '5da9b8fe9e1254293756c16c008e8620b3d15fcc6dde6babde9541850e72a32d' }]);
    expect(parsed.findings.some((f) => f.evidence.startsWith('redis'))).toBe(false);
    expect(parsed.notes).toContain('requirements.txt:32: redis pinned to 5.0.3 by the constraints file constraints.txt:2');
    expect(parsed.packages.some((p) => p.name === 'starlette')).toBe(false);
  });

  it('reports an extra index (dependency confusion) and URL/VCS requirements, with credentials redacted', async () => {
    const parsed = await parse('requirements', 'requirements.txt');
    const extra = parsed.findings.filter((f) => f.rule === 'extra-index-url');
    expect(extra).toHaveLength(1);
    expect(extra[0]).toMatchObject({ severity: 'medium', location: { file: 'requirements.txt', line: 8, column: 1 }, cwe: 'CWE-427' });
    const direct = parsed.findings.filter((f) => f.rule === 'direct-url-requirement');
    expect(direct.map((f) => [(f.location as FileLocation).line, f.severity, f.title])).toEqual([
      [33, 'low', 'uvicorn is not pinned to an index release'],
      [34, 'low', 'internal-tools is not pinned to an index release'],
    ]);
    const everything = JSON.stringify(parsed);
    expect(everything).not.toContain('s3cr3t-token');
    expect(everything).not.toContain('tok3n');
    // "-e ." is the project itself: a note, not a finding, not a component.
    expect(parsed.notes.some((n) => n.startsWith('requirements.txt:35: local path requirement .'))).toBe(true);
    expect(parsed.findings).toHaveLength(8);
  });

  it('scopes packages as dev when the file (or a file on the include chain) says dev/test', async () => {
    expect(['requirements-dev.txt', 'requirements/test.txt', 'dev-requirements.txt', 'requirements_lint.txt', 'requirements/docs.txt'].map(isDevRequirementsFile)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['requirements.txt', 'requirements/base.txt', 'requirements/prod.txt', 'requirements-devops-tools.txt'].map(isDevRequirementsFile)).toEqual([
      false,
      false,
      false,
      false,
    ]);
    const dev = await parse('requirements', 'requirements-dev.txt');
    expect(byName(dev).get('pytest-asyncio@0.23.6')?.scope).toBe('dev');
    expect(dev.packages.every((p) => p.scope === 'dev')).toBe(true);
    // requirements/base.txt parsed on its own is required.
    const base = await parse('requirements', 'requirements/base.txt');
    expect(base.packages.map((p) => [p.name, p.scope])).toEqual([
      ['idna', 'required'],
      ['prometheus-client', 'required'],
    ]);
    // The same unpinned line reached through two manifests is the same finding (same id and fingerprint).
    const viaBase = base.findings.find((f) => f.rule === 'unpinned-requirement')!;
    const viaTop = (await parse('requirements', 'requirements.txt')).findings.find((f) => f.evidence === 'structlog')!;
    expect(viaBase).toEqual(viaTop);
  });

  it('detects an include cycle and names the chain', async () => {
    const err = await parse('requirements-cycle', 'requirements.txt').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toBe(
      'requirements/b.txt:2: include cycle: requirements.txt:1 -> requirements/a.txt:2 -> requirements/b.txt:2 -> requirements.txt',
    );
  });

  it('a missing included file names the including file and line', async () => {
    await expect(parse('requirements-missing', 'requirements.txt')).rejects.toThrow(
      new InvalidInputError('requirements.txt:3: included file requirements-common.txt cannot be read (no such file)'),
    );
  });

  it('a line that is not a requirement is an error naming file and line; a missing manifest names the file', async () => {
    await expect(parse('corrupt/requirements-bad-line', 'requirements.txt')).rejects.toThrow(/^requirements\.txt:2: not a valid requirement/);
    await expect(parsePythonManifest(fixture('requirements'), 'requirements-prod.txt', { fingerprintKey: KEY })).rejects.toThrow(
      'cannot read requirements-prod.txt: no such file',
    );
  });

  it('a missing directory and a file that is no Python manifest are clear errors', async () => {
    await expect(findPythonManifests(fixture('no-such-dir'))).rejects.toThrow(/^cannot read directory .*no-such-dir: no such directory$/);
    await expect(parsePythonManifest(fixture('requirements'), 'setup.py', { fingerprintKey: KEY })).rejects.toThrow(
      'setup.py: not a Python manifest (expected requirements*.txt, poetry.lock, Pipfile.lock or uv.lock)',
    );
  });

  it('stops when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      parsePythonManifest(fixture('requirements'), 'requirements.txt', { fingerprintKey: KEY, signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'GOVCTL_INTERRUPTED' });
  });
});
