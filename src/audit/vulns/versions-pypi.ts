import { compare, valid } from '@renovatebot/pep440';
import type { VersionScheme } from './ranges.js';

/**
 * PEP 440 ordering, as pip and OSV's PyPI ranges use it: epochs ("1!1.0" > "2.0"), dev <
 * pre-releases (a, b, rc) < release < post-releases, and a local version above its public one
 * ("1.0+local" > "1.0"). The library compares strings, so a parsed version is its trimmed string.
 */
export const pep440Scheme: VersionScheme<string> = {
  name: 'PEP 440',
  parse(version: string): string | undefined {
    const trimmed = version.trim();
    return valid(trimmed) === null ? undefined : trimmed;
  },
  compare(a: string, b: string): number {
    return compare(a, b);
  },
};
