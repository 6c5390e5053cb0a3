import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { InvalidInputError, InterruptedError } from '../../../core/errors.js';
import { fingerprintOf, redact, type Finding, type Location, type Severity } from '../../../core/findings.js';
import type { HashAlgorithm, LockPackage, PackageHash } from '../model.js';

/** What every Python parser takes (the step's fingerprint key and Ctrl-C). */
export interface PythonParseContext {
  fingerprintKey: Uint8Array;
  signal?: AbortSignal;
}

export type Scope = LockPackage['scope'];

export function checkAborted(signal: AbortSignal | undefined, file: string): void {
  if (signal?.aborted) throw new InterruptedError(`interrupted while reading ${file}`);
}

/** Reads a manifest (relative to dir); a missing or unreadable file names the path. */
export async function readManifestText(dir: string, file: string): Promise<string> {
  try {
    return (await readFile(join(dir, file), 'utf8')).replace(/^\uFEFF/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InvalidInputError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

/** TOML with the parser's line and column in the error. */
export function parseTomlText(text: string, file: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split('\n')[0] ?? 'invalid TOML';
      throw new InvalidInputError(`${file}:${err.line}:${err.column}: not valid TOML: ${first}`);
    }
    throw new InvalidInputError(`${file}: not valid TOML: ${(err as Error).message}`);
  }
}

const HASH_ALGS: Record<string, HashAlgorithm> = {
  sha256: 'SHA-256',
  sha384: 'SHA-384',
  sha512: 'SHA-512',
  sha1: 'SHA-1',
  md5: 'MD5',
};

/** "sha256:<hex>" -> {alg, content}; anything else (unknown algorithm, not hex) -> undefined. */
export function parseHash(text: string): PackageHash | undefined {
  const m = /^([a-z0-9]+)[:=]([0-9a-fA-F]+)$/.exec(text.trim());
  const alg = m ? HASH_ALGS[m[1]!.toLowerCase()] : undefined;
  return alg ? { alg, content: m![2]!.toLowerCase() } : undefined;
}

/** Adds hashes not yet present (same alg and content), keeping the order seen. */
export function addHashes(into: PackageHash[], more: Iterable<PackageHash | undefined>): void {
  for (const h of more) {
    if (h && !into.some((x) => x.alg === h.alg && x.content === h.content)) into.push(h);
  }
}

/** "https://user:token@host/simple" -> "https://user…@host/simple": evidence never carries credentials. */
export function redactUrlCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/gi, (_all, scheme: string, userinfo: string) => `${scheme}${redact(userinfo)}@`);
}

/** A plain-http URL to a host other than loopback. */
export function isInsecureRemoteUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:') return false;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return !(host === 'localhost' || host === '::1' || /^127\./.test(host));
}

export interface FindingSpec {
  rule: string;
  severity: Severity;
  title: string;
  location: Location;
  evidence: string;
  remediation: string;
  /** Stable parts after the rule: manifest and normalised name (or URL). */
  parts: string[];
  cwe?: string;
  references?: string[];
}

export function dependencyFinding(ctx: PythonParseContext, spec: FindingSpec): Finding {
  const fingerprint = fingerprintOf(ctx.fingerprintKey, spec.rule, ...spec.parts);
  const finding: Finding = {
    id: `${spec.rule}:${fingerprint.slice(0, 8)}`,
    rule: spec.rule,
    severity: spec.severity,
    category: 'dependency',
    title: spec.title,
    location: spec.location,
    evidence: spec.evidence,
    fingerprint,
    remediation: spec.remediation,
  };
  if (spec.cwe) finding.cwe = spec.cwe;
  if (spec.references) finding.references = spec.references;
  return finding;
}

/** A package from a VCS, a URL or a local path: no index release, so advisories cannot be trusted to match. */
export function directUrlFinding(
  ctx: PythonParseContext,
  manifest: string,
  name: string,
  source: string,
  location: Location,
): Finding {
  return dependencyFinding(ctx, {
    rule: 'direct-url-requirement',
    severity: 'low',
    title: `${name} is not pinned to an index release`,
    location,
    evidence: redactUrlCredentials(source),
    remediation:
      'Depend on a released version from the package index (name==version with --hash); a VCS or URL requirement has no release ' +
      'that vulnerability advisories can be matched against, and a branch or tag can change under you.',
    parts: [manifest, name],
  });
}

/** Plain-http package index or source: anyone on the path can substitute packages. */
export function insecureIndexFinding(ctx: PythonParseContext, manifest: string, url: string, location: Location, evidence: string): Finding {
  return dependencyFinding(ctx, {
    rule: 'insecure-package-index',
    severity: 'high',
    title: 'Packages are downloaded from an index over plain HTTP',
    location,
    evidence: redactUrlCredentials(evidence),
    remediation: 'Serve the package index over https (and do not disable certificate verification); pin every requirement with --hash.',
    parts: [manifest, redactUrlCredentials(url)],
    cwe: 'CWE-494',
  });
}

const SCOPE_RANK: Record<Scope, number> = { required: 2, optional: 1, dev: 0 };

/** The broader of two scopes: a package both required and dev is required. */
export function widerScope(a: Scope, b: Scope): Scope {
  return SCOPE_RANK[a] >= SCOPE_RANK[b] ? a : b;
}

/**
 * Scope by reachability: what the required roots reach is required, then what the optional roots
 * reach is optional, the rest reachable from dev roots is dev. Unreached keys are absent.
 */
export function scopesByReachability(
  edges: ReadonlyMap<string, readonly string[]>,
  roots: { required: readonly string[]; optional: readonly string[]; dev: readonly string[] },
): Map<string, Scope> {
  const scopes = new Map<string, Scope>();
  for (const scope of ['required', 'optional', 'dev'] as const) {
    const stack = [...roots[scope]];
    while (stack.length > 0) {
      const key = stack.pop()!;
      if (scopes.has(key)) continue;
      scopes.set(key, scope);
      for (const next of edges.get(key) ?? []) if (!scopes.has(next)) stack.push(next);
    }
  }
  return scopes;
}

/** One package per purl: hashes merged, the wider scope kept, edges united. */
export function mergeByPurl(packages: LockPackage[]): LockPackage[] {
  const byPurl = new Map<string, LockPackage>();
  for (const p of packages) {
    const seen = byPurl.get(p.purl);
    if (!seen) {
      byPurl.set(p.purl, { ...p, hashes: [...p.hashes], dependsOn: [...p.dependsOn] });
      continue;
    }
    seen.scope = widerScope(seen.scope, p.scope);
    addHashes(seen.hashes, p.hashes);
    for (const d of p.dependsOn) if (!seen.dependsOn.includes(d)) seen.dependsOn.push(d);
    seen.resolved ??= p.resolved;
  }
  return [...byPurl.values()];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
