import type { Readable } from 'node:stream';
import { ServerError } from '../core/errors.js';

/** An answer bigger than govctl reads into memory: a governance API answer is far smaller. */
export class ResponseTooLargeError extends ServerError {
  constructor(status: number, host: string, route: string, limit: number) {
    super(status, `${host} sent more than ${humanLimit(limit)} in answer to ${route}; govctl stopped reading there`, {
      hint: 'no governance API answer is that large: check that --url names a governance server',
    });
  }
}

function humanLimit(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

/**
 * Reads a whole body as UTF-8, refusing (and dropping the connection) past `limit` bytes, so a
 * huge or endless answer costs at most `limit` of memory. A Content-Length over the limit is
 * refused before a byte is read.
 */
export async function readLimited(
  body: Readable,
  limit: number,
  declaredLength: string | string[] | undefined,
  tooLarge: () => Error,
): Promise<string> {
  // Dropping the body makes undici emit an abort error; it is ours, not an unhandled one.
  const drop = () => {
    body.on('error', () => undefined);
    body.destroy();
  };
  const declared = Number(Array.isArray(declaredLength) ? declaredLength[0] : declaredLength);
  if (Number.isFinite(declared) && declared > limit) {
    drop();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      drop();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
