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

/** Distinct (model, operation) pairs tallied between scrapes; further ones go to prom-client directly. */
const MAX_DECISION_TALLIES = 10_000;

interface RequestTally {
  labels: { method: string; endpoint: string; status: string };
  n: number;
}

interface DecisionTally {
  labels: { model: string; operation: string };
  allowed: number;
  /** reason -> blocked decisions */
  blocked: Map<string, number>;
}

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
 *
 * Requests and decisions are counted in plain maps and added to prom-client's counters when
 * /metrics is read (each counter's collect): prom-client hashes the labels on every inc, which on
 * the decision path cost more than the rest of the metrics together.
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
  /** method -> endpoint -> status -> requests since the last scrape */
  private readonly requestTallies = new Map<string, Map<string, Map<number, RequestTally>>>();
  /** model -> operation -> decisions since the last scrape (raw names: sanitised once, in labels) */
  private readonly decisionTallies = new Map<string, Map<string, DecisionTally>>();
  private decisionTallyCount = 0;

  constructor(activeKeys: () => number) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'requests_total',
      help: 'HTTP requests by method, route and status.',
      labelNames: ['method', 'endpoint', 'status'] as const,
      registers,
      collect: () => {
        for (const byEndpoint of this.requestTallies.values()) {
          for (const byStatus of byEndpoint.values()) {
            for (const tally of byStatus.values()) {
              if (tally.n > 0) this.requests.inc(tally.labels, tally.n);
              tally.n = 0;
            }
          }
        }
      },
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
      collect: () => {
        for (const tally of this.decisionTallyList()) {
          if (tally.allowed > 0) this.allowed.inc(tally.labels, tally.allowed);
          tally.allowed = 0;
        }
      },
    });
    this.blocked = new Counter({
      name: 'governance_blocked_total',
      help: 'Operations blocked by the governance check.',
      labelNames: ['model', 'operation', 'reason'] as const,
      registers,
      collect: () => {
        for (const tally of this.decisionTallyList()) {
          for (const [reason, n] of tally.blocked) this.blocked.inc({ ...tally.labels, reason }, n);
          tally.blocked.clear();
        }
      },
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

  /** `endpoint` is a route pattern (bounded), never a request's path. */
  observeRequest(method: string, endpoint: string, status: number, ms: number): void {
    const m = KNOWN_METHODS.has(method) ? method : 'OTHER';
    let byEndpoint = this.requestTallies.get(m);
    if (!byEndpoint) this.requestTallies.set(m, (byEndpoint = new Map()));
    let byStatus = byEndpoint.get(endpoint);
    if (!byStatus) byEndpoint.set(endpoint, (byStatus = new Map()));
    let tally = byStatus.get(status);
    if (!tally) byStatus.set(status, (tally = { labels: { method: m, endpoint, status: String(status) }, n: 0 }));
    tally.n += 1;
    this.latency.observe({ endpoint }, ms);
  }

  observeDecision(model: string, operation: string, allowed: boolean, reason: string): void {
    const tally = this.decisionTally(model, operation);
    if (!tally) {
      const labels = this.decisionLabels(model, operation);
      if (allowed) this.allowed.inc(labels);
      else this.blocked.inc({ ...labels, reason });
    } else if (allowed) tally.allowed += 1;
    else tally.blocked.set(reason, (tally.blocked.get(reason) ?? 0) + 1);
  }

  private decisionLabels(model: string, operation: string): DecisionTally['labels'] {
    return { model: this.models.value(labelValue(model)), operation: this.operations.value(labelValue(operation)) };
  }

  /** The pair's tally, made on first sight; undefined once MAX_DECISION_TALLIES pairs are tallied. */
  private decisionTally(model: string, operation: string): DecisionTally | undefined {
    let byOperation = this.decisionTallies.get(model);
    let tally = byOperation?.get(operation);
    if (tally || this.decisionTallyCount >= MAX_DECISION_TALLIES) return tally;
    if (!byOperation) this.decisionTallies.set(model, (byOperation = new Map()));
    tally = { labels: this.decisionLabels(model, operation), allowed: 0, blocked: new Map() };
    byOperation.set(operation, tally);
    this.decisionTallyCount += 1;
    return tally;
  }

  private *decisionTallyList(): Iterable<DecisionTally> {
    for (const byOperation of this.decisionTallies.values()) yield* byOperation.values();
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
