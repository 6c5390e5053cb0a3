import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.js';

export function healthRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const base = () => ({ version: ctx.version, uptime_s: Math.round((performance.now() - ctx.startedAt) / 100) / 10 });

  app.get('/health', async (_request, reply) => {
    const ok = ctx.state.writable();
    reply.code(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'degraded', ...base() };
  });

  app.get('/health/detailed', async (_request, reply) => {
    const ok = ctx.state.writable();
    reply.code(ok ? 200 : 503);
    return {
      status: ok ? 'ok' : 'degraded',
      ...base(),
      components: {
        database: ok ? 'ok' : 'error',
        audit_log: { pending: ctx.state.writer.pending, ...(ctx.state.writer.failure ? { error: 'last commit failed' } : {}) },
        rate_limiter: 'memory',
      },
    };
  });

  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await ctx.metrics.render();
    reply.type(contentType);
    return body;
  });
}
