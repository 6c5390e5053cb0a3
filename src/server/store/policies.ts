import type { Db } from './database.js';

export interface PolicyView {
  id: number;
  key: string;
  name: string;
  description: string;
  enabled: boolean;
  value: unknown;
  violations_count: number;
}

interface PolicyRow {
  id: number;
  key: string;
  name: string;
  description: string;
  enabled: number;
  value: string | null;
  violations_count: number;
}

export const DEFAULT_POLICIES: ReadonlyArray<Omit<PolicyView, 'id' | 'violations_count'>> = [
  {
    key: 'block_personal_data',
    name: 'Block personal data',
    description: 'Adds 70 to the risk score of operations flagged contains_personal_data.',
    enabled: true,
    value: null,
  },
  {
    key: 'block_external_models',
    name: 'Block external models',
    description: 'Adds 50 to the risk score of operations flagged is_external_model or uses_external_model.',
    enabled: true,
    value: null,
  },
  {
    key: 'max_risk_score',
    name: 'Maximum risk score',
    description: 'Operations are allowed only while their risk score is below value.max.',
    enabled: true,
    value: { max: 50 },
  },
];

function toView(row: PolicyRow): PolicyView {
  return {
    id: row.id,
    key: row.key,
    name: row.name,
    description: row.description,
    enabled: row.enabled === 1,
    value: row.value === null ? null : (JSON.parse(row.value) as unknown),
    violations_count: row.violations_count,
  };
}

/**
 * Policies, cached in memory because every decision reads them; this process is the only
 * writer, so the cache is dropped on every update and restore and a PATCH is in force at once.
 */
export class PolicyStore {
  private cache: PolicyView[] | undefined;
  private readonly all;
  private readonly update;

  constructor(db: Db) {
    seedDefaults(db);
    this.all = db.prepare<[], PolicyRow>('SELECT * FROM policies ORDER BY id');
    this.update = db.prepare<[number, string | null, string, number]>(
      'UPDATE policies SET enabled = ?, value = ?, updated_at = ? WHERE id = ?',
    );
  }

  /** Fresh from the database: violation counts grow with every commit of the audit writer. */
  list(): PolicyView[] {
    return this.all.all().map(toView);
  }

  /**
   * What scoring reads on every decision, cached until a policy changes (set, restore). Its
   * violation counts go stale as decisions commit; scoring never reads them, admin reads list().
   */
  forScoring(): readonly PolicyView[] {
    this.cache ??= this.list();
    return this.cache;
  }

  /** By numeric id or by key. */
  find(idOrKey: string): PolicyView | undefined {
    return this.list().find((p) => p.key === idOrKey || String(p.id) === idOrKey);
  }

  set(policy: PolicyView, changes: { enabled?: boolean; value?: unknown }): PolicyView {
    const enabled = changes.enabled ?? policy.enabled;
    const value = 'value' in changes ? changes.value : policy.value;
    this.update.run(enabled ? 1 : 0, value === null || value === undefined ? null : JSON.stringify(value), new Date().toISOString(), policy.id);
    this.invalidate();
    return this.find(String(policy.id))!;
  }

  invalidate(): void {
    this.cache = undefined;
  }
}

export function seedDefaults(db: Db): void {
  const insert = db.prepare(
    `INSERT INTO policies (key, name, description, enabled, value, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (key) DO NOTHING`,
  );
  const now = new Date().toISOString();
  db.transaction(() => {
    for (const p of DEFAULT_POLICIES) {
      insert.run(p.key, p.name, p.description, p.enabled ? 1 : 0, p.value === null ? null : JSON.stringify(p.value), now);
    }
  })();
}
