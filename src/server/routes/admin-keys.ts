import type { FastifyInstance } from 'fastify';
import { ServerErrors } from '../errors.js';
import type { Role } from '../store/keys.js';
import type { RouteContext } from './context.js';

const createSchema = {
  body: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 255 },
      role: { type: 'string', enum: ['user', 'admin'] },
      customer_id: { type: 'string', minLength: 1, maxLength: 255 },
    },
  },
} as const;

const keyIdParam = {
  params: { type: 'object', required: ['key_id'], properties: { key_id: { type: 'string', minLength: 1, maxLength: 100 } } },
} as const;

export function adminKeyRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { keys } = ctx.state;

  app.get('/keys', async () => keys.list());

  app.post<{ Body: { name: string; role?: Role; customer_id?: string } }>(
    '/keys',
    { schema: createSchema },
    async (request, reply) => {
      const { name, role = 'user', customer_id = 'default' } = request.body;
      const issued = keys.create(name, role, customer_id);
      reply.code(201);
      return { ...issued.key, api_key: issued.token };
    },
  );

  app.post<{ Params: { key_id: string } }>('/keys/:key_id/rotate', { schema: keyIdParam }, async (request) => {
    const { key_id } = request.params;
    const existing = keys.get(key_id);
    if (!existing) throw ServerErrors.notFound(`API key ${key_id} not found`);
    if (!existing.active) throw ServerErrors.conflict(`API key ${key_id} is inactive; only an active key can be rotated`);
    const issued = keys.rotate(key_id)!;
    return {
      status: 'rotated',
      old_key_id: key_id,
      key_id: issued.key.key_id,
      api_key: issued.token,
      message: 'API key rotated; the old key is inactive from now on',
    };
  });

  app.delete<{ Params: { key_id: string } }>('/keys/:key_id', { schema: keyIdParam }, async (request) => {
    const { key_id } = request.params;
    const existing = keys.get(key_id);
    if (!existing) throw ServerErrors.notFound(`API key ${key_id} not found`);
    const otherAdmins = keys.list().filter((k) => k.role === 'admin' && k.active && k.key_id !== key_id);
    if (existing.active && existing.role === 'admin' && otherAdmins.length === 0) {
      throw ServerErrors.conflict('Refusing to delete the last active admin key: create another admin key first');
    }
    keys.revoke(key_id);
    return { status: 'deleted', key_id };
  });
}
