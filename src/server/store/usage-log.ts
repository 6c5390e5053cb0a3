import type { Db } from './database.js';

export interface UsageLogRow {
  id: string;
  timestamp: string;
  key_id: string;
  api_key_name: string;
  model: string;
  operation: string;
  /** JSON of the metadata flags that scoring read: metadata only, never content. */
  flags: string;
  allowed: boolean;
  risk_score: number;
  reason: string;
  latency_ms: number;
}

export interface UsageLogView {
  id: string;
  timestamp: string;
  key_id: string;
  api_key_name: string;
  model: string;
  operation: string;
  metadata: Record<string, boolean>;
  allowed: boolean;
  risk_score: number;
  reason: string;
  latency_ms: number;
}

export interface LogQuery {
  page: number;
  pageSize: number;
  model?: string;
  outcome?: 'allowed' | 'blocked';
  since?: string;
  until?: string;
  /** Only this key's entries (an extension to the contract, for load's audit accounting). */
  keyId?: string;
  /** Only decisions with this reason (an extension to the contract). */
  reason?: string;
}

export interface LogPage {
  logs: UsageLogView[];
  total: number;
  page: number;
  page_size: number;
  total_pages: number;
}

/**
 * A usage-log row as the writer thread receives it: its values appended, in INSERT_USAGE_LOG's
 * column order, to one flat array per batch (cheaper to post between threads than objects).
 */
export function packRow(row: UsageLogRow, out: Array<string | number>): void {
  out.push(row.id, row.timestamp, row.key_id, row.api_key_name, row.model, row.operation, row.flags, row.allowed ? 1 : 0, row.risk_score, row.reason, row.latency_ms);
}

/** Values per packed row. */
export const PACKED_ROW_LENGTH = 11;

/** Used by the writer thread, which does the inserts: one packed row's values, in order. */
export const INSERT_USAGE_LOG =
  'INSERT INTO usage_logs (id, timestamp, key_id, api_key_name, model, operation, flags, allowed, risk_score, reason, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

interface StoredRow extends Omit<UsageLogRow, 'allowed'> {
  allowed: number;
}

/** Reads of the usage log; rows are written by the audit writer thread (group-commit.ts). */
export class UsageLogStore {
  private readonly countAll;

  constructor(private readonly db: Db) {
    this.countAll = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM usage_logs');
  }

  count(): number {
    return this.countAll.get()!.n;
  }

  /** Newest first. `since` is inclusive, `until` exclusive; both are ISO 8601 instants. */
  query(q: LogQuery): LogPage {
    const where: string[] = [];
    const params: Record<string, string | number> = {};
    if (q.model !== undefined) {
      where.push('model = @model');
      params['model'] = q.model;
    }
    if (q.keyId !== undefined) {
      where.push('key_id = @key_id');
      params['key_id'] = q.keyId;
    }
    if (q.reason !== undefined) {
      where.push('reason = @reason');
      params['reason'] = q.reason;
    }
    if (q.outcome !== undefined) where.push(`allowed = ${q.outcome === 'allowed' ? 1 : 0}`);
    if (q.since !== undefined) {
      where.push('timestamp >= @since');
      params['since'] = q.since;
    }
    if (q.until !== undefined) {
      where.push('timestamp < @until');
      params['until'] = q.until;
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const total = this.db.prepare<Record<string, string | number>, { n: number }>(
      `SELECT count(*) AS n FROM usage_logs ${clause}`,
    ).get(params)!.n;
    const rows = this.db
      .prepare<Record<string, string | number>, StoredRow>(
        `SELECT * FROM usage_logs ${clause} ORDER BY seq DESC LIMIT @limit OFFSET @offset`,
      )
      .all({ ...params, limit: q.pageSize, offset: (q.page - 1) * q.pageSize });
    return {
      logs: rows.map((r) => ({
        id: r.id,
        timestamp: r.timestamp,
        key_id: r.key_id,
        api_key_name: r.api_key_name,
        model: r.model,
        operation: r.operation,
        metadata: JSON.parse(r.flags) as Record<string, boolean>,
        allowed: r.allowed === 1,
        risk_score: r.risk_score,
        reason: r.reason,
        latency_ms: r.latency_ms,
      })),
      total,
      page: q.page,
      page_size: q.pageSize,
      total_pages: Math.ceil(total / q.pageSize),
    };
  }
}
