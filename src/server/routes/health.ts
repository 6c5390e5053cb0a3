import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ProbeResult } from '../health-probe.js';
import type { RouteContext } from './context.js';

export function healthRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const base = () => ({ version: ctx.version, uptime_s: Math.round((performance.now() - ctx.startedAt) / 100) / 10 });
  // Log a failing probe once per change of state, not once per /health request.
  let lastWritable = true;
  const probe = async (log: FastifyBaseLogger): Promise<ProbeResult> => {
    const result = await ctx.health.check();
    if (result.writable !== lastWritable) {
      lastWritable = result.writable;
      if (result.error) log.error({ err: result.error }, 'health probe: the database cannot be written');
      else log.info('health probe: the database can be written again');
    }
    return result;
  };

  app.get('/health', async (request, reply) => {
    const { writable } = await probe(request.log);
    reply.code(writable ? 200 : 503);
    return { status: writable ? 'ok' : 'degraded', ...base() };
  });

  app.get('/health/detailed', async (request, reply) => {
    const { writable } = await probe(request.log);
    reply.code(writable ? 200 : 503);
    return {
      status: writable ? 'ok' : 'degraded',
      ...base(),
      components: {
        database: writable ? 'ok' : 'error',
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
