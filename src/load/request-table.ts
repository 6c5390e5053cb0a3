import { serializeRequest } from './http/request-bytes.js';
import type { ResolvedScenario } from './types.js';

/**
 * Every request the run can send, serialised once before the run starts: for each API key, each
 * scenario request and each body variant, the exact bytes that go on the wire. The hot path
 * then only picks a buffer and writes it.
 */
export interface RequestTable {
  /** bytes[key][request][variant] */
  bytes: Buffer[][][];
  /** Requests whose expectation needs the body parsed. */
  wantsBody: boolean[];
  /** Requests whose 200 is a decision the server must log. */
  audited: boolean[];
  keyCount: number;
}

export function buildRequestTable(scenario: ResolvedScenario, url: URL, tokens: readonly string[]): RequestTable {
  const host = url.host;
  const basePath = url.pathname.replace(/\/+$/, '');
  // A scenario without API-key requests still needs one row to pick from.
  const keys: Array<string | undefined> = tokens.length > 0 ? [...tokens] : [undefined];
  const bytes = keys.map((token) =>
    scenario.requests.map((request) => {
      const headers: Record<string, string> = { ...request.headers };
      if (request.auth === 'api_key' && token !== undefined) headers.authorization = `Bearer ${token}`;
      const bodies = request.bodies.length > 0 ? request.bodies : [undefined];
      return bodies.map((body) =>
        serializeRequest({
          method: request.method,
          path: `${basePath}${request.path}`,
          host,
          headers,
          ...(body !== undefined ? { body } : {}),
        }),
      );
    }),
  );
  return {
    bytes,
    wantsBody: scenario.requests.map((r) => r.expect.json !== undefined),
    audited: scenario.requests.map((r) => r.audited),
    keyCount: keys.length,
  };
}
