import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { requireKey } from '../auth.js';
import { CHECK_ANSWER_SCHEMA, CHECK_BODY_SCHEMA, type CheckBody, type DecisionDesk } from '../check.js';
import { ServerErrors } from '../errors.js';
import { findForbiddenFields } from '../forbidden-fields.js';
import type { RateLimitVerdict } from '../rate-limit.js';
import type { RouteContext } from './context.js';

declare module 'fastify' {
  interface FastifyRequest {
    rateLimit?: RateLimitVerdict;
  }
}

const checkSchema = {
  body: CHECK_BODY_SCHEMA,
  // A compiled serializer: cheaper than JSON.stringify.
  response: { 200: CHECK_ANSWER_SCHEMA },
} as const;

/**
 * The decision routes. POST /v1/check is normally answered by the fast path (fast-check.ts)
 * before fastify routes it; this route answers what the fast path hands on (CORS, shutdown,
 * bodies it does not read itself) and must behave the same.
 */
export function decisionRoutes(app: FastifyInstance, ctx: RouteContext, desk: DecisionDesk): void {
  // Authentication comes first, then the limit: a request rejected later (400, 422) still counts.
  // Callback hooks, not async ones: they are on every decision's path and do no I/O.
  const limit = (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const { verdict, refusal } = desk.hitRateLimit(request.apiKey!.keyId);
    request.rateLimit = verdict;
    done(refusal);
  };
  const rejectContent = (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const fields = findForbiddenFields(request.body);
    done(fields.length > 0 ? ServerErrors.forbiddenFields(fields) : undefined);
  };
  const onRequest = [requireKey(ctx.state, 'user'), limit];

  app.post<{ Body: CheckBody }>('/v1/check', { onRequest, preValidation: rejectContent, schema: checkSchema }, (request, reply) =>
    desk.check(request.apiKey!, request.body, reply.elapsedTime),
  );

  app.post('/api/evaluate', { onRequest, preValidation: rejectContent }, async (request) => {
    const key = request.apiKey!;
    return { status: 'ok', customer_id: key.customerId, key_id: key.keyId, message: 'API key verified successfully' };
  });
}
