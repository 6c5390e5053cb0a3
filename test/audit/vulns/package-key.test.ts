import { describe, expect, it } from 'vitest';
import { osvEcosystem, osvPackageKey, packageKey, pep503 } from '../../../src/audit/vulns/package-key.js';

describe('package identity between OSV and the SBOM', () => {
  it('recognises npm and PyPI, leniently about case, and nothing else', () => {
    expect(['npm', 'PyPI', 'pypi', 'NPM', 'PyPI:extra'].map(osvEcosystem)).toEqual(['npm', 'PyPI', 'PyPI', 'npm', 'PyPI']);
    expect(['Go', 'crates.io', 'Debian:10', 'npmjs', ''].map(osvEcosystem)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('normalises PyPI names per PEP 503 and keeps npm names as they are', () => {
    expect(pep503('Django_Rest.Framework--x')).toBe('django-rest-framework-x');
    expect(osvPackageKey({ ecosystem: 'PyPI', name: 'Typing_Extensions' })).toBe(packageKey('PyPI', 'typing-extensions'));
    expect(osvPackageKey({ ecosystem: 'npm', name: 'JSONStream' })).not.toBe(packageKey('npm', 'jsonstream'));
    expect(osvPackageKey({ ecosystem: 'npm', name: '@scope/pkg' })).toBe(packageKey('npm', '@scope/pkg'));
    expect(osvPackageKey({ ecosystem: 'PyPI', name: 'x' })).not.toBe(packageKey('npm', 'x'));
    expect(osvPackageKey(undefined)).toBeUndefined();
  });
});
