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
  key_id?: string;
  reason?: string;
}

const PARAMS = ['page', 'page_size', 'model', 'operation', 'since', 'until', 'key_id', 'reason'] as const;

/** A decision's reason: "ok" or a rule's reason, lower-case words joined by underscores. */
const REASON = /^[a-z][a-z0-9_]{0,63}$/;

const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Reads and checks the query, collecting every problem, so one 422 names them all. */
function parseQuery(query: LogsQuerystring): LogQuery {
  const errors: FieldError[] = [];
  // A repeated parameter arrives as an array: refuse it rather than guess which value was meant.
  const q: LogsQuerystring = {};
  for (const name of PARAMS) {
    const raw: unknown = query[name];
    if (raw === undefined) continue;
    if (typeof raw === 'string') q[name] = raw;
    else errors.push({ loc: ['query', name], msg: 'Input should be a single value', type: 'string_type' });
  }
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
    const ms = ISO_8601.test(raw) && isCalendarDate(raw) ? Date.parse(raw) : NaN;
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
  // key_id (an extension to the contract): lets a load run count its own keys' decisions.
  if (q.key_id !== undefined && (q.key_id.length < 1 || q.key_id.length > 100)) {
    errors.push({ loc: ['query', 'key_id'], msg: 'Input should be a key id of 1 to 100 characters', type: 'string_length' });
  }
  // reason (an extension to the contract): only decisions with this reason, e.g. external_model.
  if (q.reason !== undefined && !REASON.test(q.reason)) {
    errors.push({ loc: ['query', 'reason'], msg: 'Input should be a reason such as ok or external_model (a-z, 0-9, _; up to 64)', type: 'string_pattern_mismatch' });
  }
  if (errors.length > 0) throw ServerErrors.validation(errors);
  return {
    page,
    pageSize,
    ...(q.model !== undefined ? { model: q.model } : {}),
    ...(q.operation !== undefined ? { outcome: q.operation as 'allowed' | 'blocked' } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(q.key_id !== undefined ? { keyId: q.key_id } : {}),
    ...(q.reason !== undefined ? { reason: q.reason } : {}),
  };
}

/** False for dates like 2020-02-30, which Date.parse would roll over into March. */
function isCalendarDate(iso: string): boolean {
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

export function adminLogRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Querystring: LogsQuerystring }>('/logs', async (request) => ctx.state.logs.query(parseQuery(request.query)));
}
