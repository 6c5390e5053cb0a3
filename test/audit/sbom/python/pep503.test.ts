import { describe, expect, it } from 'vitest';
import { pypiName, pypiPurl } from '../../../../src/audit/sbom/python/index.js';
import { leadingRequirementName } from '../../../../src/audit/sbom/python/pep503.js';

describe('PEP 503 names and purls', () => {
  it('lower-cases and folds runs of -, _ and . into one -', () => {
    expect(pypiName('Django_REST.framework')).toBe('django-rest-framework');
    expect(pypiName('zope.interface')).toBe('zope-interface');
    expect(pypiName('Foo__Bar--baz..Qux')).toBe('foo-bar-baz-qux');
    expect(pypiName('PyYAML')).toBe('pyyaml');
    expect(pypiName('typing_extensions')).toBe('typing-extensions');
  });

  it('builds pkg:pypi purls with the normalised name and the version as locked', () => {
    expect(pypiPurl('Django_REST.framework', '3.15.1')).toBe('pkg:pypi/django-rest-framework@3.15.1');
    expect(pypiPurl('zope.interface', '6.4.post2')).toBe('pkg:pypi/zope-interface@6.4.post2');
    expect(pypiPurl('requests', '2.31.0')).toBe('pkg:pypi/requests@2.31.0');
    // No PEP 440 normalisation: epochs, local versions and spelling stay as locked.
    expect(pypiPurl('x', '1!2.0RC1+local.1')).toBe('pkg:pypi/x@1!2.0RC1+local.1');
  });

  it('reads the leading name of a PEP 508 requirement', () => {
    expect(leadingRequirementName('requests[socks] (>=2.31,<3)')).toBe('requests');
    expect(leadingRequirementName('tomli>=2.0; python_version < "3.11"')).toBe('tomli');
    expect(leadingRequirementName('  ')).toBeUndefined();
  });
});
