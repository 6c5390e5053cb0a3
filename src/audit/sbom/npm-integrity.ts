import type { HashAlgorithm, PackageHash } from './model.js';

/** Subresource-integrity algorithm prefixes npm writes, and the digest length each must have. */
const ALGORITHMS: Record<string, { alg: HashAlgorithm; bytes: number }> = {
  sha512: { alg: 'SHA-512', bytes: 64 },
  sha384: { alg: 'SHA-384', bytes: 48 },
  sha256: { alg: 'SHA-256', bytes: 32 },
  sha1: { alg: 'SHA-1', bytes: 20 },
  md5: { alg: 'MD5', bytes: 16 },
};

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Turns an npm `integrity` value ("sha512-<base64>", possibly several separated by spaces, each
 * possibly with "?options") into hex hashes. A part with an unknown algorithm or a digest of the
 * wrong length is left out rather than passed on: the BOM validator would reject it, and a
 * truncated digest proves nothing. One hash per algorithm (the first).
 */
export function integrityToHashes(integrity: string): PackageHash[] {
  const hashes: PackageHash[] = [];
  for (const part of integrity.split(/\s+/)) {
    const dash = part.indexOf('-');
    if (dash <= 0) continue;
    const known = ALGORITHMS[part.slice(0, dash).toLowerCase()];
    if (!known || hashes.some((h) => h.alg === known.alg)) continue;
    const query = part.indexOf('?', dash);
    const digest = query === -1 ? part.slice(dash + 1) : part.slice(dash + 1, query);
    if (!BASE64.test(digest)) continue;
    const bytes = Buffer.from(digest, 'base64');
    if (bytes.length !== known.bytes) continue;
    hashes.push({ alg: known.alg, content: bytes.toString('hex') });
  }
  return hashes;
}

/**
 * The licenses a package.json (or a lockfile entry) declares: `license: "MIT"` (an SPDX id or
 * expression, kept as written), or the legacy `license: {type}` and `licenses: [{type} | string]`.
 */
export function declaredLicenses(license: unknown, licenses?: unknown): string[] {
  if (typeof license === 'string') {
    // The common case, kept cheap: it runs once per package.
    const trimmed = license.trim();
    if (trimmed !== '') return [trimmed];
  }
  const out: string[] = [];
  const add = (value: unknown): void => {
    const text = typeof value === 'string' ? value : isRecord(value) && typeof value.type === 'string' ? value.type : undefined;
    const trimmed = text?.trim();
    if (trimmed && !out.includes(trimmed)) out.push(trimmed);
  };
  if (Array.isArray(license)) license.forEach(add);
  else add(license);
  if (out.length === 0 && Array.isArray(licenses)) licenses.forEach(add);
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
