import type { FastifyInstance } from 'fastify';
import { ServerErrors } from '../errors.js';
import type { RouteContext } from './context.js';

const patchSchema = {
  body: {
    type: 'object',
    minProperties: 1,
    additionalProperties: false,
    properties: {
      enabled: { type: 'boolean' },
      value: {},
    },
  },
} as const;

/** Values that scoring reads must have the shape it reads; others are free-form. */
function checkValue(key: string, value: unknown): void {
  if (key !== 'max_risk_score') return;
  const max = (value as { max?: unknown } | null)?.max;
  if (value === null || typeof value !== 'object' || Array.isArray(value) || typeof max !== 'number' || !Number.isInteger(max) || max < 0) {
    throw ServerErrors.validation([
      { loc: ['body', 'value', 'max'], msg: 'max_risk_score needs {"max": <integer >= 0>}', type: 'value_error' },
    ]);
  }
}

export function adminPolicyRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { policies } = ctx.state;

  app.get('/policies', async () => policies.list());

  app.patch<{ Params: { id: string }; Body: { enabled?: boolean; value?: unknown } }>(
    '/policies/:id',
    { schema: patchSchema },
    async (request) => {
      const policy = policies.find(request.params.id);
      if (!policy) throw ServerErrors.notFound(`Policy ${request.params.id} not found`);
      if ('value' in request.body) checkValue(policy.key, request.body.value);
      return policies.set(policy, request.body);
    },
  );
}
