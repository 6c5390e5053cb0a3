import { UnreachableError } from '../core/errors.js';

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** The cause of a port that answered, but not in HTTP (an SSH banner, a database, garbage). */
export const NOT_HTTP = 'not an HTTP server (the answer is not HTTP/1.1)';

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string }; errors?: Array<{ code?: string }> };
  return e?.code ?? e?.cause?.code ?? e?.errors?.[0]?.code;
}

function isParserError(err: unknown): boolean {
  const e = err as { name?: string; cause?: { name?: string }; code?: string };
  return e?.name === 'HTTPParserError' || e?.cause?.name === 'HTTPParserError' || (typeof e?.code === 'string' && e.code.startsWith('HPE_'));
}

/** Why a request never got an answer, in words, or undefined when it is not a network failure. */
export function describeNetworkFailure(err: unknown, timeoutMs: number): string | undefined {
  if (isParserError(err)) return NOT_HTTP;
  const code = errorCode(err);
  if (code === undefined) return undefined;
  if (code === 'ECONNREFUSED') return 'connection refused (is the server running on that port?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'DNS lookup failed: host not found';
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return `connect timed out after ${timeoutMs} ms`;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `timed out: no response within ${timeoutMs} ms`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return 'connection reset by the server';
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return 'the server closed the connection before the whole body arrived';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable';
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL')) {
    return `TLS error ${code}: ${(err as Error).message || (err as { cause?: Error }).cause?.message || ''}`.trim();
  }
  return undefined;
}

export function toUnreachable(err: unknown, host: string, timeoutMs: number): UnreachableError | undefined {
  const cause = describeNetworkFailure(err, timeoutMs);
  return cause === undefined ? undefined : new UnreachableError(host, cause, { cause: err });
}
