import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OperationFailedError } from '../core/errors.js';
import { HttpClient, failFor, type HttpClientOptions, type HttpResponse, type Operation, type RequestOptions } from './http.js';
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

export interface LogQuery {
  page: number;
  pageSize: number;
  model?: string;
  outcome?: 'allowed' | 'blocked';
  since?: string;
  until?: string;
}

export interface VerifyResult {
  id: string;
  ok: boolean;
  sha256?: string;
  integrity?: string;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
}

const HEALTHY = new Set(['ok', 'healthy', 'pass', 'up']);
const ADMIN = '/api/admin';

const op = (name: string, method: string, path: string, kind: Operation['kind'] = 'item'): Operation => ({ name, method, path, kind });

/** The governance API, typed. Tolerates the known differences of servers in the field. */
export class GovernanceClient {
  readonly http: HttpClient;

  constructor(options: HttpClientOptions) {
    this.http = new HttpClient(options);
  }

  get url(): string {
    return this.http.baseUrl.href.replace(/\/$/, '');
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
    const body = (typeof response.body === 'object' && response.body !== null ? response.body : {}) as Record<string, unknown>;
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

  /** Proves the admin key works with a cheap admin read. */
  async checkAdminAccess(): Promise<void> {
    await this.admin(op('an admin request (listing policies)', 'GET', `${ADMIN}/policies`, 'collection'));
  }

  // --- keys -------------------------------------------------------------------------------

  async listKeys(): Promise<ApiKeyInfo[]> {
    const body = await this.admin(op('listing API keys', 'GET', `${ADMIN}/keys`, 'collection'));
    return unwrapList(body, 'keys', 'the key list').map(toApiKey);
  }

  async createKey(input: { name: string; role?: 'user' | 'admin'; customerId?: string }): Promise<CreatedKey> {
    const body = await this.admin(op('creating an API key', 'POST', `${ADMIN}/keys`, 'collection'), {
      body: { name: input.name, ...(input.role ? { role: input.role } : {}), ...(input.customerId ? { customer_id: input.customerId } : {}) },
    });
    return { ...toApiKey(body), api_key: tokenFrom(body, 'creating an API key') };
  }

  async rotateKey(keyId: string): Promise<{ old_key_id: string; key_id: string; api_key: string }> {
    const path = `${ADMIN}/keys/${encodeURIComponent(keyId)}/rotate`;
    const body = (await this.admin(op(`rotating API key ${keyId}`, 'POST', path))) as Record<string, unknown>;
    const token = tokenFrom(body, 'rotating an API key');
    return { old_key_id: keyId, key_id: typeof body['key_id'] === 'string' ? body['key_id'] : token.slice(0, token.lastIndexOf('.')), api_key: token };
  }

  async revokeKey(keyId: string): Promise<void> {
    await this.admin(op(`revoking API key ${keyId}`, 'DELETE', `${ADMIN}/keys/${encodeURIComponent(keyId)}`));
  }

  // --- policies ---------------------------------------------------------------------------

  async listPolicies(): Promise<PolicyInfo[]> {
    const body = await this.admin(op('listing policies', 'GET', `${ADMIN}/policies`, 'collection'));
    return unwrapList(body, 'policies', 'the policy list').map(toPolicy);
  }

  async updatePolicy(idOrKey: string, changes: { enabled?: boolean; value?: unknown }): Promise<PolicyInfo> {
    const path = `${ADMIN}/policies/${encodeURIComponent(idOrKey)}`;
    return toPolicy(await this.admin(op(`updating policy ${idOrKey}`, 'PATCH', path), { body: changes }));
  }

  // --- logs -------------------------------------------------------------------------------

  async logs(query: LogQuery): Promise<LogPage> {
    const body = await this.admin(op('reading the usage log', 'GET', `${ADMIN}/logs`, 'collection'), {
      query: {
        page: query.page,
        page_size: query.pageSize,
        model: query.model,
        operation: query.outcome,
        since: query.since,
        until: query.until,
      },
    });
    return toLogPage(body, query.page, query.pageSize);
  }

  // --- backups ----------------------------------------------------------------------------

  async createBackup(compress: boolean): Promise<BackupInfo> {
    return toBackup(
      await this.admin(op('creating a backup', 'POST', `${ADMIN}/audit/backup`, 'collection'), { query: { compress } }),
    );
  }

  async listBackups(): Promise<BackupInfo[]> {
    const body = await this.admin(op('listing backups', 'GET', `${ADMIN}/audit/backups`, 'collection'));
    return unwrapList(body, 'backups', 'the backup list').map(toBackup);
  }

  async verifyBackup(id: string): Promise<VerifyResult> {
    const path = `${ADMIN}/audit/backups/${encodeURIComponent(id)}/verify`;
    const body = (await this.admin(op(`verifying backup ${id}`, 'POST', path))) as Record<string, unknown>;
    return {
      id,
      ok: body['ok'] === true,
      ...(typeof body['sha256'] === 'string' ? { sha256: body['sha256'] } : {}),
      ...(typeof body['integrity'] === 'string' ? { integrity: body['integrity'] } : {}),
    };
  }

  async restoreBackup(id: string): Promise<{ id: string; pre_restore_backup?: string }> {
    const path = `${ADMIN}/audit/backups/${encodeURIComponent(id)}/restore`;
    const body = (await this.admin(op(`restoring backup ${id}`, 'POST', path))) as Record<string, unknown>;
    return { id, ...(typeof body['pre_restore_backup'] === 'string' ? { pre_restore_backup: body['pre_restore_backup'] } : {}) };
  }

  async deleteBackup(id: string): Promise<void> {
    await this.admin(op(`deleting backup ${id}`, 'DELETE', `${ADMIN}/audit/backups/${encodeURIComponent(id)}`));
  }

  /**
   * Streams a backup into a temp file beside `dest`, checks its SHA-256 against the one the
   * server recorded (and the one it sent), then renames it into place. On a mismatch the temp
   * file is removed and nothing is left at `dest`.
   */
  async downloadBackup(id: string, dest: string, expectedSha256?: string): Promise<DownloadResult> {
    const path = `${ADMIN}/audit/backups/${encodeURIComponent(id)}`;
    const operation = op(`downloading backup ${id}`, 'GET', path);
    const temp = join(dirname(dest), `.${basename(dest)}.${randomBytes(4).toString('hex')}.partial`);
    const hash = createHash('sha256');
    let bytes = 0;
    const result = await this.http.stream('GET', path, { auth: 'admin' }, async (response) => {
      const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      try {
        await pipeline(response.body, counter, createWriteStream(temp, { mode: 0o600, flags: 'wx' }));
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
      const header = response.headers['x-checksum-sha256'];
      return typeof header === 'string' ? header : undefined;
    });
    if (!result.ok) failFor(operation, result.response, this.http.host);
    const sha256 = hash.digest('hex');
    const claims = [expectedSha256, result.value].filter((s): s is string => s !== undefined);
    const mismatch = claims.find((claim) => claim.toLowerCase() !== sha256);
    if (mismatch !== undefined) {
      await rm(temp, { force: true });
      throw new OperationFailedError(
        `backup ${id} failed its checksum: the server recorded ${mismatch}, the downloaded bytes hash to ${sha256}; nothing was saved`,
      );
    }
    if (claims.length === 0) {
      await rm(temp, { force: true });
      throw new OperationFailedError(`backup ${id} came with no SHA-256 to check it against; nothing was saved`);
    }
    await rename(temp, dest);
    return { path: dest, bytes, sha256 };
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
