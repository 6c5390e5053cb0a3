import type { ConfigEntry, ConfigFormat, ConfigScalar } from './load-config.js';

/**
 * The settings the checks read, each under the names it goes by in the field: nested keys
 * (`rate_limit.enabled`) and flat environment variables (`RATE_LIMIT_ENABLED`) meet in one flat,
 * lower-case, snake_case form, so `rateLimit.maxRequests`, `RATE_LIMIT__MAX_REQUESTS` and
 * `rate-limit.max-requests` are the same setting.
 */
export const SETTINGS = {
  authEnabled: ['auth_enabled', 'authentication_enabled', 'auth_required', 'require_auth'],
  rateLimitEnabled: ['rate_limit_enabled', 'rate_limiting_enabled', 'ratelimit_enabled', 'rate_limits_enabled'],
  rateLimitWindow: ['rate_limit_window_seconds', 'rate_limit_window', 'ratelimit_window_seconds', 'rate_limiting_window_seconds'],
  rateLimitMax: ['rate_limit_max_requests', 'rate_limit_requests', 'ratelimit_max_requests', 'rate_limiting_max_requests'],
  redisRequired: ['redis_required'],
  redisFallback: ['redis_allow_fallback', 'allow_redis_fallback'],
  fakeRedis: ['redis_use_fake_redis', 'use_fake_redis', 'redis_use_fake', 'redis_fake', 'fake_redis'],
  queueDepthWarn: ['monitoring_queue_depth_warn', 'queue_depth_warn'],
  corsOrigins: ['cors_origins', 'cors_allowed_origins', 'cors_allow_origins', 'cors_allow_origin', 'cors_origin', 'allowed_origins', 'backend_cors_origins'],
  corsCredentials: ['cors_allow_credentials', 'cors_credentials', 'cors_allowed_credentials'],
  debug: ['debug', 'debug_mode', 'flask_debug'],
  environment: ['environment', 'env', 'app_env', 'app_environment', 'node_env'],
  databaseUrl: ['database_url', 'database_uri', 'database_dsn', 'db_url', 'db_uri', 'db_dsn', 'sqlalchemy_database_uri'],
  redisUrl: ['redis_url', 'redis_uri', 'redis_dsn'],
  adminKey: ['admin_api_key', 'admin_key', 'admin_token', 'auth_admin_api_key', 'auth_admin_key', 'governance_admin_key', 'govctl_admin_key'],
  signingSecret: [
    'secret_key',
    'jwt_secret',
    'jwt_secret_key',
    'jwt_signing_key',
    'auth_secret_key',
    'auth_jwt_secret',
    'auth_jwt_secret_key',
    'security_secret_key',
    'session_secret',
  ],
} as const satisfies Record<string, readonly string[]>;

export type SettingName = keyof typeof SETTINGS;

/** How a missing setting is named in findings, in the style of the file. */
export const CANONICAL: Record<SettingName, { nested: string; flat: string }> = {
  authEnabled: { nested: 'auth.enabled', flat: 'AUTH_ENABLED' },
  rateLimitEnabled: { nested: 'rate_limit.enabled', flat: 'RATE_LIMIT_ENABLED' },
  rateLimitWindow: { nested: 'rate_limit.window_seconds', flat: 'RATE_LIMIT_WINDOW_SECONDS' },
  rateLimitMax: { nested: 'rate_limit.max_requests', flat: 'RATE_LIMIT_MAX_REQUESTS' },
  redisRequired: { nested: 'redis.required', flat: 'REDIS_REQUIRED' },
  redisFallback: { nested: 'redis.allow_fallback', flat: 'REDIS_ALLOW_FALLBACK' },
  fakeRedis: { nested: 'redis.use_fake_redis', flat: 'USE_FAKE_REDIS' },
  queueDepthWarn: { nested: 'monitoring.queue_depth_warn', flat: 'MONITORING_QUEUE_DEPTH_WARN' },
  corsOrigins: { nested: 'cors.origins', flat: 'CORS_ORIGINS' },
  corsCredentials: { nested: 'cors.allow_credentials', flat: 'CORS_ALLOW_CREDENTIALS' },
  debug: { nested: 'debug', flat: 'DEBUG' },
  environment: { nested: 'environment', flat: 'ENVIRONMENT' },
  databaseUrl: { nested: 'database.url', flat: 'DATABASE_URL' },
  redisUrl: { nested: 'redis.url', flat: 'REDIS_URL' },
  adminKey: { nested: 'admin_api_key', flat: 'ADMIN_API_KEY' },
  signingSecret: { nested: 'secret_key', flat: 'SECRET_KEY' },
};

/** Environment variables a server of the field reads when the file does not set them. */
export const ENV_FALLBACK: Partial<Record<SettingName, string[]>> = {
  adminKey: ['ADMIN_API_KEY'],
  signingSecret: ['SECRET_KEY', 'JWT_SECRET', 'JWT_SECRET_KEY'],
};

/** One top-level section may wrap everything (`server:`, `governance:`, ...): it is looked through. */
const WRAPPERS = new Set(['server', 'app', 'application', 'api', 'governance', 'service', 'settings', 'config', 'configuration']);

export function canonicalName(setting: SettingName, format: ConfigFormat): string {
  return format === 'env' ? CANONICAL[setting].flat : CANONICAL[setting].nested;
}

/** "rateLimit" -> "rate_limit", "MAX-REQUESTS" -> "max_requests". */
export function normaliseSegment(segment: string): string {
  return segment
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** The flat names an entry answers to: all of its keys, and those under a wrapper section. */
export function flatNames(entry: ConfigEntry): string[] {
  const parts = entry.segments.map(normaliseSegment);
  const names = [parts.join('_')];
  if (parts.length > 1 && WRAPPERS.has(parts[0]!)) names.push(parts.slice(1).join('_'));
  return names;
}

/** Key names unambiguous wherever they sit (`security.admin_api_key`); `secret_key` is not (`aws.secret_key`). */
const LEAF_NAMES: Partial<Record<SettingName, readonly string[]>> = {
  adminKey: ['admin_api_key'],
  signingSecret: ['jwt_secret', 'jwt_secret_key'],
};

/** Entries that set `setting`, in file order. */
export function findSetting(entries: readonly ConfigEntry[], setting: SettingName): ConfigEntry[] {
  const aliases = new Set<string>(SETTINGS[setting]);
  const leaves = new Set<string>(LEAF_NAMES[setting] ?? []);
  return entries.filter((e) => flatNames(e).some((n) => aliases.has(n)) || leaves.has(normaliseSegment(e.segments[e.segments.length - 1]!)));
}

/** Entries that name the environment variable holding `setting` (`admin_api_key_env: NAME`). */
export function findSettingEnvPointer(entries: readonly ConfigEntry[], setting: SettingName): ConfigEntry[] {
  const aliases = new Set<string>(SETTINGS[setting].map((a) => `${a}_env`));
  return entries.filter((e) => typeof e.value === 'string' && flatNames(e).some((n) => aliases.has(n)));
}

export function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined;
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on', 'y'].includes(v)) return true;
  if (['false', '0', 'no', 'off', 'n'].includes(v)) return false;
  return undefined;
}

export function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const n = Number(value.trim().replace(/_/g, ''));
  return Number.isFinite(n) ? n : undefined;
}

/** A list, or a string holding one: "a,b", "a b" or '["a","b"]'. */
export function asList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v) => v !== null).map(String);
  if (typeof value !== 'string') return value === null || value === undefined ? [] : [String(value)];
  return value
    .replace(/^\s*\[|\]\s*$/g, '')
    .split(/[\s,]+/)
    .map((v) => v.replace(/^["']|["']$/g, ''))
    .filter((v) => v !== '');
}

export type ScalarOrList = ConfigScalar | ConfigScalar[];
