import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Longest model or operation label value; longer names are cut and marked with "~". */
export const MAX_LABEL_LENGTH = 64;

/**
 * A client-chosen name made safe for the unauthenticated /metrics page: control characters
 * (C0 incl. NUL, DEL, C1) become "?", lone surrogates are repaired, and the length is bounded.
 */
export function labelValue(name: string): string {
  const clean = name
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  const chars = [...clean];
  return chars.length <= MAX_LABEL_LENGTH ? clean : `${chars.slice(0, MAX_LABEL_LENGTH - 1).join('')}~`;
}

/** Keeps a label's distinct values bounded: past `max` values, new ones read as "other". */
class BoundedLabel {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}
  value(v: string): string {
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.max) return 'other';
    this.seen.add(v);
    return v;
  }
}

const KNOWN_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/**
 * The server's Prometheus metrics, named as the original implementation names them so existing
 * dashboards keep working. One registry per server instance; every label is bounded: endpoints
 * are route patterns, and client-chosen model and operation names are capped.
 *
 * The model and operation labels are kept (the contract names them, and dashboards split
 * decisions by model): they name a deployment's vocabulary, not a request, so they are not the
 * per-request values the design forbids. Because a client picks them and /metrics is public,
 * each value is sanitised and bounded in length, and at most 100 distinct values per label are
 * kept (later ones count as "other").
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requests;
  private readonly latency;
  private readonly allowed;
  private readonly blocked;
  private readonly rateLimitHits;
  private readonly logsWritten;
  private readonly models = new BoundedLabel(100);
  private readonly operations = new BoundedLabel(100);

  constructor(activeKeys: () => number) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'requests_total',
      help: 'HTTP requests by method, route and status.',
      labelNames: ['method', 'endpoint', 'status'] as const,
      registers,
    });
    this.latency = new Histogram({
      name: 'request_latency_ms',
      help: 'Request latency in milliseconds by route.',
      labelNames: ['endpoint'] as const,
      buckets: [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
      registers,
    });
    this.allowed = new Counter({
      name: 'governance_allowed_total',
      help: 'Operations allowed by the governance check.',
      labelNames: ['model', 'operation'] as const,
      registers,
    });
    this.blocked = new Counter({
      name: 'governance_blocked_total',
      help: 'Operations blocked by the governance check.',
      labelNames: ['model', 'operation', 'reason'] as const,
      registers,
    });
    this.rateLimitHits = new Counter({ name: 'rate_limit_hits_total', help: 'Requests refused by the rate limiter.', registers });
    this.logsWritten = new Counter({ name: 'logs_written_total', help: 'Usage log rows committed.', registers });
    new Gauge({
      name: 'active_api_keys',
      help: 'API keys currently active.',
      registers,
      collect() {
        this.set(activeKeys());
      },
    });
  }

  observeRequest(method: string, endpoint: string, status: number, ms: number): void {
    this.requests.inc({ method: KNOWN_METHODS.has(method) ? method : 'OTHER', endpoint, status: String(status) });
    this.latency.observe({ endpoint }, ms);
  }

  observeDecision(model: string, operation: string, allowed: boolean, reason: string): void {
    const labels = { model: this.models.value(labelValue(model)), operation: this.operations.value(labelValue(operation)) };
    if (allowed) this.allowed.inc(labels);
    else this.blocked.inc({ ...labels, reason });
  }

  rateLimited(): void {
    this.rateLimitHits.inc();
  }

  logsCommitted(rows: number): void {
    if (rows > 0) this.logsWritten.inc(rows);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
