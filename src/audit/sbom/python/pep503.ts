import { PackageURL } from 'packageurl-js';

/** PEP 503 normalisation: lower-case, every run of "-", "_" and "." becomes one "-". */
export function pypiName(name: string): string {
  return name.trim().replace(/[-_.]+/g, '-').toLowerCase();
}

/** "pkg:pypi/<pep503-name>@<version>"; the version is kept as locked (no PEP 440 normalisation). */
export function pypiPurl(name: string, version: string): string {
  return new PackageURL('pypi', undefined, pypiName(name), version, undefined, undefined).toString();
}

/** A purl without a version, for findings about a package that has none (unpinned, URL). */
export function pypiPurlUnversioned(name: string): string {
  return new PackageURL('pypi', undefined, pypiName(name), undefined, undefined, undefined).toString();
}

/** A PEP 508 name at the start of a requirement string ("requests[socks]>=2" -> "requests"). */
export function leadingRequirementName(spec: string): string | undefined {
  return /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/.exec(spec)?.[1];
}
