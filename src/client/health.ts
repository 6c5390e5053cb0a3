import { visible } from '../core/visible-text.js';
import { asNumber, asString, describeValue, isObject, readerFor, type Deviation } from './deviations.js';
import type { HttpResponse } from './http.js';

export interface HealthReport {
  /** "ok", "healthy", "degraded", ... as the server said it; null when it said no status. */
  status: string | null;
  /** True only for HTTP 200 with a health document whose status is "ok" or "healthy". */
  healthy: boolean;
  /** Why it is not healthy, in words; null when healthy. */
  reason: string | null;
  http_status: number;
  version: string | null;
  uptime_s: number | null;
  latency_ms: number;
  components?: Record<string, unknown>;
  /** How the answer differs from the contract's health document. */
  deviations: Deviation[];
}

const HEALTHY = new Set(['ok', 'healthy']);

function contentType(response: HttpResponse): string {
  const header = response.headers['content-type'];
  return (Array.isArray(header) ? header[0] : header)?.split(';')[0]?.trim() || 'no content type';
}

/**
 * Reads a /health answer (200 or 503). A 200 is healthy only when the body is a health document
 * (a JSON object) whose `status` is the string "ok" or "healthy": an HTML page, `{"status":12}`
 * or an empty body on that port is not a healthy governance server.
 */
export function toHealthReport(response: HttpResponse, detailed: boolean): HealthReport {
  const deviations: Deviation[] = [];
  const latency_ms = Math.round(response.ms * 100) / 100;
  const base = { http_status: response.status, latency_ms, deviations };
  if (!isObject(response.body)) {
    const got = response.body === undefined ? 'an empty body' : typeof response.body === 'string' ? `${contentType(response)} text` : describeValue(response.body);
    deviations.push({ path: '$', expected: 'a health document {"status": "ok", ...}', got });
    return { status: null, healthy: false, reason: `the answer is not a health document (${got})`, version: null, uptime_s: null, ...base };
  }
  const r = readerFor(response.body, '$', deviations);
  const status = r.get('status', asString, 'string "ok" or "degraded"');
  if (status !== null && !['ok', 'degraded'].includes(status)) r.note('.status', '"ok" or "degraded"', describeValue(status));
  const version = r.get('version', asString, 'string');
  const uptime_s = r.get('uptime_s', asNumber, 'number');
  const components = response.body['components'];
  if (detailed && !isObject(components)) r.note('.components', 'object', describeValue(components));
  const healthy = response.status === 200 && status !== null && HEALTHY.has(status.toLowerCase());
  let reason: string | null = null;
  if (status === null) reason = `"status" is ${describeValue(response.body['status'])}, not a string`;
  else if (!healthy) reason = `the server says "${visible(status)}" (HTTP ${response.status})`;
  return {
    status,
    healthy,
    reason,
    version,
    uptime_s,
    ...(isObject(components) ? { components } : {}),
    ...base,
  };
}
