import { DEFAULT_ADMIN_CREDENTIALS, DEFAULT_SIGNING_SECRETS, isKnownDefaultCredential } from '../../core/default-credentials.js';
import { shannonEntropy } from '../../scan/entropy.js';

/** Shortest secret accepted: 32 characters (e.g. 32 random bytes in base64 are 43). */
export const MIN_SECRET_LENGTH = 32;
/**
 * Lowest Shannon entropy accepted, in bits per character. Random hex scores about 3.7 at 32
 * characters and base64 about 4.7; repeated or patterned strings ("aaaa…", "abcabc…") score under 2.5.
 */
export const MIN_SECRET_ENTROPY = 3;

export type SecretVerdict =
  | { kind: 'default'; defaultValue: string }
  | { kind: 'weak'; reason: string }
  | { kind: 'strong' };

const PLACEHOLDER = /change[-_ .]?(?:me|this|it)|replace[-_ .]?(?:me|this)|your[-_ .]|^<.*>$|^x{6,}$|example|placeholder|insecure|not[-_ .]?secret/i;
/** Defaults long enough that a secret containing one was built on it, not random by chance. */
const DEFAULT_PHRASES = [...new Set([...DEFAULT_ADMIN_CREDENTIALS, ...DEFAULT_SIGNING_SECRETS])].filter((d) => d.length >= 8);

/**
 * Judges a secret without ever returning it: a well-known default (of either list — "changeme"
 * is no better as a JWT secret than as an admin key), or too weak (short, built on a default or
 * a placeholder, low entropy), or strong. The reason names lengths and scores, not characters.
 */
export function assessSecret(value: string, kind: 'admin' | 'signing'): SecretVerdict {
  const trimmed = value.trim();
  if (isKnownDefaultCredential(trimmed, kind) || isKnownDefaultCredential(trimmed, kind === 'admin' ? 'signing' : 'admin')) {
    return { kind: 'default', defaultValue: trimmed.replace(/^["']|["']$/g, '').toLowerCase() };
  }
  const lower = trimmed.toLowerCase();
  const length = trimmed.length;
  if (PLACEHOLDER.test(trimmed)) return { kind: 'weak', reason: `length ${length}, looks like a placeholder` };
  if (DEFAULT_PHRASES.some((d) => lower.includes(d))) return { kind: 'weak', reason: `length ${length}, built on a well-known default` };
  if (length < MIN_SECRET_LENGTH) return { kind: 'weak', reason: `length ${length}, shorter than ${MIN_SECRET_LENGTH} characters` };
  const entropy = shannonEntropy(trimmed);
  if (entropy < MIN_SECRET_ENTROPY) {
    return { kind: 'weak', reason: `length ${length}, low entropy (${entropy.toFixed(1)} bits per character, at least ${MIN_SECRET_ENTROPY} expected)` };
  }
  return { kind: 'strong' };
}
