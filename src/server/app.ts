import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { isWellFormedApiToken, parseApiToken } from '../core/api-token.js';
import { govctlVersion } from '../core/version.js';
import { requireKey } from './auth.js';
import { BackupManager } from './backups.js';
import { AJV_OPTIONS, DecisionDesk } from './check.js';
import { HttpError, ServerErrors } from './errors.js';
import { createFastCheck, type FastCheck } from './fast-check.js';
import { HealthProbe } from './health-probe.js';
import { logAccess, prettyStream, type LogFormat } from './logging.js';
import { ServerMetrics } from './metrics.js';
import { RateLimiter, type RateLimitClock } from './rate-limit.js';
import { rateLimitHeaders, SECURITY_HEADERS } from './response-headers.js';
import { adminBackupRoutes } from './routes/admin-backups.js';
import { adminKeyRoutes } from './routes/admin-keys.js';
import { adminLogRoutes } from './routes/admin-logs.js';
import { adminPolicyRoutes } from './routes/admin-policies.js';
import type { RouteContext } from './routes/context.js';
import { decisionRoutes } from './routes/decisions.js';
import { healthRoutes } from './routes/health.js';
import type { SyncMode } from './store/database.js';
import { ServerState } from './store/state.js';
import { toFieldErrors } from './validation.js';

export const BODY_LIMIT = 1024 * 1024;

export interface ServerOptions {
  dataDir: string;
  /** Requests per window per key on the decision routes; default 100 per 60 s. */
  rateLimit?: { limit: number; windowMs: number; clock?: RateLimitClock };
  /** SQLite synchronous mode for commits; "full" (default) survives power loss too. */
  sync?: SyncMode;
  /** Origins allowed by CORS; none (no CORS headers at all) unless given. */
  corsOrigins?: string[];
  /** Fastify/pino logger options; false for silence. */
  logger?: FastifyServerOptions['logger'];
  /** "pretty": human lines (for a terminal) written to the logger's `stream` (required); default "json" lines. */
  logFormat?: LogFormat;
  /** Colour in pretty lines. */
  logColor?: boolean;
  /**
   * Token to install as the first admin key when the data dir has none (a first start). A
   * function is called only then, so a key file is never read or generated for an initialised
   * data dir.
   */
  bootstrapAdminToken?: string | (() => Promise<string | undefined>);
  /** How long a /health probe write answers for; default 1000 ms (a flood of /health is not a write flood). */
  healthProbeMaxAgeMs?: number;
  /** Connection limits against slow or idle clients; see DEFAULT_LIMITS. */
  limits?: Partial<ConnectionLimits>;
  /**
   * Serve POST /v1/check on the fast path ahead of fastify (fast-check.ts); default true. False
   * routes it through fastify like every other route: tests hold the two to the same answers.
   */
  fastPath?: boolean;
}

export interface ConnectionLimits {
  /** Time to receive a whole request, headers and body (408 after). */
  requestTimeoutMs: number;
  /** Time to receive the request headers (408 after); at most requestTimeoutMs. */
  headersTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** Open connections at most; further ones are closed at once. */
  maxConnections: number;
}

/**
 * Bounded by default, so a client dripping a body or holding sockets cannot keep the server's
 * connections forever. The keep-alive timeout is above common load-balancer idle timeouts (60 s)
 * so a balancer never reuses a connection the server is closing.
 */
export const DEFAULT_LIMITS: ConnectionLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 72_000,
  maxConnections: 1024,
};

export interface GovernanceServer {
  app: FastifyInstance;
  state: ServerState;
  backups: BackupManager;
  /** A first admin token this start generated (none existed and none was given): show it once. */
  generatedAdminToken?: string;
  /** The data dir already had an admin key: no bootstrap token was asked for or used. */
  initialised: boolean;
  listen(host: string, port: number): Promise<string>;
  close(): Promise<void>;
}

export class BootstrapTokenError extends Error {}

/** Builds a reference governance server over the state in `dataDir`; nothing listens yet. */
export async function buildServer(options: ServerOptions): Promise<GovernanceServer> {
  const badBootstrap = () => new BootstrapTokenError('the bootstrap admin key must have the form <uuid-v4>.<43-character base64url secret>');
  if (typeof options.bootstrapAdminToken === 'string' && !isWellFormedApiToken(options.bootstrapAdminToken)) throw badBootstrap();
  const limits = connectionLimits(options.limits);
  // Before the state opens: nothing to close if the pretty printer cannot load.
  const logger = options.logger ? await loggerOptions(options) : undefined;
  // Metrics read the key count from the state; the state's writer counts commits into metrics.
  const metrics = new ServerMetrics(() => state.keys.countActive());
  const state = new ServerState(options.dataDir, options.sync ?? 'full', {
    onCommit: (rows) => metrics.logsCommitted(rows),
  });
  // The audit writer thread must be up before the first decision is taken.
  await state.writer.started().catch((err: unknown) => {
    state.close();
    throw err;
  });
  let generatedAdminToken: string | undefined;
  const initialised = state.keys.hasAdmin();
  if (!initialised) {
    try {
      const given =
        typeof options.bootstrapAdminToken === 'function' ? await options.bootstrapAdminToken() : options.bootstrapAdminToken;
      if (given !== undefined && !isWellFormedApiToken(given)) throw badBootstrap();
      const issued = given
        ? state.keys.create('bootstrap-admin', 'admin', 'default', parseApiToken(given))
        : state.keys.create('bootstrap-admin', 'admin', 'default');
      if (!given) generatedAdminToken = issued.token;
    } catch (err) {
      state.close();
      throw err;
    }
  }
  const rate = options.rateLimit ?? { limit: 100, windowMs: 60_000 };
  const ctx: RouteContext = {
    state,
    backups: new BackupManager(state, join(options.dataDir, 'backups')),
    metrics,
    limiter: new RateLimiter(rate.limit, rate.windowMs, rate.clock ? { clock: rate.clock } : {}),
    health: new HealthProbe(state, options.healthProbeMaxAgeMs !== undefined ? { maxAgeMs: options.healthProbeMaxAgeMs } : {}),
    version: govctlVersion(),
    startedAt: performance.now(),
  };

  const app = Fastify({
    // Redaction is a second line of defence: no code path logs headers or bodies.
    logger: logger ? { ...logger, redact: ['req.headers.authorization', 'headers.authorization', 'body'] } : false,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks the request and header deadlines on this interval (30 s by default, which
    // would let a dripping client stay up to 30 s past its deadline).
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    ajv: { customOptions: AJV_OPTIONS },
    // Errors raised before routing and by the HTTP parser answer in the same {detail, code}
    // shape as every other error.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });

  app.server.maxConnections = limits.maxConnections;
  // Only JSON bodies are read: without this, fastify's built-in text/plain parser hands a string
  // to the routes (a 422 at best), instead of the 415 every other media type gets.
  app.removeContentTypeParser('text/plain');

  if (options.corsOrigins && options.corsOrigins.length > 0) {
    const { default: cors } = await import('@fastify/cors');
    await app.register(cors, {
      origin: options.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
      exposedHeaders: ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After', 'X-Checksum-Sha256'],
    });
  }

  // Once shutdown starts, answers close their connection: a pooled keep-alive socket would
  // otherwise hold the process open until its idle timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Callback hooks, not async ones: they run on every request and do no I/O.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (closing) reply.header('Connection', 'close');
    reply.headers(SECURITY_HEADERS);
    if (request.rateLimit) reply.headers(rateLimitHeaders(request.rateLimit));
    done(null, payload);
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime);
    logAccess(request, reply, route);
    done();
  });

  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    const httpError = toHttpError(err);
    // A 503 raised on purpose (the audit log cannot be written) is logged where it arises, once
    // per change of state: on a full disk, one line per refused request would flood the log.
    if (httpError.statusCode >= 500 && !(err instanceof HttpError && err.statusCode === 503)) request.log.error({ err }, 'request failed');
    reply.code(httpError.statusCode).headers(httpError.headers);
    return { detail: httpError.detail, code: httpError.code };
  });

  app.setNotFoundHandler((_request, reply) => {
    reply.code(404);
    return { detail: 'Not Found', code: 'not_found' };
  });

  const desk = new DecisionDesk(ctx, app.log);
  healthRoutes(app, ctx);
  decisionRoutes(app, ctx, desk);
  await app.register(
    async (admin) => {
      admin.addHook('onRequest', requireKey(state, 'admin'));
      adminKeyRoutes(admin, ctx);
      adminPolicyRoutes(admin, ctx);
      adminLogRoutes(admin, ctx);
      adminBackupRoutes(admin, ctx);
    },
    { prefix: '/api/admin' },
  );

  const cors = options.corsOrigins !== undefined && options.corsOrigins.length > 0;
  if (options.fastPath !== false && !cors) {
    const fastCheck = createFastCheck({ state, desk, metrics, log: app.log, bodyLimit: BODY_LIMIT, closing: () => closing });
    // Should another fastify version set its server up otherwise, every request takes its routes.
    if (!serveAheadOfFastify(app, fastCheck)) app.log.warn('POST /v1/check fast path not installed: fastify routes it');
  }

  let closed = false;
  return {
    app,
    state,
    backups: ctx.backups,
    ...(generatedAdminToken ? { generatedAdminToken } : {}),
    initialised,
    async listen(host, port) {
      await app.listen({ host, port });
      const address = app.server.address();
      if (address === null || typeof address === 'string') return String(address);
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `http://${shownHost}:${address.port}`;
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      state.close();
    },
  };
}

/**
 * Puts `fastCheck` in front of fastify's request handler on the server fastify created (its
 * timeouts and connection limits stay as they are); false, changing nothing, unless that server
 * has exactly one request handler. Addresses bound besides the main one (a host name with several
 * addresses) keep fastify's handler alone, which answers the same.
 */
function serveAheadOfFastify(app: FastifyInstance, fastCheck: FastCheck): boolean {
  const handlers = app.server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  if (handlers.length !== 1) return false;
  const routed = handlers[0]!;
  app.server.removeListener('request', routed);
  app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!fastCheck(req, res)) routed(req, res);
  });
  return true;
}

/** The caller's logger options, its stream turned into human lines when asked for "pretty". */
async function loggerOptions(options: ServerOptions): Promise<Exclude<FastifyServerOptions['logger'], boolean | undefined>> {
  const given = options.logger === true || !options.logger ? {} : options.logger;
  // Pretty lines need the caller's stream (the server never picks a process stream itself).
  const destination = (given as { stream?: NodeJS.WritableStream }).stream;
  if (options.logFormat !== 'pretty' || destination === undefined) return given;
  return { ...given, stream: await prettyStream(destination, options.logColor === true) };
}

function connectionLimits(given: Partial<ConnectionLimits> = {}): ConnectionLimits {
  const limits = { ...DEFAULT_LIMITS, ...given };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) throw new RangeError('headersTimeoutMs must be at most requestTimeoutMs');
  return limits;
}

/** Maps anything thrown inside a request to a response that leaks nothing internal. */
function toHttpError(err: FastifyError | HttpError): HttpError {
  if (err instanceof HttpError) return err;
  if (err.validation) return ServerErrors.validation(toFieldErrors(err.validation, err.validationContext ?? 'body'));
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return ServerErrors.bodyTooLarge(BODY_LIMIT);
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return ServerErrors.unsupportedMediaType();
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
      // Fastify's parser reports __proto__ / constructor.prototype keys the same way.
      return new HttpError(400, 'Request body is not valid JSON (or has a __proto__ or constructor.prototype key)', 'invalid_json');
    }
    return new HttpError(status, err.message, (err.code ?? 'bad_request').replace(/^FST_ERR_(CTP_)?/, '').toLowerCase());
  }
  if (isStorageFull(err)) return ServerErrors.storageFull();
  return ServerErrors.internal();
}

/** SQLite's "database or disk is full", or the file system's ENOSPC/EDQUOT (a backup's file). */
function isStorageFull(err: { code?: unknown; message?: unknown }): boolean {
  const code = typeof err.code === 'string' ? err.code : '';
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return true;
  // An error that crossed from a thread may have lost its code, never its message.
  return typeof err.message === 'string' && /database or disk is full|ENOSPC|no space left on device/i.test(err.message);
}

/** An error fastify raises before routing: bad percent-encoding, an over-long path parameter. */
function answerFrameworkError(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const httpError =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new HttpError(414, 'URL path parameter too long', 'path_parameter_too_long')
      : new HttpError(400, 'Invalid URL: malformed percent-encoding', 'bad_url');
  // These replies skip the onSend hooks, so they carry the security headers themselves.
  void reply.code(httpError.statusCode).headers(SECURITY_HEADERS).send({ detail: httpError.detail, code: httpError.code });
}

/** A request the HTTP parser refused (bad method, bad header, headers too large, timeout). */
function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail, code] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request timeout', 'request_timeout']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request header fields too large', 'header_too_large']
        : [400, 'Malformed HTTP request', 'bad_request'];
  const body = JSON.stringify({ detail, code });
  const headers = Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
