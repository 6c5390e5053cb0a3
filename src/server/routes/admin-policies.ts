import type { FastifyInstance } from 'fastify';
import { policyValueProblem } from '../../core/policy-values.js';
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

/** Deep enough for any real policy value; deeper ones could not be stored or serialised. */
const MAX_VALUE_DEPTH = 32;

/** The nesting depth of a JSON value, measured without recursion. */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) max = depth;
    if (max > MAX_VALUE_DEPTH) break;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return max;
}

/** A value must have its policy's own shape (scoring reads it); any value is bounded in depth. */
function checkValue(key: string, value: unknown): void {
  if (depthOf(value) > MAX_VALUE_DEPTH) {
    throw ServerErrors.validation([
      { loc: ['body', 'value'], msg: `Value should be nested at most ${MAX_VALUE_DEPTH} levels deep`, type: 'too_deep' },
    ]);
  }
  const problem = policyValueProblem(key, value);
  if (problem) throw ServerErrors.validation([{ loc: ['body', 'value', ...problem.path], msg: problem.message, type: problem.type }]);
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
