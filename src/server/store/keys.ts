import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { newApiToken, type ApiToken } from '../../core/api-token.js';
import type { Db } from './database.js';

export type Role = 'user' | 'admin';

export interface ApiKeyRow {
  id: number;
  key_id: string;
  secret_hash: Buffer;
  name: string;
  role: Role;
  customer_id: string;
  active: number;
  created_at: string;
  last_used: string | null;
  requests_count: number;
  deactivated_at: string | null;
  /** The key that replaced this one when it was rotated; null when revoked (or active). */
  replaced_by: string | null;
}

/** active; revoked (deactivated with no successor); rotated (replaced by a new key). */
export type KeyStatus = 'active' | 'revoked' | 'rotated';

export interface ApiKeyView {
  id: number;
  key_id: string;
  name: string;
  role: Role;
  customer_id: string;
  active: boolean;
  /** An extension of the contract: tells a revoked key from a rotated one. */
  status: KeyStatus;
  created_at: string;
  last_used: string | null;
  requests_count: number;
}

export interface IssuedKey {
  key: ApiKeyView;
  /** `<key_id>.<secret>`: handed out once, never stored. */
  token: string;
}

const AUTH_CACHE_MAX = 100_000;

function toView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    key_id: row.key_id,
    name: row.name,
    role: row.role,
    customer_id: row.customer_id,
    active: row.active === 1,
    status: row.active === 1 ? 'active' : row.replaced_by ? 'rotated' : 'revoked',
    created_at: row.created_at,
    last_used: row.last_used,
    requests_count: row.requests_count,
  };
}

/**
 * API keys. Secrets are 256-bit random, so a keyed fast hash (HMAC-SHA-256 with a per-database
 * key) is enough: nothing to brute-force, and a slow hash on every request would cap throughput.
 */
export class KeyStore {
  private hmacKey: Buffer;
  private readonly byKeyId;
  /**
   * What authentication needs of each key, cached: verifying is on every request's path. This
   * process is the only writer, so every change below drops the entry and a revocation is in
   * force for the very next request. Only keys that exist are cached, and the cache is bounded.
   */
  private readonly authCache = new Map<string, { row: ApiKeyRow; verifiedSecret?: Buffer }>();
  private readonly insert;
  private readonly insertCustomer;
  private readonly all;
  private readonly deactivate;
  private readonly countActiveStmt;
  private readonly countAdmins;
  private readonly ledger;
  /** Compared against when the key id is unknown, so that case costs the same HMAC as a known one. */
  private dummyHash: Buffer;

  constructor(private readonly db: Db) {
    this.hmacKey = loadHmacKey(db);
    this.byKeyId = db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE key_id = ?');
    this.insert = db.prepare<[string, Buffer, string, Role, string, string]>(
      'INSERT INTO api_keys (key_id, secret_hash, name, role, customer_id, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.insertCustomer = db.prepare<[string, string]>(
      'INSERT INTO customers (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING',
    );
    this.all = db.prepare<[], ApiKeyRow>('SELECT * FROM api_keys ORDER BY id');
    this.deactivate = db.prepare<[string, string | null, string]>(
      'UPDATE api_keys SET active = 0, deactivated_at = ?, replaced_by = ? WHERE key_id = ? AND active = 1',
    );
    this.countActiveStmt = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM api_keys WHERE active = 1');
    this.countAdmins = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM api_keys WHERE role = 'admin'");
    this.ledger = db.prepare<[string, string, string | null]>(
      'INSERT INTO key_revocations (key_id, deactivated_at, replaced_by) VALUES (?, ?, ?) ON CONFLICT (key_id) DO NOTHING',
    );
    this.dummyHash = this.hashSecret(randomBytes(32).toString('base64url'));
  }

  /** Re-reads the hashing key, after a restore replaced the state. */
  reload(): void {
    this.authCache.clear();
    this.hmacKey = loadHmacKey(this.db);
    this.dummyHash = this.hashSecret(randomBytes(32).toString('base64url'));
  }

  hashSecret(secret: string): Buffer {
    return createHmac('sha256', this.hmacKey).update(secret).digest();
  }

  /**
   * The key row when the token's secret matches (constant-time), else undefined. A secret that
   * was verified before is compared directly (timingSafeEqual, no HMAC): a quarter of a decision's
   * CPU went to re-hashing the same secret. Only a correct secret takes that path, so timing still
   * tells nothing about which key ids exist: a wrong secret costs one HMAC, known key id or not.
   */
  verify(keyId: string, secret: string): { row: ApiKeyRow | undefined; secretOk: boolean } {
    let entry = this.authCache.get(keyId);
    if (!entry) {
      const row = this.byKeyId.get(keyId);
      if (row) {
        if (this.authCache.size >= AUTH_CACHE_MAX) this.authCache.clear();
        entry = { row };
        this.authCache.set(keyId, entry);
      }
    }
    const presentedRaw = Buffer.from(secret);
    const known = entry?.verifiedSecret;
    if (known && known.length === presentedRaw.length && timingSafeEqual(known, presentedRaw)) {
      return { row: entry!.row, secretOk: true };
    }
    // The same work whether or not the key id exists: timing must not tell which key ids are real.
    const presented = this.hashSecret(secret);
    const expected = entry?.row.secret_hash ?? this.dummyHash;
    const matches = presented.length === expected.length && timingSafeEqual(presented, expected);
    if (!entry) return { row: undefined, secretOk: false };
    if (matches) entry.verifiedSecret = presentedRaw;
    return { row: entry.row, secretOk: matches };
  }

  get(keyId: string): ApiKeyView | undefined {
    const row = this.byKeyId.get(keyId);
    return row && toView(row);
  }

  list(): ApiKeyView[] {
    return this.all.all().map(toView);
  }

  create(name: string, role: Role, customerId: string, token: ApiToken = newApiToken()): IssuedKey {
    const now = new Date().toISOString();
    this.db.transaction(() => {
      this.insertCustomer.run(customerId, now);
      this.insert.run(token.keyId, this.hashSecret(token.secret), name, role, customerId, now);
    })();
    return { key: this.get(token.keyId)!, token: token.token };
  }

  /** Issues a new key with the same name, role and customer; the old one is inactive at once. */
  rotate(keyId: string): IssuedKey | undefined {
    // IMMEDIATE: it reads before it writes, and the audit writer thread commits on another
    // connection; a deferred transaction would fail (SQLITE_BUSY_SNAPSHOT) if one landed between.
    return this.db.transaction(() => {
      const old = this.byKeyId.get(keyId);
      if (!old || old.active !== 1) return undefined;
      const issued = this.create(old.name, old.role, old.customer_id);
      this.deactivateKey(keyId, issued.key.key_id);
      return issued;
    }).immediate();
  }

  /** Deactivates a key (rows stay, so usage logs keep their owner); false when unknown. */
  revoke(keyId: string): boolean {
    if (!this.byKeyId.get(keyId)) return false;
    this.deactivateKey(keyId, null);
    return true;
  }

  /**
   * Marks a key inactive and records it in the revocation ledger, in one transaction. The ledger
   * is not part of what a restore swaps, so a restore cannot bring a revoked key back.
   */
  private deactivateKey(keyId: string, replacedBy: string | null): void {
    const at = new Date().toISOString();
    this.db.transaction(() => {
      this.deactivate.run(at, replacedBy, keyId);
      this.ledger.run(keyId, at, replacedBy);
    })();
    this.authCache.delete(keyId);
  }

  /** Keys of role admin that are active now. */
  activeAdmins(): ApiKeyView[] {
    return this.list().filter((k) => k.role === 'admin' && k.active);
  }

  countActive(): number {
    return this.countActiveStmt.get()!.n;
  }

  hasAdmin(): boolean {
    return this.countAdmins.get()!.n > 0;
  }

}

function loadHmacKey(db: Db): Buffer {
  const row = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'key_hmac_secret'").get();
  if (row) return Buffer.from(row.value, 'base64');
  const fresh = randomBytes(32);
  db.prepare("INSERT INTO meta (key, value) VALUES ('key_hmac_secret', ?)").run(fresh.toString('base64'));
  return fresh;
}
