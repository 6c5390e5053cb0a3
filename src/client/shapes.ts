import { ServerError } from '../core/errors.js';
import { asBoolean, asNumber, asString, describeValue, isObject, readerFor, type Deviation, type Read } from './deviations.js';

/**
 * Field servers answer in slightly different shapes (contract: "known differences"). These
 * functions turn any of them into one shape without inventing anything: a field the server did
 * not send is null, and every difference (absent, renamed, wrong type) is pushed onto `out`.
 */

export interface ApiKeyInfo {
  id: number | string | null;
  key_id: string | null;
  name: string | null;
  role: string | null;
  active: boolean | null;
  created_at: string | null;
  last_used: string | null;
  requests_count: number | null;
  /** Extensions some servers send (the reference server does); present only when sent. */
  customer_id?: string | null;
  /** "active", "revoked" or "rotated" (reference-server extension). */
  status?: string | null;
}

export interface CreatedKey extends ApiKeyInfo {
  /** `<key_id>.<secret>`: shown once. */
  api_key: string;
}

export interface PolicyInfo {
  id: number | string | null;
  /** May be missing on field servers, which then know a policy by id only. */
  key: string | null;
  name: string | null;
  description: string | null;
  enabled: boolean | null;
  /** The policy's value; absent and null are both shown as null. */
  value: unknown;
  violations_count: number | null;
}

export interface LogEntry {
  id: string | null;
  timestamp: string | null;
  key_id: string | null;
  api_key_name: string | null;
  model: string | null;
  operation: string | null;
  allowed: boolean | null;
  risk_score: number | null;
  reason: string | null;
  latency_ms: number | null;
}

export interface LogPage {
  logs: LogEntry[];
  total: number | null;
  page: number | null;
  page_size: number | null;
  total_pages: number | null;
}

export interface BackupInfo {
  id: string | null;
  backup_file: string | null;
  size_bytes: number | null;
  sha256: string | null;
  compressed: boolean | null;
  created_at: string | null;
  /** govctl serve's extension: "manual" or "pre_restore" (a restore's safety backup); null when the server does not say. */
  kind: string | null;
}

/** Ids may be numbers or strings on field servers; either is kept as the server sent it. */
const asId: Read<number | string> = (v) => (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) ? v : undefined);
/** A string id, with a numeric one turned into its decimal text (not a made-up value). */
const asIdText: Read<string> = (v) => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);
/** SQLite-style 0/1 flags are read as booleans; the deviation is recorded by the caller. */
const asFlag: Read<boolean> = (v) => (typeof v === 'boolean' ? v : v === 1 ? true : v === 0 ? false : undefined);

/** A list, whether bare or wrapped as `{"<name>": [...]}` (or items/data/results). */
export function unwrapList(body: unknown, name: string, what: string, out: Deviation[] = [], contractWrapped = false): unknown[] {
  if (Array.isArray(body)) {
    if (contractWrapped) out.push({ path: '$', expected: `an object {"${name}": [...]}`, got: 'a bare array' });
    return body;
  }
  if (isObject(body)) {
    for (const key of [name, 'items', 'data', 'results']) {
      const value = body[key];
      if (Array.isArray(value)) {
        if (!contractWrapped || key !== name) out.push({ path: '$', expected: contractWrapped ? `an object {"${name}": [...]}` : 'an array', got: `an object {"${key}": [...]}` });
        return value;
      }
    }
  }
  throw new ServerError(200, `the server answered ${what} with an unexpected shape (expected a list, got ${describeValue(body)})`);
}

export function toApiKey(raw: unknown, path = '$', out: Deviation[] = []): ApiKeyInfo {
  const r = readerFor(raw, path, out);
  // Field servers may say is_admin instead; with neither, the role is unknown, not "user".
  const isAdmin = r.source['is_admin'];
  let role: string | null;
  if (r.source['role'] === undefined && typeof isAdmin === 'boolean') {
    role = isAdmin ? 'admin' : 'user';
    r.note('.role', 'string', 'absent; read from "is_admin"');
  } else {
    role = r.get('role', asString, 'string');
  }
  const active = r.get('active', asFlag, 'boolean', { aliases: ['is_active'] });
  if (typeof r.source['active'] === 'number') r.note('.active', 'boolean', describeValue(r.source['active']));
  return {
    id: r.get('id', asId, 'integer or string'),
    key_id: r.get('key_id', asIdText, 'string', { aliases: ['id'] }),
    name: r.get('name', asString, 'string'),
    role,
    active,
    created_at: r.get('created_at', asString, 'string (ISO 8601)', { aliases: ['created'] }),
    last_used: r.get('last_used', asString, 'string (ISO 8601) or null', { aliases: ['last_used_at'], nullable: true }),
    requests_count: r.get('requests_count', asNumber, 'integer', { aliases: ['request_count', 'usage_count'] }),
    ...('customer_id' in r.source ? { customer_id: r.get('customer_id', asString, 'string or null', { nullable: true }) } : {}),
    ...('status' in r.source ? { status: r.get('status', asString, 'string', { nullable: true }) } : {}),
  };
}

export function toPolicy(raw: unknown, path = '$', out: Deviation[] = []): PolicyInfo {
  const r = readerFor(raw, path, out);
  const enabled = r.get('enabled', asFlag, 'boolean', { aliases: ['is_enabled'] });
  if (typeof r.source['enabled'] === 'number') r.note('.enabled', 'boolean', describeValue(r.source['enabled']));
  if (!('value' in r.source)) r.note('.value', 'any JSON value or null', 'absent');
  return {
    id: r.get('id', asId, 'integer or string'),
    key: r.get('key', asString, 'string', { aliases: ['policy_key'] }),
    name: r.get('name', asString, 'string'),
    description: r.get('description', asString, 'string', { nullable: true }),
    enabled,
    value: r.source['value'] ?? null,
    violations_count: r.get('violations_count', asNumber, 'integer', { aliases: ['violations'] }),
  };
}

export function toLogEntry(raw: unknown, path = '$', out: Deviation[] = []): LogEntry {
  const r = readerFor(raw, path, out);
  const allowed = r.get('allowed', asFlag, 'boolean');
  if (typeof r.source['allowed'] === 'number') r.note('.allowed', 'boolean', describeValue(r.source['allowed']));
  return {
    id: r.get('id', asIdText, 'string (the decision_id)', { aliases: ['decision_id'] }),
    timestamp: r.get('timestamp', asString, 'string (ISO 8601)', { aliases: ['created_at'] }),
    key_id: r.get('key_id', asString, 'string', { aliases: ['api_key_id'], nullable: true }),
    api_key_name: r.get('api_key_name', asString, 'string', { aliases: ['key_name'], nullable: true }),
    model: r.get('model', asString, 'string'),
    operation: r.get('operation', asString, 'string'),
    allowed,
    risk_score: r.get('risk_score', asNumber, 'integer'),
    reason: r.get('reason', asString, 'string'),
    latency_ms: r.get('latency_ms', asNumber, 'number', { nullable: true }),
  };
}

export function toLogPage(body: unknown, out: Deviation[] = []): LogPage {
  const logs = unwrapList(body, 'logs', 'the usage log', out, true).map((entry, i) => toLogEntry(entry, `$.logs[${i}]`, out));
  const r = readerFor(isObject(body) ? body : {}, '$', isObject(body) ? out : []);
  return {
    logs,
    total: r.get('total', asNumber, 'integer'),
    page: r.get('page', asNumber, 'integer'),
    page_size: r.get('page_size', asNumber, 'integer'),
    total_pages: r.get('total_pages', asNumber, 'integer'),
  };
}

export function toBackup(raw: unknown, path = '$', out: Deviation[] = []): BackupInfo {
  const r = readerFor(raw, path, out);
  return {
    id: r.get('id', asIdText, 'string', { aliases: ['backup_id'] }),
    backup_file: r.get('backup_file', asString, 'string', { aliases: ['file', 'filename'] }),
    size_bytes: r.get('size_bytes', asNumber, 'integer'),
    sha256: r.get('sha256', asString, 'string (hex SHA-256)', { aliases: ['checksum'] }),
    compressed: r.get('compressed', asBoolean, 'boolean'),
    created_at: r.get('created_at', asString, 'string (ISO 8601)', { aliases: ['timestamp'] }),
    kind: r.get('kind', asString, 'string', { optional: true, nullable: true }),
  };
}
