import { UnreachableError, type GovctlErrorOptions } from '../core/errors.js';
import { describeTlsFailure } from './tls-errors.js';

/**
 * A failed TLS handshake or certificate check (exit 3, like any unreachable server), said in
 * one plain line of its own: "certificate for HOST not trusted ...", not "cannot reach HOST".
 * Never worth a retry.
 */
export class TlsError extends UnreachableError {
  constructor(host: string, message: string, options?: GovctlErrorOptions) {
    super(host, message, options);
    this.message = message;
  }
}

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
  return undefined;
}

export function toUnreachable(err: unknown, host: string, timeoutMs: number): UnreachableError | undefined {
  const tls = describeTlsFailure(err, host);
  if (tls !== undefined) return new TlsError(host, tls, { cause: err });
  const cause = describeNetworkFailure(err, timeoutMs);
  return cause === undefined ? undefined : new UnreachableError(host, cause, { cause: err });
}
