/**
 * How an OSV `affected[].package` and an SBOM component are found to be the same package:
 * ecosystem + name, with each ecosystem's own idea of name equality.
 */

export type MatchedEcosystem = 'npm' | 'PyPI';

/**
 * "npm" and "PyPI" as OSV spells them; a ":suffix" (used by other ecosystems for a release) is
 * dropped. OSV names are case-sensitive, but a hand-written "pypi" or "NPM" cannot mean
 * anything else, and missing an advisory is worse than a lenient match: case is ignored.
 */
export function osvEcosystem(ecosystem: string): MatchedEcosystem | undefined {
  const colon = ecosystem.indexOf(':');
  const base = (colon === -1 ? ecosystem : ecosystem.slice(0, colon)).trim().toLowerCase();
  if (base === 'npm') return 'npm';
  if (base === 'pypi') return 'PyPI';
  return undefined;
}

/** PEP 503: lower case, runs of "-", "_" and "." become one "-". */
export function pep503(name: string): string {
  return name.trim().toLowerCase().replace(/[-_.]+/g, '-');
}

/** npm names are compared as they are (old packages keep upper case: "JSONStream"). */
export function packageKey(ecosystem: MatchedEcosystem, name: string): string {
  return `${ecosystem}\u0000${ecosystem === 'PyPI' ? pep503(name) : name}`;
}

/** The key of an OSV package, or undefined for an ecosystem this matcher does not handle. */
export function osvPackageKey(pkg: { ecosystem: string; name: string } | undefined): string | undefined {
  if (!pkg) return undefined;
  const ecosystem = osvEcosystem(pkg.ecosystem);
  return ecosystem ? packageKey(ecosystem, pkg.name) : undefined;
}
