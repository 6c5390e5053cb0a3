import { join } from 'node:path';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { isWellFormedApiToken, parseApiToken } from '../core/api-token.js';
import { govctlVersion } from '../core/version.js';
import { requireKey } from './auth.js';
import { BackupManager } from './backups.js';
import { HttpError, ServerErrors } from './errors.js';
import { ServerMetrics } from './metrics.js';
import { RateLimiter } from './rate-limit.js';
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
  rateLimit?: { limit: number; windowMs: number };
  /** SQLite synchronous mode for commits; "full" (default) survives power loss too. */
  sync?: SyncMode;
  /** Origins allowed by CORS; none (no CORS headers at all) unless given. */
  corsOrigins?: string[];
  /** Fastify/pino logger options; false for silence. */
  logger?: FastifyServerOptions['logger'];
  /** Token to install as the first admin key when the server has none. */
  bootstrapAdminToken?: string;
}

export interface GovernanceServer {
  app: FastifyInstance;
  state: ServerState;
  backups: BackupManager;
  /** A first admin token this start generated (none existed and none was given): show it once. */
  generatedAdminToken?: string;
  listen(host: string, port: number): Promise<string>;
  close(): Promise<void>;
}

export class BootstrapTokenError extends Error {}

/** Builds a reference governance server over the state in `dataDir`; nothing listens yet. */
export async function buildServer(options: ServerOptions): Promise<GovernanceServer> {
  if (options.bootstrapAdminToken !== undefined && !isWellFormedApiToken(options.bootstrapAdminToken)) {
    throw new BootstrapTokenError('the bootstrap admin key must have the form <uuid-v4>.<43-character base64url secret>');
  }
  const metricsRef: { current?: ServerMetrics } = {};
  const state = new ServerState(options.dataDir, options.sync ?? 'full', {
    onCommit: (rows) => metricsRef.current?.logsCommitted(rows),
  });
  let generatedAdminToken: string | undefined;
  if (!state.keys.hasAdmin()) {
    const issued = options.bootstrapAdminToken
      ? state.keys.create('bootstrap-admin', 'admin', 'default', parseApiToken(options.bootstrapAdminToken))
      : state.keys.create('bootstrap-admin', 'admin', 'default');
    if (!options.bootstrapAdminToken) generatedAdminToken = issued.token;
  }
  const metrics = new ServerMetrics(() => state.keys.countActive());
  metricsRef.current = metrics;
  const rate = options.rateLimit ?? { limit: 100, windowMs: 60_000 };
  const ctx: RouteContext = {
    state,
    backups: new BackupManager(state, join(options.dataDir, 'backups')),
    metrics,
    limiter: new RateLimiter(rate.limit, rate.windowMs),
    version: govctlVersion(),
    startedAt: performance.now(),
  };

  const app = Fastify({
    logger: options.logger ?? false,
    disableRequestLogging: true,
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
  });

  if (options.corsOrigins && options.corsOrigins.length > 0) {
    const { default: cors } = await import('@fastify/cors');
    await app.register(cors, { origin: options.corsOrigins });
  }

  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Cache-Control', 'no-store');
    reply.header('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    reply.header('Referrer-Policy', 'no-referrer');
    const verdict = request.rateLimit;
    if (verdict) {
      reply.header('X-RateLimit-Limit', String(verdict.limit));
      reply.header('X-RateLimit-Remaining', String(verdict.remaining));
      reply.header('X-RateLimit-Reset', String(verdict.resetAt));
    }
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime);
  });

  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    const httpError = toHttpError(err);
    if (httpError.statusCode >= 500) request.log.error({ err }, 'request failed');
    reply.code(httpError.statusCode).headers(httpError.headers);
    return { detail: httpError.detail, code: httpError.code };
  });

  app.setNotFoundHandler((_request, reply) => {
    reply.code(404);
    return { detail: 'Not Found', code: 'not_found' };
  });

  healthRoutes(app, ctx);
  decisionRoutes(app, ctx);
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

  let closed = false;
  return {
    app,
    state,
    backups: ctx.backups,
    ...(generatedAdminToken ? { generatedAdminToken } : {}),
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

/** Maps anything thrown inside a request to a response that leaks nothing internal. */
function toHttpError(err: FastifyError | HttpError): HttpError {
  if (err instanceof HttpError) return err;
  if (err.validation) return ServerErrors.validation(toFieldErrors(err.validation, err.validationContext ?? 'body'));
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return ServerErrors.bodyTooLarge(BODY_LIMIT);
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
      return new HttpError(400, 'Request body is not valid JSON', 'invalid_json');
    }
    return new HttpError(status, err.message, (err.code ?? 'bad_request').replace(/^FST_ERR_(CTP_)?/, '').toLowerCase());
  }
  return ServerErrors.internal();
}
