import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';

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

/** What an access line tells: the request's method and path, its route, status and time. */
export interface AccessEntry {
  method: string;
  /** The request target as received; the query is cut off here. */
  url: string;
  route: string;
  status: number;
  ms: number;
  keyId?: string | undefined;
  /** Fastify's request loggers add their own reqId; requests served outside fastify bring theirs. */
  reqId?: string;
}

/**
 * One access line per request, at info: method, path without the query (it may carry filters
 * or a caller's mistakes), status and time; the key id, never the key. Never a header or body.
 */
export function logAccess(request: FastifyRequest, reply: FastifyReply, route: string): void {
  logAccessEntry(request.log, {
    method: request.method,
    url: request.url,
    route,
    status: reply.statusCode,
    ms: reply.elapsedTime,
    keyId: request.apiKey?.keyId,
  });
}

/** The access line from plain fields: also for requests served outside fastify (the decision fast path). */
export function logAccessEntry(log: FastifyBaseLogger, entry: AccessEntry): void {
  if (QUIET_LEVELS.has(log.level)) return;
  const query = entry.url.indexOf('?');
  const full = query === -1 ? entry.url : entry.url.slice(0, query);
  const path = full.length > MAX_PATH ? `${full.slice(0, MAX_PATH)}…` : full;
  const ms = Math.round(entry.ms * 10) / 10;
  log.info(
    {
      ...(entry.reqId ? { reqId: entry.reqId } : {}),
      method: entry.method,
      path,
      route: entry.route,
      status: entry.status,
      ms,
      ...(entry.keyId ? { key_id: entry.keyId } : {}),
    },
    `${entry.method} ${path} ${entry.status} ${ms} ms`,
  );
}

/** True for an address only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(bare);
}
