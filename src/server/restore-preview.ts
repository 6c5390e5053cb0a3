import type Database from 'better-sqlite3';

/** One field that differs: its value now, and the value the restore would bring back. */
export interface FieldChange {
  from: unknown;
  to: unknown;
}

export interface KeySummary {
  key_id: string;
  name: string;
  role: string;
  status: 'active' | 'revoked' | 'rotated';
}

export interface PolicySummary {
  key: string;
  name: string;
  enabled: boolean;
  value: unknown;
}

export interface Changes<T> {
  would_appear: T[];
  would_disappear: T[];
  would_change: Array<T & { changes: Record<string, FieldChange> }>;
}

/** The answer of GET /api/admin/audit/backups/{id}/restore-preview (an extension to the contract). */
export interface RestorePreview {
  dry_run: true;
  id: string;
  keys: Changes<KeySummary>;
  policies: Changes<PolicySummary>;
  usage_logs: {
    /** Rows in the log now. */
    current: number;
    /** Rows the backup holds: the log after a restore. */
    in_backup: number;
    /** Rows written after the backup's newest row (after it was taken, if it has none): lost by a restore. */
    written_since_backup: number;
  };
}

interface KeyRow {
  key_id: string;
  name: string;
  role: string;
  customer_id: string;
  active: number;
  replaced_by: string | null;
}

interface PolicyRow {
  key: string;
  name: string;
  enabled: number;
  value: string | null;
}

const status = (k: KeyRow): KeySummary['status'] => (k.active === 1 ? 'active' : k.replaced_by ? 'rotated' : 'revoked');
const keySummary = (k: KeyRow): KeySummary => ({ key_id: k.key_id, name: k.name, role: k.role, status: status(k) });
const parse = (text: string | null): unknown => (text === null ? null : (JSON.parse(text) as unknown));
const policySummary = (p: PolicyRow): PolicySummary => ({ key: p.key, name: p.name, enabled: p.enabled === 1, value: parse(p.value) });

/** Items only in `after`, only in `before`, and in both with differing fields (of `fields`). */
function compare<R, T extends object>(
  before: R[],
  after: R[],
  id: (r: R) => string,
  summary: (r: R) => T,
  fields: Array<keyof T>,
): Changes<T> {
  const now = new Map(before.map((r) => [id(r), summary(r)]));
  const then = new Map(after.map((r) => [id(r), summary(r)]));
  const result: Changes<T> = { would_appear: [], would_disappear: [], would_change: [] };
  for (const [key, restored] of then) {
    const current = now.get(key);
    if (current === undefined) {
      result.would_appear.push(restored);
      continue;
    }
    const changes: Record<string, FieldChange> = {};
    for (const field of fields) {
      if (JSON.stringify(current[field]) !== JSON.stringify(restored[field])) changes[String(field)] = { from: current[field], to: restored[field] };
    }
    if (Object.keys(changes).length > 0) result.would_change.push({ ...restored, changes });
  }
  for (const [key, current] of now) if (!then.has(key)) result.would_disappear.push(current);
  return result;
}

const KEYS = 'SELECT key_id, name, role, customer_id, active, replaced_by FROM api_keys ORDER BY id';
const POLICIES = 'SELECT key, name, enabled, value FROM policies ORDER BY id';

/**
 * What replacing `live`'s state with `backup`'s would change. The revocation ledger outlives a
 * restore (see swapState), so a key revoked since the backup is shown as it would end up: inactive.
 */
export function diffStates(live: Database.Database, backup: Database.Database, backupCreatedAt: string): Omit<RestorePreview, 'dry_run' | 'id'> {
  const revoked = new Map(
    (live.prepare('SELECT key_id, replaced_by FROM key_revocations').all() as Array<{ key_id: string; replaced_by: string | null }>).map((r) => [r.key_id, r.replaced_by]),
  );
  const restoredKeys = (backup.prepare(KEYS).all() as KeyRow[]).map((k) =>
    k.active === 1 && revoked.has(k.key_id) ? { ...k, active: 0, replaced_by: revoked.get(k.key_id) ?? null } : k,
  );
  const keys = compare(live.prepare(KEYS).all() as KeyRow[], restoredKeys, (k) => k.key_id, keySummary, ['name', 'role', 'status']);
  const policies = compare(live.prepare(POLICIES).all() as PolicyRow[], backup.prepare(POLICIES).all() as PolicyRow[], (p) => p.key, policySummary, [
    'enabled',
    'value',
  ]);
  const count = (db: Database.Database): number => (db.prepare('SELECT count(*) AS n FROM usage_logs').get() as { n: number }).n;
  const newest = (backup.prepare('SELECT max(timestamp) AS t FROM usage_logs').get() as { t: string | null }).t ?? backupCreatedAt;
  const since = (live.prepare('SELECT count(*) AS n FROM usage_logs WHERE timestamp > ?').get(newest) as { n: number }).n;
  return { keys, policies, usage_logs: { current: count(live), in_backup: count(backup), written_since_backup: since } };
}
