import { redact } from '../../core/findings.js';
import { visible } from '../../core/visible-text.js';
import type { Exchange } from './requester.js';

/** The longest body excerpt evidence carries. */
export const EXCERPT_CHARS = 300;

/** Request headers that carry credentials: shown redacted, never whole. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'x-api-key', 'x-admin-key', 'cookie']);
/** An API key token anywhere in text: `<uuid>.<secret>`. */
const TOKEN = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\.[A-Za-z0-9_-]{8,}/g;
/** A JSON string value under a key that names a secret. */
const SECRET_FIELD = /("(?:api_key|token|secret|password|admin_key|access_token)"\s*:\s*")([^"]*)(")/gi;
const BEARER = /\b(Bearer\s+)(\S+)/gi;

/**
 * Text made safe for a report: known secrets, key tokens, secret-named JSON fields and bearer
 * values redacted to their first characters; control characters made visible.
 */
export function sanitize(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join(redact(secret));
  }
  out = out.replace(TOKEN, (m) => redact(m));
  out = out.replace(SECRET_FIELD, (_m, a: string, v: string, b: string) => `${a}${v === '' ? '' : redact(v)}${b}`);
  out = out.replace(BEARER, (_m, a: string, v: string) => `${a}${v.endsWith('…') ? v : redact(v)}`);
  return visible(out);
}

/** At most EXCERPT_CHARS of a body, sanitised. */
export function excerpt(text: string, secrets: readonly string[] = []): string {
  // One line: newlines as \n, so the excerpt reads like the body it came from.
  const clipped = (text.length > EXCERPT_CHARS * 2 ? text.slice(0, EXCERPT_CHARS * 2) : text).replace(/\r?\n/g, '\\n');
  const clean = sanitize(clipped, secrets);
  return clean.length > EXCERPT_CHARS ? `${clean.slice(0, EXCERPT_CHARS - 1)}…` : clean;
}

export interface EvidenceOptions {
  /** Response headers worth showing for this finding (lower case). */
  show?: string[];
  /** Show a body excerpt of the answer (default true). */
  body?: boolean;
  /** Text in the body to centre the excerpt on (a stack trace, a path). */
  around?: number;
  secrets?: readonly string[];
}

/**
 * The request line (and its telling headers) and the relevant part of the answer: status,
 * the headers asked for (or their absence), a body excerpt. Secrets redacted.
 */
export function evidenceOf(exchange: Exchange, options: EvidenceOptions = {}): string {
  const secrets = options.secrets ?? [];
  const lines = [`${exchange.method} ${sanitize(exchange.path, secrets)}`];
  for (const [name, value] of Object.entries(exchange.requestHeaders)) {
    const lower = name.toLowerCase();
    if (lower === 'user-agent' || lower === 'accept') continue;
    const shown = CREDENTIAL_HEADERS.has(lower) ? redactCredential(value) : sanitize(value, secrets);
    lines.push(`${name}: ${shown}`);
  }
  if (exchange.bodyNote !== undefined) lines.push(`body: ${sanitize(exchange.bodyNote, secrets)}`);
  if (exchange.status === undefined) {
    lines.push(`-> no answer: ${exchange.error ?? 'unknown'}`);
    return lines.join('\n');
  }
  lines.push(`-> HTTP ${exchange.status}`);
  for (const name of options.show ?? []) {
    const value = exchange.headers[name];
    const text = value === undefined ? '(absent)' : sanitize(Array.isArray(value) ? value.join(', ') : value, secrets);
    lines.push(`${displayName(name)}: ${text}`);
  }
  if (options.body !== false && exchange.text !== '') {
    const from = Math.max(0, (options.around ?? 0) - 40);
    const start = from > 0 ? `…${exchange.text.slice(from)}` : exchange.text;
    lines.push(`body: ${excerpt(start, secrets)}`);
  }
  return lines.join('\n');
}

/** "Bearer abcd…", "Basic …": the scheme and the first characters only. */
function redactCredential(value: string): string {
  const [scheme, ...rest] = value.split(' ');
  if (rest.length === 0) return redact(value);
  return `${scheme} ${redact(rest.join(' '))}`;
}

/** "x-ratelimit-limit" -> "X-RateLimit-Limit"-ish: each word capitalised. */
function displayName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => `${dash}${c.toUpperCase()}`);
}
