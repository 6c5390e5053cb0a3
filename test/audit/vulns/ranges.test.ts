import { describe, expect, it } from 'vitest';
import type { OsvAffected, OsvEvent } from '../../../src/audit/vulns/osv-schema.js';
import { evaluateAffected } from '../../../src/audit/vulns/ranges.js';
import { semverScheme } from '../../../src/audit/vulns/versions-npm.js';
import { pep440Scheme } from '../../../src/audit/vulns/versions-pypi.js';

const range = (type: string, ...events: OsvEvent[]): OsvAffected => ({ ranges: [{ type, events }] });
const npm = (affected: OsvAffected, version: string) => evaluateAffected(affected, version, semverScheme, semverScheme);
const pypi = (affected: OsvAffected, version: string) => evaluateAffected(affected, version, pep440Scheme, semverScheme);
const affectedVersions = (evaluate: (v: string) => ReturnType<typeof npm>, versions: string[]) => versions.filter((v) => evaluate(v).match !== undefined);

describe('OSV range evaluation (npm / SemVer)', () => {
  it('introduced "0" + fixed: everything below the fix', () => {
    const a = range('SEMVER', { introduced: '0' }, { fixed: '1.0.2' });
    expect(affectedVersions((v) => npm(a, v), ['0.0.1', '1.0.1', '1.0.2', '2.0.0'])).toEqual(['0.0.1', '1.0.1']);
    expect(npm(a, '1.0.1').match).toMatchObject({ fixed: ['1.0.2'], upgradeTo: '1.0.2', how: ['< 1.0.2, SEMVER'] });
  });

  it('several introduced/fixed pairs in one range, given out of order', () => {
    const a = range('SEMVER', { introduced: '3.0.0' }, { fixed: '3.2.5' }, { introduced: '1.0.0' }, { fixed: '1.0.2' });
    expect(affectedVersions((v) => npm(a, v), ['0.9.0', '1.0.0', '1.0.1', '1.0.2', '2.5.0', '3.0.0', '3.2.4', '3.2.5'])).toEqual(['1.0.0', '1.0.1', '3.0.0', '3.2.4']);
    expect(npm(a, '3.1.0').match?.upgradeTo).toBe('3.2.5');
    expect(npm(a, '1.0.0').match?.upgradeTo).toBe('1.0.2');
  });

  it('last_affected is inclusive and names no fix', () => {
    const a = range('SEMVER', { introduced: '1.0.0' }, { last_affected: '1.4.0' });
    expect(affectedVersions((v) => npm(a, v), ['0.9.9', '1.0.0', '1.4.0', '1.4.1'])).toEqual(['1.0.0', '1.4.0']);
    expect(npm(a, '1.4.0').match).toMatchObject({ lastAffected: '1.4.0', fixed: [] });
    expect(npm(a, '1.4.0').match?.upgradeTo).toBeUndefined();
  });

  it('limit caps the range (exclusive); "*" is infinity', () => {
    const capped = range('SEMVER', { introduced: '0' }, { limit: '2.0.0' });
    expect(affectedVersions((v) => npm(capped, v), ['1.9.9', '2.0.0', '5.0.0'])).toEqual(['1.9.9']);
    const open = range('SEMVER', { introduced: '3.0.0' }, { limit: '*' });
    expect(affectedVersions((v) => npm(open, v), ['2.9.9', '3.0.0', '99.0.0'])).toEqual(['3.0.0', '99.0.0']);
    const several = range('SEMVER', { introduced: '0' }, { limit: '1.0.0' }, { limit: '3.0.0' });
    expect(affectedVersions((v) => npm(several, v), ['0.5.0', '2.0.0', '3.0.0'])).toEqual(['0.5.0', '2.0.0']);
  });

  it('introduced with no end: every later version', () => {
    const a = range('SEMVER', { introduced: '2.0.0' });
    expect(affectedVersions((v) => npm(a, v), ['1.9.9', '2.0.0', '10.0.0'])).toEqual(['2.0.0', '10.0.0']);
    expect(npm(a, '2.0.0').match?.how).toEqual(['>= 2.0.0, no fix, SEMVER']);
  });

  it('orders pre-releases below their release (1.0.0-beta < 1.0.0)', () => {
    const a = range('SEMVER', { introduced: '1.0.0-beta.2' }, { fixed: '1.0.0' });
    expect(affectedVersions((v) => npm(a, v), ['1.0.0-alpha', '1.0.0-beta.1', '1.0.0-beta.2', '1.0.0-beta.10', '1.0.0-rc.1', '1.0.0', '1.0.1'])).toEqual([
      '1.0.0-beta.2',
      '1.0.0-beta.10',
      '1.0.0-rc.1',
    ]);
    const fixedInPre = range('SEMVER', { introduced: '0' }, { fixed: '2.0.0-rc.1' });
    expect(affectedVersions((v) => npm(fixedInPre, v), ['1.9.0', '2.0.0-beta.3', '2.0.0-rc.1', '2.0.0'])).toEqual(['1.9.0', '2.0.0-beta.3']);
  });

  it('ignores build metadata and accepts a leading "v"', () => {
    const a = range('SEMVER', { introduced: '0' }, { fixed: 'v1.2.0' });
    expect(npm(a, '1.1.0+build.7').match).toBeDefined();
    expect(npm(a, '1.2.0+build.7').match).toBeUndefined();
  });

  it('matches an explicit versions list exactly', () => {
    const a: OsvAffected = { versions: ['1.0.0', '1.0.3'] };
    expect(affectedVersions((v) => npm(a, v), ['1.0.0', '1.0.1', '1.0.3', '1.0.3-rc.1'])).toEqual(['1.0.0', '1.0.3']);
    expect(npm(a, '1.0.0').match?.how).toEqual(['listed in its versions']);
  });

  it('skips GIT ranges and unknown range types', () => {
    const a: OsvAffected = { ranges: [{ type: 'GIT', repo: 'https://example.com/r.git', events: [{ introduced: '0' }] }, { type: 'FUTURE', events: [{ introduced: '0' }] }] };
    expect(npm(a, '1.0.0').match).toBeUndefined();
  });

  it('never matches a version that does not parse, and says so', () => {
    const a = range('SEMVER', { introduced: '0' });
    expect(npm(a, 'not-a-version')).toMatchObject({ versionUnparsed: true });
    expect(npm(a, 'not-a-version').match).toBeUndefined();
  });

  it('an unreadable introduced counts as "0", an unreadable fixed is ignored: never a false clean', () => {
    const a = range('SEMVER', { introduced: 'garbage' }, { fixed: 'also-garbage' });
    const result = npm(a, '5.0.0');
    expect(result.match).toBeDefined();
    expect(result.badEvents).toEqual(['introduced "garbage"', 'fixed "also-garbage"']);
  });
});

describe('OSV range evaluation (PyPI / PEP 440)', () => {
  it('orders epochs first: 2.0 < 1!1.0', () => {
    const a = range('ECOSYSTEM', { introduced: '0' }, { fixed: '1!1.0' });
    expect(affectedVersions((v) => pypi(a, v), ['0.1', '2.0', '99.0', '1!0.9', '1!1.0', '1!1.0.1', '2!0.1'])).toEqual(['0.1', '2.0', '99.0', '1!0.9']);
  });

  it('orders dev < pre-releases (a, b, rc) < release < post-releases, local above its public version', () => {
    const a = range('ECOSYSTEM', { introduced: '1.0rc1' }, { fixed: '1.0.post1' });
    const versions = ['1.0.dev0', '1.0a1', '1.0b2', '1.0rc1', '1.0rc2', '1.0', '1.0+local.1', '1.0.post0', '1.0.post1', '1.0.post1.dev0', '1.1'];
    expect(affectedVersions((v) => pypi(a, v), versions)).toEqual(['1.0rc1', '1.0rc2', '1.0', '1.0+local.1', '1.0.post0', '1.0.post1.dev0']);
  });

  it('normalises spellings: 1.0 == 1.0.0, 1.0-RC1 == 1.0rc1', () => {
    const a = range('ECOSYSTEM', { introduced: '1.0-RC1' }, { fixed: '1.0.0' });
    expect(affectedVersions((v) => pypi(a, v), ['1.0rc1', '1.0', '1.0.0'])).toEqual(['1.0rc1']);
    const listed: OsvAffected = { versions: ['0.7'] };
    expect(pypi(listed, '0.7.0').match).toBeDefined();
    expect(pypi(listed, '0.7.1').match).toBeUndefined();
  });

  it('last_affected and limit in PEP 440 order', () => {
    const last = range('ECOSYSTEM', { introduced: '0' }, { last_affected: '2.0rc1' });
    expect(affectedVersions((v) => pypi(last, v), ['1.9', '2.0b1', '2.0rc1', '2.0'])).toEqual(['1.9', '2.0b1', '2.0rc1']);
    const limited = range('ECOSYSTEM', { introduced: '1.0' }, { limit: '1.5.post1' });
    expect(affectedVersions((v) => pypi(limited, v), ['0.9', '1.0', '1.5', '1.5.post1'])).toEqual(['1.0', '1.5']);
  });

  it('a SEMVER range on a PyPI package uses SemVer order', () => {
    const a = range('SEMVER', { introduced: '0' }, { fixed: '1.2.0' });
    expect(pypi(a, '1.1.9').match).toBeDefined();
    expect(pypi(a, '1.2.0').match).toBeUndefined();
  });
});
