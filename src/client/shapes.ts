import { ServerError } from '../core/errors.js';

/**
 * Field servers answer in slightly different shapes (contract: "known differences"). These
 * functions turn any of them into one shape, so commands never see the difference.
 */

export interface ApiKeyInfo {
  id?: number | string;
  key_id: string;
  name: string;
  role: string;
  active: boolean;
  created_at?: string;
  last_used?: string | null;
  requests_count?: number;
}

export interface CreatedKey extends ApiKeyInfo {
  /** `<key_id>.<secret>`: shown once. */
  api_key: string;
}

export interface PolicyInfo {
  id?: number | string;
  /** May be missing on field servers, which then know a policy by id only. */
  key?: string;
  name?: string;
  description?: string;
  enabled: boolean;
  value?: unknown;
  violations_count?: number;
}

export interface LogEntry {
  id: string;
  timestamp: string;
  key_id?: string;
  api_key_name?: string;
  model: string;
  operation: string;
  allowed: boolean;
  risk_score: number;
  reason: string;
  latency_ms?: number;
}

export interface LogPage {
  logs: LogEntry[];
  total: number;
  page: number;
  page_size: number;
  total_pages: number;
}

export interface BackupInfo {
  id: string;
  backup_file?: string;
  size_bytes?: number;
  sha256?: string;
  compressed?: boolean;
  created_at?: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function pick<T>(source: Json, names: string[], read: (v: unknown) => T | undefined): T | undefined {
  for (const name of names) {
    const value = read(source[name]);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** A list, whether bare or wrapped as `{"<name>": [...]}` (or items/data/results). */
export function unwrapList(body: unknown, name: string, what: string): unknown[] {
  if (Array.isArray(body)) return body;
  if (isObject(body)) {
    for (const key of [name, 'items', 'data', 'results']) {
      const value = body[key];
      if (Array.isArray(value)) return value;
    }
  }
  throw new ServerError(200, `the server answered ${what} with an unexpected shape (expected a list)`);
}

export function toApiKey(raw: unknown): ApiKeyInfo {
  const o = isObject(raw) ? raw : {};
  const activeRaw = o['active'] ?? o['is_active'];
  const lastUsed = pick(o, ['last_used', 'last_used_at'], str);
  const id = o['id'];
  const createdAt = pick(o, ['created_at', 'created'], str);
  const requests = pick(o, ['requests_count', 'request_count', 'usage_count'], num);
  return {
    ...(typeof id === 'number' || typeof id === 'string' ? { id } : {}),
    key_id: pick(o, ['key_id', 'id'], str) ?? '?',
    name: pick(o, ['name'], str) ?? '',
    role: pick(o, ['role'], str) ?? (o['is_admin'] === true ? 'admin' : 'user'),
    active: activeRaw === undefined ? true : activeRaw === true || activeRaw === 1,
    ...(createdAt !== undefined ? { created_at: createdAt } : {}),
    last_used: lastUsed ?? null,
    ...(requests !== undefined ? { requests_count: requests } : {}),
  };
}

export function toPolicy(raw: unknown): PolicyInfo {
  const o = isObject(raw) ? raw : {};
  const id = o['id'];
  const key = pick(o, ['key', 'policy_key'], str);
  const name = pick(o, ['name'], str);
  const description = pick(o, ['description'], str);
  const violations = pick(o, ['violations_count', 'violations'], num);
  return {
    ...(typeof id === 'number' || typeof id === 'string' ? { id } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(description !== undefined ? { description } : {}),
    enabled: o['enabled'] === true || o['enabled'] === 1 || o['is_enabled'] === true,
    ...('value' in o ? { value: o['value'] } : {}),
    ...(violations !== undefined ? { violations_count: violations } : {}),
  };
}

export function toLogEntry(raw: unknown): LogEntry {
  const o = isObject(raw) ? raw : {};
  const keyId = pick(o, ['key_id', 'api_key_id'], str);
  const keyName = pick(o, ['api_key_name', 'key_name'], str);
  const latency = num(o['latency_ms']);
  return {
    id: pick(o, ['id', 'decision_id'], str) ?? '?',
    timestamp: pick(o, ['timestamp', 'created_at'], str) ?? '',
    ...(keyId !== undefined ? { key_id: keyId } : {}),
    ...(keyName !== undefined ? { api_key_name: keyName } : {}),
    model: pick(o, ['model'], str) ?? '',
    operation: pick(o, ['operation'], str) ?? '',
    allowed: o['allowed'] === true || o['allowed'] === 1,
    risk_score: num(o['risk_score']) ?? 0,
    reason: pick(o, ['reason'], str) ?? '',
    ...(latency !== undefined ? { latency_ms: latency } : {}),
  };
}

export function toLogPage(body: unknown, page: number, pageSize: number): LogPage {
  const logs = unwrapList(body, 'logs', 'the usage log').map(toLogEntry);
  const o = isObject(body) ? body : {};
  const total = num(o['total']) ?? logs.length;
  return {
    logs,
    total,
    page: num(o['page']) ?? page,
    page_size: num(o['page_size']) ?? pageSize,
    total_pages: num(o['total_pages']) ?? Math.ceil(total / pageSize),
  };
}

export function toBackup(raw: unknown): BackupInfo {
  const o = isObject(raw) ? raw : {};
  const file = pick(o, ['backup_file', 'file', 'filename'], str);
  const size = num(o['size_bytes']);
  const sha = pick(o, ['sha256', 'checksum'], str);
  const created = pick(o, ['created_at', 'timestamp'], str);
  return {
    id: pick(o, ['id', 'backup_id'], str) ?? file ?? '?',
    ...(file !== undefined ? { backup_file: file } : {}),
    ...(size !== undefined ? { size_bytes: size } : {}),
    ...(sha !== undefined ? { sha256: sha } : {}),
    ...(typeof o['compressed'] === 'boolean' ? { compressed: o['compressed'] } : {}),
    ...(created !== undefined ? { created_at: created } : {}),
  };
}
