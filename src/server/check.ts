import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { AuthenticatedKey } from './auth.js';
import { type HttpError, ServerErrors } from './errors.js';
import { isoNow } from './iso-now.js';
import type { RateLimitVerdict } from './rate-limit.js';
import type { RouteContext } from './routes/context.js';
import { decide, readFlags, type DecisionFlags } from './scoring.js';

/** POST /v1/check's body once validated against CHECK_BODY_SCHEMA. */
export interface CheckBody {
  model: string;
  operation: string;
  metadata?: Record<string, unknown> | null;
}

export interface CheckAnswer {
  allowed: boolean;
  risk_score: number;
  reason: string;
  decision_id: string;
}

/** The one schema of POST /v1/check's body: fastify's route and the fast path compile it alike. */
export const CHECK_BODY_SCHEMA = {
  type: 'object',
  required: ['model', 'operation'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 200 },
    operation: { type: 'string', minLength: 1, maxLength: 200 },
    metadata: { type: ['object', 'null'] },
  },
} as const;

/** Ajv options of the server's validation (fastify's route and the fast path use the same). */
export const AJV_OPTIONS = { coerceTypes: false, removeAdditional: false, allErrors: true } as const;

export const CHECK_ANSWER_SCHEMA = {
  type: 'object',
  required: ['allowed', 'risk_score', 'reason', 'decision_id'],
  properties: {
    allowed: { type: 'boolean' },
    risk_score: { type: 'integer' },
    reason: { type: 'string' },
    decision_id: { type: 'string' },
  },
} as const;

/**
 * Takes decisions: scores a validated request under the policies in force, commits it to the
 * audit trail and only then answers. One per server, shared by fastify's route and the fast
 * path, so a failing audit log is logged once per change of state whichever path met it.
 */
export class DecisionDesk {
  private auditFailing = false;
  /** Exact, so a 1.5 s window is not announced as "2 seconds" (nor 300 ms as "0 seconds"). */
  private readonly windowSeconds: number;

  constructor(
    private readonly ctx: RouteContext,
    private readonly log: FastifyBaseLogger,
  ) {
    this.windowSeconds = ctx.limiter.windowMs / 1000;
  }

  /**
   * Counts a request against its key's rate limit: the verdict (announced on the response) and,
   * over the limit, the 429 to answer with.
   */
  hitRateLimit(keyId: string): { verdict: RateLimitVerdict; refusal?: HttpError } {
    const verdict = this.ctx.limiter.hit(keyId);
    if (verdict.allowed) return { verdict };
    this.ctx.metrics.rateLimited();
    return { verdict, refusal: ServerErrors.rateLimited(verdict.limit, this.windowSeconds, verdict.retryAfter) };
  }

  /** The answer to `body` from `key`, once committed; a 503 HttpError when it cannot be. */
  async check(key: AuthenticatedKey, body: CheckBody, elapsedMs: number): Promise<CheckAnswer> {
    const { model, operation } = body;
    const flags = readFlags(body.metadata ?? undefined);
    const decision = decide(flags, this.ctx.state.policies.forScoring());
    const decisionId = randomUUID();
    try {
      await this.ctx.state.writer.append(
        {
          id: decisionId,
          timestamp: isoNow(),
          key_id: key.keyId,
          api_key_name: key.name,
          model,
          operation,
          flags: flagsJson(flags),
          allowed: decision.allowed,
          risk_score: decision.risk_score,
          reason: decision.reason,
          latency_ms: Math.round(elapsedMs * 1000) / 1000,
        },
        decision.violated,
      );
    } catch (err) {
      if (!this.auditFailing) {
        this.auditFailing = true;
        this.log.error({ err }, 'audit log commit failed: decisions are refused with 503 until it can be written');
      }
      throw ServerErrors.auditUnavailable();
    }
    if (this.auditFailing) {
      this.auditFailing = false;
      this.log.info('audit log commits again: decisions are answered');
    }
    this.ctx.metrics.observeDecision(model, operation, decision.allowed, decision.reason);
    return { allowed: decision.allowed, risk_score: decision.risk_score, reason: decision.reason, decision_id: decisionId };
  }
}

/** The log row's flags column: one of four texts, built once. */
const FLAGS_JSON = [false, true].flatMap((personal) =>
  [false, true].map((external) => JSON.stringify({ contains_personal_data: personal, external_model: external })),
);

function flagsJson(flags: DecisionFlags): string {
  return FLAGS_JSON[(flags.contains_personal_data ? 2 : 0) + (flags.external_model ? 1 : 0)]!;
}
