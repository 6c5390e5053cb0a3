import { OperationFailedError } from '../core/errors.js';
import { toCheckResult, toEvaluateResult, type CheckInput, type CheckResult, type EvaluateResult } from './decisions.js';
import { asBoolean, asString, readerFor, type Deviation } from './deviations.js';
import { downloadBackup, type DownloadResult } from './download.js';
import { toHealthReport, type HealthReport } from './health.js';
import { HttpClient, failFor, type HttpClientOptions, type HttpResponse, type Operation, type RequestOptions } from './http.js';
import { parsePrometheusText, type ParsedMetrics } from './prometheus.js';
import {
  toApiKey,
  toBackup,
  toLogPage,
  toPolicy,
  unwrapList,
  type ApiKeyInfo,
  type BackupInfo,
  type CreatedKey,
  type LogPage,
  type PolicyInfo,
} from './shapes.js';

export type { DownloadResult } from './download.js';
export type { HealthReport } from './health.js';
export type { Deviation } from './deviations.js';

export interface LogQuery {
  page: number;
  pageSize: number;
  model?: string;
  outcome?: 'allowed' | 'blocked';
  since?: string;
  until?: string;
  /** Only this key's entries: an extension of govctl serve; other servers may ignore it. */
  keyId?: string;
  /** Only decisions with this reason: an extension of govctl serve; other servers may ignore it. */
  reason?: string;
}

export interface VerifyResult {
  id: string;
  ok: boolean | null;
  sha256: string | null;
  integrity: string | null;
}

export interface MetricsResult extends ParsedMetrics {
  http_status: number;
  content_type: string | null;
}

const ADMIN = '/api/admin';
/** Distinct deviations kept per client: a long load run must not grow this without bound. */
const MAX_DEVIATIONS = 500;

const op = (name: string, method: string, path: string, kind: Operation['kind'] = 'item'): Operation => ({ name, method, path, kind });

/**
 * The governance API, typed. Tolerates the known differences of servers in the field without
 * inventing values: what is absent is null, and every difference is kept in `deviations`.
 */
export class GovernanceClient {
  readonly http: HttpClient;
  private readonly seen = new Map<string, Deviation & { count: number }>();

  constructor(options: HttpClientOptions) {
    this.http = new HttpClient(options);
  }

  /** The server URL, without credentials (safe to print). */
  get url(): string {
    return this.http.displayUrl;
  }

  /** Every distinct way this server's answers differed from the contract so far, with counts. */
  get deviations(): Array<Deviation & { count: number }> {
    return [...this.seen.values()];
  }

  private record(operation: Operation, found: Deviation[]): void {
    for (const d of found) {
      const entry = { operation: `${operation.method} ${operation.path}`, ...d };
      const key = `${entry.operation}\0${entry.path}\0${entry.expected}\0${entry.got}`;
      const known = this.seen.get(key);
      if (known) known.count += 1;
      else if (this.seen.size < MAX_DEVIATIONS) this.seen.set(key, { ...entry, count: 1 });
    }
  }

  /** Runs a normaliser over an answer and records its deviations under `operation`. */
  private normalise<T>(operation: Operation, read: (out: Deviation[]) => T): T {
    const out: Deviation[] = [];
    const value = read(out);
    this.record(operation, out);
    return value;
  }

  /** Sends `operation` as admin and returns the body of a 2xx answer; anything else throws. */
  private async admin(operation: Operation, options: Omit<RequestOptions, 'auth'> = {}): Promise<unknown> {
    const response = await this.http.request(operation.method, operation.path, { ...options, auth: 'admin' });
    return this.ok(operation, response);
  }

  private ok(operation: Operation, response: HttpResponse): unknown {
    if (response.status < 200 || response.status >= 300) failFor(operation, response, this.http.host);
    return response.body;
  }

  /** GET /health (or /health/detailed); a 503 "degraded" is an answer, not an error. */
  async health(detailed = false): Promise<HealthReport> {
    const path = detailed ? '/health/detailed' : '/health';
    const operation = op(detailed ? 'the detailed health check' : 'the health check', 'GET', path, 'collection');
    const response = await this.http.request('GET', path, { retry: false });
    if (response.status !== 200 && response.status !== 503) failFor(operation, response, this.http.host);
    const report = toHealthReport(response, detailed);
    this.record(operation, report.deviations);
    return report;
  }

  /** Proves the admin key works with a cheap admin read. */
  async checkAdminAccess(): Promise<void> {
    await this.admin(op('an admin request (listing policies)', 'GET', `${ADMIN}/policies`, 'collection'));
  }

  // --- decisions --------------------------------------------------------------------------

  /**
   * POST /v1/check with a user key. A 200 or a 429 (rate-limited, with its headers) is an
   * answer; anything else throws as usual.
   */
  async check(token: string, input: CheckInput): Promise<CheckResult> {
    const operation = op('a governance check', 'POST', '/v1/check', 'collection');
    const response = await this.http.request('POST', '/v1/check', { auth: { token }, body: input });
    if (response.status !== 200 && response.status !== 429) failFor(operation, response, this.http.host);
    return this.normalise(operation, (out) => toCheckResult(response, out));
  }

  /** POST /api/evaluate: verifies a key. */
  async evaluate(token: string): Promise<EvaluateResult> {
    const operation = op('verifying an API key', 'POST', '/api/evaluate', 'collection');
    const response = await this.http.request('POST', '/api/evaluate', { auth: { token } });
    if (response.status !== 200) failFor(operation, response, this.http.host);
    return this.normalise(operation, (out) => toEvaluateResult(response, out));
  }

  /**
   * GET /metrics, parsed from the Prometheus text format; the field's variant (served as JSON,
   * even as one JSON-quoted string) is read too and recorded as a deviation.
   */
  async metrics(): Promise<MetricsResult> {
    const operation = op('reading metrics', 'GET', '/metrics', 'collection');
    const response = await this.http.request('GET', '/metrics', { accept: 'text/plain;version=0.0.4, */*;q=0.5' });
    if (response.status !== 200) failFor(operation, response, this.http.host);
    const header = response.headers['content-type'];
    const contentType = (Array.isArray(header) ? header[0] : header) ?? null;
    return this.normalise(operation, (out) => {
      let text = response.text;
      if (contentType === null || !/^text\/plain/i.test(contentType)) {
        out.push({ path: 'header Content-Type', expected: 'text/plain; version=0.0.4', got: contentType ?? 'absent' });
      }
      if (typeof response.body === 'string' && response.text.trimStart().startsWith('"')) {
        text = response.body;
        out.push({ path: '$', expected: 'Prometheus text', got: 'a JSON-quoted string' });
      }
      const parsed = parsePrometheusText(text);
      for (const bad of parsed.invalid) out.push({ path: `line ${bad.line}`, expected: 'a Prometheus sample', got: bad.reason });
      return { ...parsed, http_status: response.status, content_type: contentType };
    });
  }

  // --- keys -------------------------------------------------------------------------------

  async listKeys(): Promise<ApiKeyInfo[]> {
    const operation = op('listing API keys', 'GET', `${ADMIN}/keys`, 'collection');
    const body = await this.admin(operation);
    return this.normalise(operation, (out) => unwrapList(body, 'keys', 'the key list', out).map((k, i) => toApiKey(k, `$[${i}]`, out)));
  }

  async createKey(input: { name: string; role?: 'user' | 'admin'; customerId?: string }): Promise<CreatedKey> {
    const operation = op('creating an API key', 'POST', `${ADMIN}/keys`, 'collection');
    const body = await this.admin(operation, {
      body: { name: input.name, ...(input.role ? { role: input.role } : {}), ...(input.customerId ? { customer_id: input.customerId } : {}) },
    });
    const token = tokenFrom(body, 'creating an API key');
    // The answer has no usage fields yet: only the contract's fields of a new key are checked.
    return this.normalise(operation, (out) => {
      const key = toApiKey(body, '$', []);
      const r = readerFor(body, '$', out);
      for (const field of ['id', 'key_id', 'name', 'role', 'created_at']) r.get(field, (v) => (v === undefined ? undefined : v), 'present');
      return { ...key, api_key: token };
    });
  }

  async rotateKey(keyId: string): Promise<{ old_key_id: string; key_id: string | null; api_key: string }> {
    const operation = op(`rotating API key ${keyId}`, 'POST', `${ADMIN}/keys/${encodeURIComponent(keyId)}/rotate`);
    const body = await this.admin(operation);
    const token = tokenFrom(body, 'rotating an API key');
    const keyId2 = this.normalise(operation, (out) => readerFor(body, '$', out).get('key_id', asString, 'string'));
    return { old_key_id: keyId, key_id: keyId2, api_key: token };
  }

  async revokeKey(keyId: string): Promise<void> {
    await this.admin(op(`revoking API key ${keyId}`, 'DELETE', `${ADMIN}/keys/${encodeURIComponent(keyId)}`));
  }

  // --- policies ---------------------------------------------------------------------------

  async listPolicies(): Promise<PolicyInfo[]> {
    const operation = op('listing policies', 'GET', `${ADMIN}/policies`, 'collection');
    const body = await this.admin(operation);
    return this.normalise(operation, (out) => unwrapList(body, 'policies', 'the policy list', out).map((p, i) => toPolicy(p, `$[${i}]`, out)));
  }

  async updatePolicy(idOrKey: string, changes: { enabled?: boolean; value?: unknown }): Promise<PolicyInfo> {
    const operation = op(`updating policy ${idOrKey}`, 'PATCH', `${ADMIN}/policies/${encodeURIComponent(idOrKey)}`);
    const body = await this.admin(operation, { body: changes });
    return this.normalise(operation, (out) => toPolicy(body, '$', out));
  }

  // --- logs -------------------------------------------------------------------------------

  async logs(query: LogQuery): Promise<LogPage> {
    const operation = op('reading the usage log', 'GET', `${ADMIN}/logs`, 'collection');
    const body = await this.admin(operation, {
      query: {
        page: query.page,
        page_size: query.pageSize,
        model: query.model,
        operation: query.outcome,
        since: query.since,
        until: query.until,
        key_id: query.keyId,
        reason: query.reason,
      },
    });
    return this.normalise(operation, (out) => toLogPage(body, out));
  }

  // --- backups ----------------------------------------------------------------------------

  async createBackup(compress: boolean): Promise<BackupInfo> {
    const operation = op('creating a backup', 'POST', `${ADMIN}/audit/backup`, 'collection');
    const body = await this.admin(operation, { query: { compress } });
    return this.normalise(operation, (out) => toBackup(body, '$', out));
  }

  async listBackups(): Promise<BackupInfo[]> {
    const operation = op('listing backups', 'GET', `${ADMIN}/audit/backups`, 'collection');
    const body = await this.admin(operation);
    return this.normalise(operation, (out) => unwrapList(body, 'backups', 'the backup list', out, true).map((b, i) => toBackup(b, `$.backups[${i}]`, out)));
  }

  async verifyBackup(id: string): Promise<VerifyResult> {
    const operation = op(`verifying backup ${id}`, 'POST', `${ADMIN}/audit/backups/${encodeURIComponent(id)}/verify`);
    const body = await this.admin(operation);
    return this.normalise(operation, (out) => {
      const r = readerFor(body, '$', out);
      return { id, ok: r.get('ok', asBoolean, 'boolean'), sha256: r.get('sha256', asString, 'string'), integrity: r.get('integrity', asString, 'string') };
    });
  }

  async restoreBackup(id: string): Promise<{ id: string; pre_restore_backup: string | null }> {
    const operation = op(`restoring backup ${id}`, 'POST', `${ADMIN}/audit/backups/${encodeURIComponent(id)}/restore`);
    const body = await this.admin(operation);
    return this.normalise(operation, (out) => ({ id, pre_restore_backup: readerFor(body, '$', out).get('pre_restore_backup', asString, 'string') }));
  }

  /**
   * What restoring `id` would change (govctl serve's extension GET …/restore-preview), as the
   * server said it; a server without it throws UnsupportedOperationError (its 404 or 405).
   */
  async previewRestore(id: string): Promise<Record<string, unknown>> {
    const operation = op('a dry run of a restore', 'GET', `${ADMIN}/audit/backups/${encodeURIComponent(id)}/restore-preview`, 'collection');
    const body = await this.admin(operation);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new OperationFailedError(`the server answered a dry run of restoring backup ${id} with something other than a JSON object`);
    }
    return body as Record<string, unknown>;
  }

  async deleteBackup(id: string): Promise<void> {
    await this.admin(op(`deleting backup ${id}`, 'DELETE', `${ADMIN}/audit/backups/${encodeURIComponent(id)}`));
  }

  /** Streams a backup to `dest` through a temp file, checked against its SHA-256; see download.ts. */
  downloadBackup(id: string, dest: string, expectedSha256?: string | null): Promise<DownloadResult> {
    return downloadBackup(this.http, id, dest, expectedSha256);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

function tokenFrom(body: unknown, what: string): string {
  const token = (body as Record<string, unknown> | undefined)?.['api_key'];
  if (typeof token !== 'string' || token === '') {
    throw new OperationFailedError(`the server answered ${what} without the new key's token`);
  }
  return token;
}
