import type { FastifyInstance } from 'fastify';
import { ServerErrors, type FieldError } from '../errors.js';
import type { LogQuery } from '../store/usage-log.js';
import type { RouteContext } from './context.js';

interface LogsQuerystring {
  page?: string;
  page_size?: string;
  model?: string;
  operation?: string;
  since?: string;
  until?: string;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Reads and checks the query, collecting every problem, so one 422 names them all. */
function parseQuery(q: LogsQuerystring): LogQuery {
  const errors: FieldError[] = [];
  const int = (name: 'page' | 'page_size', fallback: number, min: number, max?: number): number => {
    const raw = q[name];
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < min || (max !== undefined && value > max)) {
      const range = max === undefined ? `>= ${min}` : `from ${min} to ${max}`;
      errors.push({ loc: ['query', name], msg: `Input should be an integer ${range}`, type: 'int_range' });
    }
    return value;
  };
  const instant = (name: 'since' | 'until'): string | undefined => {
    const raw = q[name];
    if (raw === undefined) return undefined;
    const ms = ISO_8601.test(raw) ? Date.parse(raw) : NaN;
    if (Number.isNaN(ms)) {
      errors.push({ loc: ['query', name], msg: 'Input should be an ISO 8601 date or date-time', type: 'datetime_parsing' });
      return undefined;
    }
    return new Date(ms).toISOString();
  };
  const page = int('page', 1, 1);
  const pageSize = int('page_size', 20, 1, 100);
  const since = instant('since');
  const until = instant('until');
  if (q.operation !== undefined && q.operation !== 'allowed' && q.operation !== 'blocked') {
    errors.push({ loc: ['query', 'operation'], msg: 'Input should be "allowed" or "blocked"', type: 'enum' });
  }
  if (errors.length > 0) throw ServerErrors.validation(errors);
  return {
    page,
    pageSize,
    ...(q.model !== undefined ? { model: q.model } : {}),
    ...(q.operation !== undefined ? { outcome: q.operation as 'allowed' | 'blocked' } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
  };
}

export function adminLogRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Querystring: LogsQuerystring }>('/logs', async (request) => ctx.state.logs.query(parseQuery(request.query)));
}
