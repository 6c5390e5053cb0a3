import type { Finding } from '../core/findings.js';
import type { ReportEnvelope } from '../core/report.js';

/**
 * The shapes the load engine's parts share: a resolved profile and scenario (what to send), the
 * engine's per-request outcome (what the recorder records), and the `govctl.load/v1` report data
 * (what the report writers, merge, thresholds, baselines and gates read). Times in reports are
 * milliseconds (floats) unless a name says otherwise; histograms are microseconds.
 */

export type LoadModel = 'closed' | 'open';

/** One stage of a profile, durations resolved to milliseconds. */
export interface StagePlan {
  duration_ms: number;
  /** Closed model: the number of virtual users (connections each sending one request at a time). */
  vus?: number;
  /** Open model: arrivals per second. */
  rate?: number;
  /** Ramp linearly from the previous stage's level (or the profile's start level) to this one. */
  ramp: boolean;
  /** A label for the step table ("50 VUs"); defaults to the level. */
  label?: string;
}

/** Analyses a profile asks for besides the basic totals. */
export type Analysis = 'steps' | 'drift' | 'memory' | 'throttling';

/** A threshold as written: the metric (optionally with a tag filter) and its k6-style expressions. */
export type ThresholdSpec = Record<string, string[]>;

export interface ResolvedProfile {
  name: string;
  /** The file it came from. */
  source: string;
  description?: string;
  model: LoadModel;
  /** The level before the first stage (a ramp starts there). */
  start: number;
  stages: StagePlan[];
  warmup_ms: number;
  /** Open model: the most connections the engine may open (like k6's maxVUs). */
  max_vus: number;
  /** API keys to provision for the run (the per-key rate limit shapes the result). */
  keys: number;
  /** Scenario name or path. */
  scenario: string;
  thresholds: ThresholdSpec;
  analyses: Analysis[];
  /** Per-request timeout. */
  timeout_ms: number;
  /** `govctl serve` flags for the embedded server (e.g. its rate limit). */
  embedded_serve_args: string[];
  /**
   * Open model, set on a segment: where in the inter-arrival interval this shard's arrivals fall
   * (0 <= phase < 1), so the shards' schedules interleave into the whole's instead of coinciding.
   */
  arrival_phase?: number;
}

/** How a request authenticates: with one of the run's API keys, or not at all. */
export type RequestAuth = 'api_key' | 'none';

/** What a response must look like to count as a success. */
export interface Expectation {
  /** Statuses that count as success. */
  status: number[];
  /** Top-level JSON fields the body must have with these values (the body is parsed only when set). */
  json?: Record<string, unknown>;
}

export interface ScenarioRequest {
  name: string;
  weight: number;
  method: string;
  /** Path and query, starting with "/". */
  path: string;
  auth: RequestAuth;
  /**
   * Pre-serialised JSON bodies, one per variant (templates already expanded with the seeded
   * generator); empty for a request without a body.
   */
  bodies: string[];
  headers: Record<string, string>;
  expect: Expectation;
  /** A 200 of this request is a decision the server must have logged (audit accounting). */
  audited: boolean;
}

export interface ResolvedScenario {
  name: string;
  source: string;
  requests: ScenarioRequest[];
}

/** Why a request did not succeed, when it did not. */
export type ErrorClass =
  | 'timeout'
  | 'refused'
  | 'reset'
  | 'server_error'
  | 'unexpected_4xx'
  | 'expectation_failed'
  | 'other';

export const ERROR_CLASSES: readonly ErrorClass[] = [
  'timeout',
  'refused',
  'reset',
  'server_error',
  'unexpected_4xx',
  'expectation_failed',
  'other',
];

/**
 * One finished request as the engine hands it to the recorder. `latencyUs` is measured from the
 * intended send time (open model: coordinated-omission corrected; closed model: equal to
 * `serviceUs`); `serviceUs` from the moment the bytes were written.
 */
export interface RequestOutcome {
  /** Index into the scenario's requests. */
  request: number;
  /** HTTP status, or 0 when no response came. */
  status: number;
  latencyUs: number;
  serviceUs: number;
  /** Undefined for a success or a throttled request. */
  error?: ErrorClass;
  /** A 429. Throttled requests are not errors. */
  throttled: boolean;
  /** For a 429: whether Retry-After was present. */
  retryAfter?: boolean;
  /** Wall-clock ms (Date.now()) when the response completed. */
  at: number;
}

/** Latency summary in milliseconds. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  stdev: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export type ErrorCounts = Record<ErrorClass, number>;

/** Counts and latency over some set of requests (the whole run, an endpoint, a stage). */
export interface Totals {
  /** Requests that were sent (succeeded, failed or throttled). */
  requests: number;
  /** Requests that met their expectation. */
  ok: number;
  errors: number;
  error_classes: ErrorCounts;
  throttled: number;
  /** 429s without Retry-After (a finding). */
  throttled_without_retry_after: number;
  /** Open model: arrivals that could not be sent on time (like k6's dropped_iterations). */
  dropped: number;
  /** Keyed by status code as a string ("200"), "0" for no response. */
  status_codes: Record<string, number>;
  duration_ms: number;
  /** Requests per second over `duration_ms`. */
  throughput_rps: number;
  /** errors / requests (0 when nothing was sent). */
  error_rate: number;
  /** From the intended send time (corrected in the open model). */
  latency_ms: LatencySummary;
  /** From the actual send time (uncorrected service time). */
  service_ms: LatencySummary;
  /** Compressed base64 HDR histograms (microseconds), for exact merges and re-analysis. */
  histograms: { latency: string; service: string };
}

/** One second of the run. */
export interface Interval {
  /** Wall-clock ms at the start of the second. */
  t: number;
  requests: number;
  errors: number;
  throttled: number;
  dropped: number;
  /** p50/p90/p99/max of `latency` in this second, ms (null when no request finished). */
  latency_ms: { p50: number; p90: number; p99: number; max: number } | null;
  /** The intended load level at that second: VUs (closed) or arrivals/s (open). */
  level: number;
  /** Compressed base64 HDR histogram of this second's latency, for merges. */
  histogram: string;
}

export interface StageResult {
  index: number;
  label: string;
  level: number;
  started_at: number;
  ended_at: number;
  totals: Omit<Totals, 'histograms'>;
  /** The stage's encoded histograms (as Totals.histograms), so merged stages get exact percentiles. */
  histograms?: Totals['histograms'];
  /** First stage where error rate > 1% or p99 over its threshold. */
  broken: boolean;
  reasons: string[];
}

export interface ResourceSample {
  /** Wall-clock ms. */
  t: number;
  cpu_pct: number;
  rss_bytes: number;
}

export type MeasuredOr<T> = ({ status: 'measured' } & T) | { status: 'not_measured'; reason: string };

export interface ThresholdResult {
  /** As written: `latency{endpoint:check_allowed}`. */
  metric: string;
  expression: string;
  /** The measured value the expression was evaluated on (null when there was nothing to measure). */
  value: number | null;
  passed: boolean;
  /** Why it failed without a value ("not measured: no requests matched endpoint:x"). */
  reason?: string;
}

export interface LoadReportData {
  profile: Omit<ResolvedProfile, 'scenario' | 'embedded_serve_args'>;
  scenario: { name: string; source: string; requests: Array<{ name: string; method: string; path: string; weight: number }> };
  options: {
    seed: number;
    segment: { index: number; count: number } | null;
    workers: number;
    tags: Record<string, string>;
  };
  /** How many API keys drove the run and where they came from (the per-key limit shapes results). */
  keys: { count: number; source: 'provisioned' | 'provided' | 'none'; revoked: boolean | null };
  /** Wall-clock ms of the measured window (after warm-up). */
  window: { started_at: number; ended_at: number; warmup_ms: number };
  totals: Totals;
  endpoints: Record<string, Totals>;
  /** "2xx", "4xx", "5xx", "none" (no response). */
  status_classes: Record<string, Totals>;
  intervals: Interval[];
  stages: StageResult[];
  breaking_point: { stage: number; label: string; level: number; reasons: string[] } | null;
  max_sustained_throughput_rps: number | null;
  drift: MeasuredOr<{
    first_tenth: { throughput_rps: number; p99_ms: number | null };
    last_tenth: { throughput_rps: number; p99_ms: number | null };
    throughput_change_pct: number | null;
    p99_change_pct: number | null;
  }> | null;
  memory: MeasuredOr<{
    source: 'metrics' | 'process';
    samples: Array<{ t: number; rss_bytes: number }>;
    slope_bytes_per_min: number;
    suspected_leak: boolean;
  }> | null;
  throttling: {
    throttled: number;
    without_retry_after: number;
    server_errors: number;
    healthy_after: boolean | null;
  } | null;
  resources: {
    client: ResourceSample[];
    target: MeasuredOr<{ samples: ResourceSample[] }>;
    /** Counter deltas from the server's /metrics between start and end, and gauges at the end. */
    metrics: MeasuredOr<{ counters: Record<string, number>; gauges: Record<string, number> }>;
  };
  /** `method`: counted by the logs API's key_id filter, or by scanning the run's window. */
  audit: MeasuredOr<{ acknowledged: number; logged: number; lost: number; method?: 'key_filter' | 'window_scan' }>;
  generator: {
    event_loop_lag_p99_ms: number;
    event_loop_lag_max_ms: number;
    /** Open model: sends more than 10 ms after their intended time because the generator was busy. */
    late_sends: number;
    client_cpu_pct_max: number;
    bottleneck: boolean;
    reasons: string[];
  };
  thresholds: ThresholdResult[];
  baseline: {
    source: string;
    regressions: Array<{ metric: string; baseline: number; current: number; change: string; limit: string }>;
    deltas: Array<{ metric: string; baseline: number | null; current: number | null; change: string }>;
    passed: boolean;
  } | null;
  /** Findings in the shared model (e.g. 429 without Retry-After). */
  findings: Finding[];
}

/** The envelope's data for `govctl.load/v1`. */
export type LoadReport = ReportEnvelope<LoadReportData>;

// ---- the request path (src/load/http/) ----

export interface HttpTargetOptions {
  /** Base URL (http or https); requests carry their own path. */
  url: URL;
  /** Per-request timeout: no complete response within it -> 'timeout' and the socket is destroyed. */
  timeoutMs: number;
  /** TLS: verify certificates unless false (the cli warns with --insecure). */
  rejectUnauthorized?: boolean;
  ca?: string;
}

/** What the engine needs to know about a response (everything else is skipped, not parsed). */
export interface RawResponse {
  status: number;
  /** A Retry-After header was present. */
  retryAfter: boolean;
  /** The body, only when the request asked for it (expectations on JSON fields). */
  body?: Buffer;
}

/**
 * Called once per request: a transport error class (timeout, refused, reset, other) or the
 * response. `sentAt` is performance.now() (ms, float) when the request's bytes were written.
 */
export type ResponseCallback = (error: ErrorClass | undefined, response: RawResponse | undefined, sentAt: number) => void;

/** One persistent keep-alive HTTP/1.1 connection that carries one request at a time. */
export interface HttpConnection {
  /** Sends pre-serialised request bytes (connecting or reconnecting first when needed). */
  request(bytes: Buffer, wantBody: boolean, callback: ResponseCallback): void;
  /** True while a request is outstanding. */
  readonly busy: boolean;
  /** Destroys the socket; an outstanding request's callback is not called. */
  close(): void;
}

