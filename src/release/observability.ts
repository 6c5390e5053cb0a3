import { toHealthReport } from '../client/health.js';
import { HttpClient, type HttpResponse } from '../client/http.js';
import { parsePrometheusText, type ParsedMetrics } from '../client/prometheus.js';
import { InterruptedError, messageOf } from '../core/errors.js';
import type { ReleaseGateInputs } from '../gate/report-data.js';

/**
 * G6, observability: does the target's /metrics expose the series the governance API names
 * (../shared/governance-api.md, "Metric names"), and do its health endpoints answer?
 *
 * Decisions:
 * - A series is exposed when /metrics declares its family (`# TYPE`/`# HELP`) or has a sample of
 *   it. A labelled counter has no sample before its first increment (governance_blocked_total on a
 *   server that has blocked nothing yet): Prometheus clients declare it, and a scraper sees the
 *   metric, so declaring it is exposing it. A histogram's `_bucket`/`_sum`/`_count` are exposed
 *   when those samples exist or the family is declared `histogram`.
 * - /metrics is read as the governance client reads it: Prometheus text, and the known variant
 *   of a server that sends it as one JSON-quoted string (read as its text). Lines that are not
 *   exposition format are counted (`metrics.invalid_lines`), never guessed at; a body that is
 *   neither leaves every series missing.
 * - A health endpoint is ok when it answers 200 with a health document whose status is "ok" or
 *   "healthy" (the client's health check); a 503 "degraded" is an answer, and not ok.
 * - No answer at all from any of the three endpoints (refused, DNS, timeout, TLS) is not a
 *   measurement: `{status: 'not_measured', reason}`, never a made-up count.
 */

/** The series the governance API contract names; a histogram as its three sample series. */
export const REQUIRED_SERIES: readonly string[] = Object.freeze([
  'requests_total',
  'request_latency_ms_bucket',
  'request_latency_ms_sum',
  'request_latency_ms_count',
  'governance_allowed_total',
  'governance_blocked_total',
  'rate_limit_hits_total',
  'logs_written_total',
  'active_api_keys',
  'process_resident_memory_bytes',
  'process_cpu_seconds_total',
]);

export const HEALTH_PATHS: readonly string[] = Object.freeze(['/health', '/health/detailed']);

export interface MeasureObservabilityOptions {
  /** The target's base URL. */
  url: string;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** PEM of extra certificate authorities to trust. */
  caCert?: string;
  insecure?: boolean;
  signal?: AbortSignal;
  requiredSeries?: readonly string[];
}

/** What /metrics answered, beside the shape gates read (the release report keeps it as evidence). */
export interface MetricsEndpoint {
  status: number | null;
  content_type: string | null;
  /** "text", or "json-string" for the variant served as one JSON-quoted string. */
  format?: 'text' | 'json-string';
  samples?: number;
  invalid_lines?: number;
  error?: string;
}

type Measured = Extract<NonNullable<ReleaseGateInputs['observability']>, { status: 'measured' }>;
type NotMeasured = Extract<NonNullable<ReleaseGateInputs['observability']>, { status: 'not_measured' }>;
export type ObservabilityMeasurement = (Measured & { metrics: MetricsEndpoint }) | NotMeasured;

const HISTOGRAM_PART = /^(.+)_(bucket|sum|count)$/;

/** Whether `parsed` exposes `series` (see the decisions above). */
export function exposes(parsed: ParsedMetrics, series: string): boolean {
  if (series in parsed.families) return true;
  if (parsed.samples.some((s) => s.name === series)) return true;
  const part = HISTOGRAM_PART.exec(series);
  if (part) {
    const type = parsed.families[part[1]!]?.type;
    if (type === 'histogram' || (type === 'summary' && part[2] !== 'bucket')) return true;
  }
  return false;
}

function contentTypeOf(response: HttpResponse): string | null {
  const header = response.headers['content-type'];
  return (Array.isArray(header) ? header[0] : header) ?? null;
}

/** An answer, or the error that stood in its place; an abort by the caller ends the measurement. */
async function attempt(http: HttpClient, path: string, accept: string, signal: AbortSignal | undefined): Promise<HttpResponse | { error: string }> {
  try {
    return await http.request('GET', path, { retry: false, accept });
  } catch (err) {
    if (signal?.aborted) throw new InterruptedError(`interrupted while reading ${path}`);
    return { error: messageOf(err) };
  }
}

/** Reads /metrics and the health endpoints of `url` once; see the decisions above. */
export async function measureObservability(options: MeasureObservabilityOptions): Promise<ObservabilityMeasurement> {
  const required = [...(options.requiredSeries ?? REQUIRED_SERIES)];
  const http = new HttpClient({
    baseUrl: options.url,
    retry: { retries: 0 },
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.caCert !== undefined ? { caCert: options.caCert } : {}),
    ...(options.insecure !== undefined ? { insecure: options.insecure } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    const metricsAnswer = await attempt(http, '/metrics', 'text/plain;version=0.0.4, */*;q=0.5', options.signal);
    const healthAnswers = [];
    for (const path of HEALTH_PATHS) healthAnswers.push({ path, answer: await attempt(http, path, 'application/json', options.signal) });

    if ('error' in metricsAnswer && healthAnswers.every((h) => 'error' in h.answer)) {
      return { status: 'not_measured', reason: `no answer from ${http.displayUrl}: ${metricsAnswer.error}` };
    }

    let metrics: MetricsEndpoint;
    let parsed: ParsedMetrics | undefined;
    if ('error' in metricsAnswer) {
      metrics = { status: null, content_type: null, error: metricsAnswer.error };
    } else if (metricsAnswer.status !== 200) {
      metrics = { status: metricsAnswer.status, content_type: contentTypeOf(metricsAnswer), error: `GET /metrics answered HTTP ${metricsAnswer.status}` };
    } else {
      const quoted = typeof metricsAnswer.body === 'string' && metricsAnswer.text.trimStart().startsWith('"');
      parsed = parsePrometheusText(quoted ? (metricsAnswer.body as string) : metricsAnswer.text);
      metrics = {
        status: 200,
        content_type: contentTypeOf(metricsAnswer),
        format: quoted ? 'json-string' : 'text',
        samples: parsed.samples.length,
        invalid_lines: parsed.invalid.length,
      };
    }

    const health = healthAnswers.map(({ path, answer }) => {
      if ('error' in answer) return { path, status: null, ok: false, error: answer.error };
      const report = toHealthReport(answer, path.endsWith('/detailed'));
      return { path, status: answer.status, ok: report.healthy, ...(report.healthy ? {} : { error: report.reason ?? `HTTP ${answer.status}` }) };
    });

    return {
      status: 'measured',
      url: http.displayUrl,
      series_required: required,
      series_missing: required.filter((series) => parsed === undefined || !exposes(parsed, series)),
      health,
      metrics,
    };
  } finally {
    await http.close();
  }
}
