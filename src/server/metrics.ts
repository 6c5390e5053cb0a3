import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
    const labels = { model: this.models.value(model), operation: this.operations.value(operation) };
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
