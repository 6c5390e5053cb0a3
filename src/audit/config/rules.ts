import type { Severity } from '../../core/findings.js';

/**
 * The catalogue of `audit --config` rules: one stable id per weakness, with the title, CWE and
 * remediation every finding of that rule carries. Severity is decided per finding (some rules
 * weigh more in production), so it is not part of the catalogue.
 */
export interface ConfigRule {
  id: string;
  title: string;
  remediation: string;
  cwe?: string;
}

const rule = (id: string, title: string, remediation: string, cwe?: string): ConfigRule => ({ id, title, remediation, ...(cwe ? { cwe } : {}) });

export const CONFIG_RULES = {
  authDisabled: rule('config-auth-disabled', 'Authentication is disabled', 'Set auth.enabled (AUTH_ENABLED) to true: with it off, every caller is trusted.', 'CWE-306'),
  rateLimitDisabled: rule(
    'config-rate-limit-disabled',
    'Rate limiting is disabled',
    'Set rate_limit.enabled (RATE_LIMIT_ENABLED) to true so one client cannot exhaust the server or brute-force keys.',
    'CWE-770',
  ),
  rateLimitUnreasonable: rule(
    'config-rate-limit-unreasonable',
    'Rate limit window or request budget is unreasonable',
    'Use a positive window (e.g. 60 seconds) and a positive request budget of at most 10,000 per window (the documented default is 100 per 60 s).',
    'CWE-770',
  ),
  fakeRedis: rule(
    'config-fake-redis',
    'An in-memory fake Redis stands in for the real one',
    'Set redis.use_fake_redis (USE_FAKE_REDIS) to false and point REDIS_URL at a real Redis: a fake keeps state per process and loses it on restart.',
  ),
  redisFallback: rule(
    'config-redis-fallback',
    'Redis outages fall back to an in-process rate limiter',
    'Set redis.allow_fallback (REDIS_ALLOW_FALLBACK) to false: with several processes or replicas each one enforces its own limit, so the real limit multiplies.',
  ),
  redisOptional: rule(
    'config-redis-not-required',
    'Redis is optional: the server starts without it',
    'Set redis.required (REDIS_REQUIRED) to true in production so a missing Redis stops the server instead of silently weakening rate limiting.',
  ),
  queueDepthWarn: rule(
    'config-queue-depth-warn-unset',
    'No warning threshold for the audit queue depth',
    'Set monitoring.queue_depth_warn (MONITORING_QUEUE_DEPTH_WARN) to a positive number so a backlog of unwritten audit records is noticed.',
  ),
  corsWildcard: rule(
    'config-cors-wildcard',
    'CORS allows any origin',
    'List the exact origins that may call the API instead of "*", and never combine "*" with allowed credentials.',
    'CWE-942',
  ),
  debug: rule('config-debug-enabled', 'Debug mode is on', 'Set DEBUG to false outside development: debug modes expose stack traces, internals and sometimes a console.', 'CWE-489'),
  environmentMismatch: rule(
    'config-environment-mismatch',
    'The configuration names a different environment than the one audited',
    'Set ENVIRONMENT to the environment this configuration is deployed to (environment-specific defaults such as debug pages follow it).',
  ),
  sqlite: rule(
    'config-sqlite-database',
    'SQLite database in production',
    'Use a server database (e.g. PostgreSQL) in production: SQLite serialises writers and lives on one host, so it cannot be shared by replicas.',
  ),
  urlPassword: rule(
    'config-url-inline-password',
    'Connection URL carries a password in the configuration file',
    'Move the password out of the file: reference it from the environment or a secret manager (e.g. DATABASE_URL=${DATABASE_URL}).',
    'CWE-260',
  ),
  redisNoTls: rule(
    'config-redis-without-tls',
    'Redis connection to a remote host without TLS',
    'Use rediss:// (Redis over TLS) for any Redis that is not on the loopback interface.',
    'CWE-319',
  ),
  adminKeyMissing: rule(
    'config-admin-key-missing',
    'No admin API key is configured',
    'Set ADMIN_API_KEY from a secret manager to a random value of at least 32 bytes (e.g. `openssl rand -base64 32`).',
    'CWE-306',
  ),
  adminKeyDefault: rule(
    'config-admin-key-default',
    'Admin API key is a well-known default',
    'Replace the admin key with a random value of at least 32 bytes (e.g. `openssl rand -base64 32`) kept in a secret manager; never ship a default, not even as a ${VAR:-default} fallback.',
    'CWE-1392',
  ),
  adminKeyWeak: rule(
    'config-admin-key-weak',
    'Admin API key is too short or not random enough',
    'Use a random admin key of at least 32 characters (e.g. `openssl rand -base64 32`).',
    'CWE-521',
  ),
  signingSecretMissing: rule(
    'config-signing-secret-missing',
    'No signing secret (SECRET_KEY / JWT secret) is configured',
    'Set SECRET_KEY (or JWT_SECRET) from a secret manager to a random value of at least 32 bytes (e.g. `openssl rand -base64 32`).',
    'CWE-1188',
  ),
  signingSecretDefault: rule(
    'config-signing-secret-default',
    'Signing secret (SECRET_KEY / JWT secret) is a well-known default',
    'Replace the signing secret with a random value of at least 32 bytes kept in a secret manager: with a public secret anyone can forge tokens and sessions.',
    'CWE-1392',
  ),
  signingSecretWeak: rule(
    'config-signing-secret-weak',
    'Signing secret (SECRET_KEY / JWT secret) is too short or not random enough',
    'Use a random signing secret of at least 32 characters (e.g. `openssl rand -base64 32`).',
    'CWE-521',
  ),
} as const satisfies Record<string, ConfigRule>;

export type ConfigRuleName = keyof typeof CONFIG_RULES;

/** What a check reports; audit-config.ts adds location, fingerprint and id. */
export interface ConfigIssue {
  rule: ConfigRule;
  severity: Severity;
  /** The key as written in the file, or the canonical name of a key that is missing. */
  keyPath: string;
  line?: number;
  /** Never a secret value. */
  evidence: string;
}
