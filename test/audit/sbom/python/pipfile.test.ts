import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../../src/core/errors.js';
import { findPythonManifests } from '../../../../src/audit/sbom/python/index.js';
import { byName, fixture, parse } from './helpers.js';

describe('Pipfile.lock', () => {
  it('"default" is required, "develop" is dev; versions "==x" and hashes; no graph', async () => {
    expect(await findPythonManifests(fixture('pipenv'))).toEqual(['Pipfile.lock']);
    const parsed = await parse('pipenv', 'Pipfile.lock');
    const pkgs = byName(parsed);
    expect([...pkgs.keys()]).toEqual([
      'certifi@2024.6.2',
      'flask@3.0.3',
      'jinja2@3.1.4',
      'requests@2.31.0',
      'zope-interface@6.4.post2',
      'pytest@8.2.2',
    ]);
    expect(pkgs.get('pytest@8.2.2')!.scope).toBe('dev');
    // In both sections: one component, required wins, hashes merged.
    expect(pkgs.get('requests@2.31.0')).toMatchObject({ scope: 'required', purl: 'pkg:pypi/requests@2.31.0' });
    expect(pkgs.get('requests@2.31.0')!.hashes).toHaveLength(2);
    expect(pkgs.get('zope-interface@6.4.post2')!.purl).toBe('pkg:pypi/zope-interface@6.4.post2');
    expect(parsed.rootDependsOn).toEqual(parsed.packages.map((p) => p.purl));
    expect(parsed.packages.every((p) => p.dependsOn.length === 0)).toBe(true);
    expect(parsed.root).toBeUndefined();
  });

  it('a git entry is a finding and not a component; an editable local path is a note; a plain-http source is a finding', async () => {
    const parsed = await parse('pipenv', 'Pipfile.lock');
    expect(parsed.findings.map((f) => [f.rule, f.severity, f.location])).toEqual([
      ['insecure-package-index', 'high', { file: 'Pipfile.lock', line: 18, column: 1 }],
      ['direct-url-requirement', 'low', { file: 'Pipfile.lock', line: 42, column: 1 }],
    ]);
    expect(parsed.packages.some((p) => p.name === 'governance-sdk' || p.name === 'my-service')).toBe(false);
    expect(parsed.notes).toContain('Pipfile.lock: develop.my-service from the local path . not listed (project code)');
  });

  it('corrupt JSON names the file and line; JSON that is not a Pipfile.lock says what is missing', async () => {
    const err = await parse('corrupt/pipfile-bad-json', 'Pipfile.lock').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toMatch(/^Pipfile\.lock:4:\d+: not valid JSON/);
    await expect(parse('corrupt/pipfile-not-pipfile', 'Pipfile.lock')).rejects.toThrow(
      'Pipfile.lock: not a Pipfile.lock: no "default" or "develop" section',
    );
  });
});
