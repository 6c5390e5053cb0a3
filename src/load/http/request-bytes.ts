import { InvalidInputError } from '../../core/errors.js';
import { govctlVersion } from '../../core/version.js';

/**
 * Pre-serialised HTTP/1.1 requests: the load engine builds each request's bytes once (per body
 * variant and key) and writes the same Buffer again and again, so the hot path does no string
 * work at all.
 */

export interface RequestSpec {
  method: string;
  /** Path and query, starting with "/". */
  path: string;
  /** The Host header: `url.host` of the target (hostname plus any non-default port). */
  host: string;
  /** Extra headers (e.g. authorization); they may override content-type, user-agent and host. */
  headers: Record<string, string>;
  /** A JSON body (sent as application/json with its length); none when undefined. */
  body?: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Header values: visible latin1 characters, spaces and tabs; no CR, LF, NUL or other controls.
// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]|[^\x00-\xff]/;
// A request target: visible ASCII only (no spaces, no controls); non-ASCII must be percent-encoded.
const TARGET = /^\/[\x21-\x7e]*$/;
/** Headers that frame the message: the request path sets them, a scenario may not. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect', 'te']);

/** The full bytes of one keep-alive request. Throws InvalidInputError for what cannot go on the wire. */
export function serializeRequest(spec: RequestSpec): Buffer {
  if (!TOKEN.test(spec.method)) {
    throw new InvalidInputError(`request method "${printable(spec.method)}" is not a valid HTTP method (expected a token such as GET or POST)`);
  }
  if (!TARGET.test(spec.path)) {
    throw new InvalidInputError(
      `request path "${printable(spec.path)}" cannot be sent (expected "/" followed by visible ASCII: no spaces, CR, LF or control characters; percent-encode the rest)`,
    );
  }
  const given = new Map<string, [string, string]>();
  for (const [name, value] of Object.entries(spec.headers)) {
    if (!TOKEN.test(name)) throw new InvalidInputError(`header name "${printable(name)}" is not a valid HTTP header name`);
    const lower = name.toLowerCase();
    if (FRAMING.has(lower)) throw new InvalidInputError(`header "${name}" is set by govctl's request path and cannot be given`);
    if (typeof value !== 'string' || BAD_VALUE.test(value)) {
      // The value is not shown: it may be a credential.
      throw new InvalidInputError(`header "${name}" has a value with CR, LF or control characters (expected a single-line value)`);
    }
    given.set(lower, [name, value.trim()]);
  }
  const host = given.get('host')?.[1] ?? spec.host;
  if (BAD_VALUE.test(host) || host === '') throw new InvalidInputError(`host "${printable(host)}" cannot be sent as a Host header`);
  given.delete('host');

  let head = `${spec.method} ${spec.path} HTTP/1.1\r\nhost: ${host}\r\n`;
  if (!given.has('user-agent')) head += `user-agent: govctl/${govctlVersion()}\r\n`;
  const body = spec.body === undefined ? undefined : Buffer.from(spec.body, 'utf8');
  if (body !== undefined) {
    if (!given.has('content-type')) head += 'content-type: application/json\r\n';
    head += `content-length: ${body.length}\r\n`;
  }
  for (const [name, value] of given.values()) head += `${name}: ${value}\r\n`;
  head += 'connection: keep-alive\r\n\r\n';

  const headBytes = Buffer.from(head, 'latin1');
  return body === undefined || body.length === 0 ? headBytes : Buffer.concat([headBytes, body]);
}

/** True for request bytes of a HEAD request (its response has no body whatever its headers say). */
export function isHeadRequest(bytes: Buffer): boolean {
  return bytes.length > 5 && bytes[0] === 0x48 && bytes[1] === 0x45 && bytes[2] === 0x41 && bytes[3] === 0x44 && bytes[4] === 0x20;
}

/** A value for an error message: control characters escaped, long values cut. */
function printable(text: string): string {
  const escaped = JSON.stringify(String(text)).slice(1, -1);
  return escaped.length > 80 ? `${escaped.slice(0, 77)}...` : escaped;
}
