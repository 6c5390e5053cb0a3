import type { IncomingMessage, ServerResponse } from 'node:http';
import { Ajv } from 'ajv';
import type { FastifyBaseLogger } from 'fastify';
import { parse as secureJsonParse } from 'secure-json-parse';
import { authenticate, type AuthenticatedKey } from './auth.js';
import { AJV_OPTIONS, CHECK_BODY_SCHEMA, type CheckBody, type DecisionDesk } from './check.js';
import { HttpError, ServerErrors } from './errors.js';
import { findForbiddenFields } from './forbidden-fields.js';
import { logAccessEntry } from './logging.js';
import type { ServerMetrics } from './metrics.js';
import type { RateLimitVerdict } from './rate-limit.js';
import { rateLimitHeaders, SECURITY_HEADERS } from './response-headers.js';
import type { ServerState } from './store/state.js';
import { toFieldErrors } from './validation.js';

export interface FastCheckOptions {
  state: ServerState;
  desk: DecisionDesk;
  metrics: ServerMetrics;
  log: FastifyBaseLogger;
  bodyLimit: number;
  /** True once shutdown has begun: fastify answers from then on (503s, Connection: close). */
  closing: () => boolean;
}

/** Takes the request (true) or leaves it to fastify (false, nothing read or answered). */
export type FastCheck = (req: IncomingMessage, res: ServerResponse) => boolean;

const ROUTE = '/v1/check';
/** Fastify's own JSON parser settings (onProtoPoisoning / onConstructorPoisoning "error"). */
const PARSE_OPTIONS = { protoAction: 'error', constructorAction: 'error' } as const;
/** Fastify's answer to a body that does not parse (toHttpError in app.ts). */
const invalidJson = () =>
  new HttpError(400, 'Request body is not valid JSON (or has a __proto__ or constructor.prototype key)', 'invalid_json');
/** Content types the fast path reads; any other goes to fastify, which parses or refuses it. */
const JSON_TYPES = new Set(['application/json', 'application/json; charset=utf-8']);
const CONSTANT_HEADERS = ['Content-Type', 'application/json; charset=utf-8', ...Object.entries(SECURITY_HEADERS).flat()];

/**
 * POST /v1/check served straight from node's HTTP server, ahead of fastify: the hottest route,
 * where fastify's per-request machinery (request/reply objects, hooks, async resources) cost
 * about half the request thread's time and with it the tail latency under load. It answers
 * exactly as the fastify route does (decisions.ts): the same authentication, rate limit,
 * parser, forbidden-field check, schema, decision desk, errors, headers, metrics and access
 * line; test/server/fast-check.test.ts holds both paths to the same answers. What it does not
 * read itself goes to fastify untouched: other routes and methods, shutdown, CORS (it is not
 * installed then), other content types, chunked or empty bodies and bodies over the limit.
 */
export function createFastCheck(options: FastCheckOptions): FastCheck {
  const { state, desk, metrics, log, bodyLimit, closing } = options;
  // Request ids of their own ("check-1", ...), beside fastify's "req-1", ...: never the same.
  let served = 0;
  // Fastify's ajv defaults (useDefaults among them) under the server's own options, as its route has.
  const validate = new Ajv({ ...AJV_OPTIONS, useDefaults: true }).compile<CheckBody>(CHECK_BODY_SCHEMA);

  const answer = (req: IncomingMessage, res: ServerResponse, started: number, reply: Reply): void => {
    const headers: string[] = [...CONSTANT_HEADERS];
    if (reply.verdict) for (const [name, value] of Object.entries(rateLimitHeaders(reply.verdict))) headers.push(name, value);
    if (reply.extraHeaders) for (const [name, value] of Object.entries(reply.extraHeaders)) headers.push(name, value);
    if (reply.close || closing()) headers.push('Connection', 'close');
    headers.push('Content-Length', String(Buffer.byteLength(reply.body)));
    res.writeHead(reply.status, headers);
    res.end(reply.body);
    const ms = performance.now() - started;
    metrics.observeRequest('POST', ROUTE, reply.status, ms);
    served += 1;
    const reqId = `check-${served.toString(36)}`;
    logAccessEntry(log, { reqId, method: 'POST', url: req.url!, route: ROUTE, status: reply.status, ms, keyId: reply.key?.keyId });
  };

  /** The reply to one request; never throws (a bug becomes a logged 500). */
  const decideReply = async (req: IncomingMessage, length: number, started: number): Promise<Reply> => {
    let key: AuthenticatedKey | undefined;
    let verdict: RateLimitVerdict | undefined;
    let close = false;
    try {
      key = authenticate(state, 'user', req.headers.authorization);
      const limited = desk.hitRateLimit(key.keyId);
      verdict = limited.verdict;
      if (limited.refusal) throw limited.refusal;
      let body: unknown;
      try {
        body = secureJsonParse(await readBody(req, length), PARSE_OPTIONS);
      } catch {
        // Fastify closes the connection after any body it could not read or parse; so does this.
        close = true;
        throw invalidJson();
      }
      const fields = findForbiddenFields(body);
      if (fields.length > 0) throw ServerErrors.forbiddenFields(fields);
      if (!validate(body)) throw ServerErrors.validation(toFieldErrors(validate.errors ?? [], 'body'));
      const decision = await desk.check(key, body, performance.now() - started);
      return { status: 200, body: JSON.stringify(decision), key, verdict };
    } catch (err) {
      if (!(err instanceof HttpError)) log.error({ err }, 'request failed');
      const httpError = err instanceof HttpError ? err : ServerErrors.internal();
      const body = JSON.stringify({ detail: httpError.detail, code: httpError.code });
      return { status: httpError.statusCode, body, key, verdict, extraHeaders: httpError.headers, close };
    }
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, length: number, started: number): Promise<void> => {
    answer(req, res, started, await decideReply(req, length, started));
  };

  return function fastCheck(req, res) {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    if (url !== ROUTE && !url.startsWith(`${ROUTE}?`)) return false;
    if (closing()) return false;
    const headers = req.headers;
    const type = headers['content-type'];
    if (type === undefined || !JSON_TYPES.has(type.toLowerCase())) return false;
    if (headers['transfer-encoding'] !== undefined) return false;
    const length = Number(headers['content-length']);
    if (!(length >= 1 && length <= bodyLimit)) return false;
    serve(req, res, length, performance.now()).catch((err: unknown) => {
      // Only a failure to write the answer gets here: the request thread must not die of it.
      log.error({ err }, 'answering a decision failed');
      res.destroy();
    });
    return true;
  };
}

interface Reply {
  status: number;
  body: string;
  key: AuthenticatedKey | undefined;
  verdict: RateLimitVerdict | undefined;
  extraHeaders?: Record<string, string>;
  close?: boolean;
}

/** The request body as UTF-8 text; rejects when the request fails or ends short of `length`. */
function readBody(req: IncomingMessage, length: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
    });
    req.on('error', reject);
    req.on('end', () => {
      if (received !== length) reject(new Error('request body shorter than its Content-Length'));
      else resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received)).toString('utf8'));
    });
  });
}
