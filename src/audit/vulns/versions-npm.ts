import semver, { type SemVer } from 'semver';
import type { VersionScheme } from './ranges.js';

/**
 * SemVer 2.0 precedence (pre-releases below their release: 1.0.0-beta < 1.0.0; build metadata
 * ignored). Loose parsing accepts the "v1.2.3" and "=1.2.3" spellings some advisories carry.
 * Used for npm's ECOSYSTEM ranges and for every SEMVER range.
 */
export const semverScheme: VersionScheme<SemVer> = {
  name: 'SemVer',
  parse(version: string): SemVer | undefined {
    return semver.parse(version.trim(), { loose: true }) ?? undefined;
  },
  compare(a: SemVer, b: SemVer): number {
    return a.compare(b);
  },
};
