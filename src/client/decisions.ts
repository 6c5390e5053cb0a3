import { asBoolean, asNumber, asString, readerFor, type Deviation } from './deviations.js';
import type { HttpResponse } from './http.js';

/** The rate-limit headers of a decision answer; null where the server sent none (field servers may not). */
export interface RateLimitInfo {
  limit: number | null;
  remaining: number | null;
  /** Epoch seconds when the window resets. */
  reset: number | null;
  /** Seconds, from Retry-After. */
  retry_after: number | null;
}

export interface CheckInput {
  model: string;
  operation: string;
  metadata?: Record<string, unknown>;
}

export interface CheckResult {
  allowed: boolean | null;
  risk_score: number | null;
  reason: string | null;
  decision_id: string | null;
  rate_limit: RateLimitInfo;
  http_status: number;
  latency_ms: number;
}

export interface EvaluateResult {
  status: string | null;
  customer_id: string | null;
  key_id: string | null;
  message: string | null;
  rate_limit: RateLimitInfo;
  http_status: number;
}

function header(response: HttpResponse, name: string): number | null {
  const raw = response.headers[name];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(text)) return null;
  return Number(text);
}

/** X-RateLimit-* and Retry-After, recording their absence where the contract promises them. */
export function rateLimitOf(response: HttpResponse, out: Deviation[]): RateLimitInfo {
  const info: RateLimitInfo = {
    limit: header(response, 'x-ratelimit-limit'),
    remaining: header(response, 'x-ratelimit-remaining'),
    reset: header(response, 'x-ratelimit-reset'),
    retry_after: header(response, 'retry-after'),
  };
  // A 401/403 has no key to count: the contract sends the headers on every other answer.
  if (response.status !== 401 && response.status !== 403) {
    for (const [name, value] of [['X-RateLimit-Limit', info.limit], ['X-RateLimit-Remaining', info.remaining], ['X-RateLimit-Reset', info.reset]] as const) {
      if (value === null) out.push({ path: `header ${name}`, expected: 'an integer', got: 'absent' });
    }
  }
  if (response.status === 429 && info.retry_after === null) out.push({ path: 'header Retry-After', expected: 'seconds', got: 'absent' });
  return info;
}

export function toCheckResult(response: HttpResponse, out: Deviation[]): CheckResult {
  const r = readerFor(response.body, '$', out);
  return {
    allowed: r.get('allowed', asBoolean, 'boolean'),
    risk_score: r.get('risk_score', asNumber, 'integer'),
    reason: r.get('reason', asString, 'string'),
    decision_id: r.get('decision_id', asString, 'string (uuid)'),
    rate_limit: rateLimitOf(response, out),
    http_status: response.status,
    latency_ms: Math.round(response.ms * 100) / 100,
  };
}

export function toEvaluateResult(response: HttpResponse, out: Deviation[]): EvaluateResult {
  const r = readerFor(response.body, '$', out);
  return {
    status: r.get('status', asString, 'string'),
    customer_id: r.get('customer_id', asString, 'string or null', { nullable: true }),
    key_id: r.get('key_id', asString, 'string'),
    message: r.get('message', asString, 'string'),
    rate_limit: rateLimitOf(response, out),
    http_status: response.status,
  };
}
