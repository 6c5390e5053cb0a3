import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * How the server logs. JSON lines (one object a line, for collectors) unless asked for `pretty`:
 * human lines for a terminal. Either way pino redacts, and no code path logs a header or body.
 */
export type LogFormat = 'json' | 'pretty';

/** The access line's fields: shown as its message in pretty lines, kept as fields in JSON. */
const ACCESS_FIELDS = ['method', 'path', 'route', 'status', 'ms', 'key_id'];

/** Levels at which info lines are off: no access line is even built. */
const QUIET_LEVELS = new Set(['fatal', 'error', 'warn', 'silent']);

/** Longest request path an access line shows; a longer one is cut (a log line is not a dump). */
const MAX_PATH = 200;

/**
 * A stream that writes pino's JSON lines to `destination` as human lines ("12:00:01.123 INFO:
 * GET /health 200 1.2 ms"). Synchronous, so no line is lost when the process exits, and it never
 * ends `destination` (stderr). pino-pretty is loaded only then (it takes ~150 ms to load).
 */
export async function prettyStream(destination: NodeJS.WritableStream, colorize: boolean): Promise<{ write(line: string): void }> {
  const { prettyFactory } = await import('pino-pretty');
  const pretty = prettyFactory({
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: ['pid', 'hostname', 'reqId', ...ACCESS_FIELDS].join(','),
    singleLine: true,
  });
  return {
    write(line: string) {
      destination.write(pretty(line));
    },
  };
}

/**
 * One access line per request, at info: method, path without the query (it may carry filters
 * or a caller's mistakes), status and time; the key id, never the key. Never a header or body.
 */
export function logAccess(request: FastifyRequest, reply: FastifyReply, route: string): void {
  if (QUIET_LEVELS.has(request.log.level)) return;
  const query = request.url.indexOf('?');
  const full = query === -1 ? request.url : request.url.slice(0, query);
  const path = full.length > MAX_PATH ? `${full.slice(0, MAX_PATH)}…` : full;
  const ms = Math.round(reply.elapsedTime * 10) / 10;
  request.log.info(
    { method: request.method, path, route, status: reply.statusCode, ms, ...(request.apiKey ? { key_id: request.apiKey.keyId } : {}) },
    `${request.method} ${path} ${reply.statusCode} ${ms} ms`,
  );
}

/** True for an address only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(bare);
}
