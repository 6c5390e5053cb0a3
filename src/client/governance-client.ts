import { HttpClient, failFor, type HttpClientOptions } from './http.js';

export interface HealthReport {
  /** "ok", "healthy", "degraded", ... as the server said it. */
  status: string;
  healthy: boolean;
  http_status: number;
  version?: string;
  uptime_s?: number;
  latency_ms: number;
  components?: Record<string, unknown>;
}

const HEALTHY = new Set(['ok', 'healthy', 'pass', 'up']);

/** The governance API, typed. Tolerates the known differences of servers in the field. */
export class GovernanceClient {
  readonly http: HttpClient;

  constructor(options: HttpClientOptions) {
    this.http = new HttpClient(options);
  }

  get url(): string {
    return this.http.baseUrl.href.replace(/\/$/, '');
  }

  /** GET /health (or /health/detailed); a 503 "degraded" is an answer, not an error. */
  async health(detailed = false): Promise<HealthReport> {
    const operation = detailed ? 'the detailed health check (GET /health/detailed)' : 'the health check (GET /health)';
    const response = await this.http.request('GET', detailed ? '/health/detailed' : '/health');
    const body = (typeof response.body === 'object' && response.body !== null ? response.body : {}) as Record<string, unknown>;
    if (response.status !== 200 && response.status !== 503) failFor(operation, response, this.http.host);
    const status = typeof body['status'] === 'string' ? body['status'] : response.status === 200 ? 'ok' : 'unavailable';
    return {
      status,
      healthy: response.status === 200 && HEALTHY.has(status.toLowerCase()),
      http_status: response.status,
      ...(typeof body['version'] === 'string' ? { version: body['version'] } : {}),
      ...(typeof body['uptime_s'] === 'number' ? { uptime_s: body['uptime_s'] } : {}),
      latency_ms: Math.round(response.ms * 100) / 100,
      ...(typeof body['components'] === 'object' && body['components'] !== null
        ? { components: body['components'] as Record<string, unknown> }
        : {}),
    };
  }

  /** Proves the admin key works with a cheap admin read (GET /api/admin/policies). */
  async checkAdminAccess(): Promise<void> {
    const response = await this.http.request('GET', '/api/admin/policies', { auth: 'admin' });
    if (response.status !== 200) failFor('an admin request (GET /api/admin/policies)', response, this.http.host);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
