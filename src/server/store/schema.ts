/**
 * The reference server's SQLite schema, as ordered migrations. `PRAGMA user_version` records how
 * many have run; a database from a newer govctl is refused rather than misread.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE customers (
    id         TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
  );
  CREATE TABLE api_keys (
    id             INTEGER PRIMARY KEY,
    key_id         TEXT NOT NULL UNIQUE,
    secret_hash    BLOB NOT NULL,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('user', 'admin')),
    customer_id    TEXT NOT NULL REFERENCES customers (id),
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL,
    last_used      TEXT,
    requests_count INTEGER NOT NULL DEFAULT 0,
    deactivated_at TEXT,
    replaced_by    TEXT
  );
  CREATE TABLE policies (
    id               INTEGER PRIMARY KEY,
    key              TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL,
    enabled          INTEGER NOT NULL,
    value            TEXT,
    violations_count INTEGER NOT NULL DEFAULT 0,
    updated_at       TEXT NOT NULL
  );
  CREATE TABLE usage_logs (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL,
    timestamp    TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    api_key_name TEXT NOT NULL,
    model        TEXT NOT NULL,
    operation    TEXT NOT NULL,
    flags        TEXT NOT NULL,
    allowed      INTEGER NOT NULL,
    risk_score   INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    latency_ms   REAL NOT NULL
  );
  CREATE INDEX usage_logs_timestamp ON usage_logs (timestamp);
  `,
  // Kept outside STATE_TABLES, so a restore does not swap them: the revocation ledger outlives
  // a restore (a key revoked after a backup stays revoked), and the health probe's row is scratch.
  `
  CREATE TABLE key_revocations (
    key_id         TEXT PRIMARY KEY,
    deactivated_at TEXT NOT NULL,
    replaced_by    TEXT
  );
  INSERT OR IGNORE INTO key_revocations (key_id, deactivated_at, replaced_by)
    SELECT key_id, coalesce(deactivated_at, created_at), replaced_by FROM api_keys WHERE active = 0;
  CREATE TABLE health_probe (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    writes INTEGER NOT NULL,
    at     TEXT NOT NULL
  );
  INSERT INTO health_probe (id, writes, at) VALUES (1, 0, '');
  `,
];

/** The tables that make up the server's state, in an order that respects foreign keys. */
export const STATE_TABLES = ['meta', 'customers', 'api_keys', 'policies', 'usage_logs'] as const;
