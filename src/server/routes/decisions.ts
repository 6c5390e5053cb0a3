import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { requireKey } from '../auth.js';
import { ServerErrors } from '../errors.js';
import { findForbiddenFields } from '../forbidden-fields.js';
import type { RateLimitVerdict } from '../rate-limit.js';
import { decide, readFlags } from '../scoring.js';
import type { RouteContext } from './context.js';

declare module 'fastify' {
  interface FastifyRequest {
    rateLimit?: RateLimitVerdict;
  }
}

interface CheckBody {
  model: string;
  operation: string;
  metadata?: Record<string, unknown> | null;
}

const checkSchema = {
  body: {
    type: 'object',
    required: ['model', 'operation'],
    properties: {
      model: { type: 'string', minLength: 1, maxLength: 200 },
      operation: { type: 'string', minLength: 1, maxLength: 200 },
      metadata: { type: ['object', 'null'] },
    },
  },
  // A compiled serializer: cheaper than JSON.stringify on the hottest route.
  response: {
    200: {
      type: 'object',
      required: ['allowed', 'risk_score', 'reason', 'decision_id'],
      properties: {
        allowed: { type: 'boolean' },
        risk_score: { type: 'integer' },
        reason: { type: 'string' },
        decision_id: { type: 'string' },
      },
    },
  },
} as const;

export function decisionRoutes(app: FastifyInstance, ctx: RouteContext): void {
  // Exact, so a 1.5 s window is not announced as "2 seconds" (nor 300 ms as "0 seconds").
  const windowSeconds = ctx.limiter.windowMs / 1000;

  // Authentication comes first, then the limit: a request rejected later (400, 422) still counts.
  // Callback hooks, not async ones: they are on every decision's path and do no I/O.
  const limit = (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const verdict = ctx.limiter.hit(request.apiKey!.keyId);
    request.rateLimit = verdict;
    if (verdict.allowed) return done();
    ctx.metrics.rateLimited();
    done(ServerErrors.rateLimited(verdict.limit, windowSeconds, verdict.retryAfter));
  };
  const rejectContent = (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const fields = findForbiddenFields(request.body);
    done(fields.length > 0 ? ServerErrors.forbiddenFields(fields) : undefined);
  };
  const onRequest = [requireKey(ctx.state, 'user'), limit];
  // Logged once per change of state, not once per refused decision (a full disk refuses them all).
  let auditFailing = false;

  app.post<{ Body: CheckBody }>(
    '/v1/check',
    { onRequest, preValidation: rejectContent, schema: checkSchema },
    async (request, reply: FastifyReply) => {
      const { model, operation } = request.body;
      const flags = readFlags(request.body.metadata ?? undefined);
      const decision = decide(flags, ctx.state.policies.forScoring());
      const decisionId = randomUUID();
      const key = request.apiKey!;
      try {
        await ctx.state.writer.append(
          {
            id: decisionId,
            timestamp: new Date().toISOString(),
            key_id: key.keyId,
            api_key_name: key.name,
            model,
            operation,
            flags: JSON.stringify(flags),
            allowed: decision.allowed,
            risk_score: decision.risk_score,
            reason: decision.reason,
            latency_ms: Math.round(reply.elapsedTime * 1000) / 1000,
          },
          decision.violated,
        );
      } catch (err) {
        if (!auditFailing) {
          auditFailing = true;
          request.log.error({ err }, 'audit log commit failed: decisions are refused with 503 until it can be written');
        }
        throw ServerErrors.auditUnavailable();
      }
      if (auditFailing) {
        auditFailing = false;
        request.log.info('audit log commits again: decisions are answered');
      }
      ctx.metrics.observeDecision(model, operation, decision.allowed, decision.reason);
      return { allowed: decision.allowed, risk_score: decision.risk_score, reason: decision.reason, decision_id: decisionId };
    },
  );

  app.post('/api/evaluate', { onRequest, preValidation: rejectContent }, async (request) => {
    const key = request.apiKey!;
    return { status: 'ok', customer_id: key.customerId, key_id: key.keyId, message: 'API key verified successfully' };
  });
}
