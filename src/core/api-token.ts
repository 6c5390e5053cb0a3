import { randomBytes, randomUUID } from 'node:crypto';

/** A governance API key token is `<key_id>.<secret>`: a UUID v4 and 32 random bytes in base64url. */
export interface ApiToken {
  keyId: string;
  secret: string;
  token: string;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export function newApiToken(): ApiToken {
  const keyId = randomUUID();
  const secret = randomBytes(32).toString('base64url');
  return { keyId, secret, token: `${keyId}.${secret}` };
}

/** Splits a token on its last dot; undefined when there is no dot with text on both sides. */
export function parseApiToken(token: string): ApiToken | undefined {
  const dot = token.lastIndexOf('.');
  if (dot <= 0 || dot === token.length - 1) return undefined;
  return { keyId: token.slice(0, dot), secret: token.slice(dot + 1), token };
}

/** True for a token of exactly the issued shape (UUID v4 id, 43-character base64url secret). */
export function isWellFormedApiToken(token: string): boolean {
  const parsed = parseApiToken(token);
  return parsed !== undefined && UUID_V4.test(parsed.keyId) && SECRET.test(parsed.secret);
}

/** A token as it may be shown after its one showing: the key id, never the secret. */
export function redactApiToken(token: string): string {
  const parsed = parseApiToken(token);
  return parsed ? `${parsed.keyId}.****` : '****';
}
