import { describeSetting, inProduction, issueAt, issueMissing, readSetting, type CheckContext } from './check-context.js';
import { isLoopbackHost, isSqliteUrl, maskPassword, parseConnectionUrl } from './connection-url.js';
import { CONFIG_RULES as R, type ConfigIssue } from './rules.js';
import { asBoolean, asList, asNumber, findSetting } from './settings.js';

/** One hardening check: reads settings, returns what is wrong (nothing when it is fine). */
export type ConfigCheck = (ctx: CheckContext) => ConfigIssue[];

/** More requests than this in one window is no limit at all. */
export const MAX_REQUESTS_PER_WINDOW = 10_000;

const PRODUCTION = new Set(['production', 'prod', 'prd', 'live']);
const ALIASES: Record<string, string> = { dev: 'development', develop: 'development', local: 'development', test: 'test', testing: 'test', stage: 'staging', stg: 'staging' };

/** "prod" and "PRODUCTION" are the same environment; unknown names stay as they are (lower case). */
export function normaliseEnvironment(name: string): string {
  const v = name.trim().toLowerCase();
  if (PRODUCTION.has(v)) return 'production';
  return ALIASES[v] ?? v;
}

/** A boolean setting that must not be `bad`. */
const flagCheck =
  (setting: Parameters<typeof readSetting>[1], bad: boolean, rule: (typeof R)[keyof typeof R], severity: (ctx: CheckContext) => ConfigIssue['severity']): ConfigCheck =>
  (ctx) =>
    readSetting(ctx, setting)
      .filter((v) => asBoolean(v.value) === bad)
      .map((v) => issueAt(rule, severity(ctx), v.entry, describeSetting(v)));

const authEnabled = flagCheck('authEnabled', false, R.authDisabled, () => 'critical');
const rateLimitEnabled = flagCheck('rateLimitEnabled', false, R.rateLimitDisabled, () => 'high');
const fakeRedis = flagCheck('fakeRedis', true, R.fakeRedis, (ctx) => inProduction(ctx, 'high'));
const redisFallback = flagCheck('redisFallback', true, R.redisFallback, (ctx) => inProduction(ctx, 'high'));
const redisRequired = flagCheck('redisRequired', false, R.redisOptional, (ctx) => inProduction(ctx, 'medium'));
const debug = flagCheck('debug', true, R.debug, (ctx) => inProduction(ctx, 'high'));

const rateLimitBounds: ConfigCheck = (ctx) => {
  const issues: ConfigIssue[] = [];
  for (const v of readSetting(ctx, 'rateLimitWindow')) {
    const n = asNumber(v.value);
    if (n === undefined) issues.push(issueAt(R.rateLimitUnreasonable, 'medium', v.entry, `${describeSetting(v)}: not a number of seconds`));
    else if (n <= 0) issues.push(issueAt(R.rateLimitUnreasonable, 'medium', v.entry, `${describeSetting(v)}: the window must be positive`));
  }
  for (const v of readSetting(ctx, 'rateLimitMax')) {
    const n = asNumber(v.value);
    if (n === undefined) issues.push(issueAt(R.rateLimitUnreasonable, 'medium', v.entry, `${describeSetting(v)}: not a number of requests`));
    else if (n <= 0) issues.push(issueAt(R.rateLimitUnreasonable, 'medium', v.entry, `${describeSetting(v)}: the budget must be positive`));
    else if (n > MAX_REQUESTS_PER_WINDOW) {
      issues.push(issueAt(R.rateLimitUnreasonable, 'medium', v.entry, `${describeSetting(v)}: more than ${MAX_REQUESTS_PER_WINDOW} requests per window`));
    }
  }
  return issues;
};

const queueDepthWarn: ConfigCheck = (ctx) => {
  const present = findSetting(ctx.config.entries, 'queueDepthWarn');
  if (present.length === 0) return [issueMissing(ctx, R.queueDepthWarn, 'low', 'queueDepthWarn', 'not set')];
  return readSetting(ctx, 'queueDepthWarn')
    .filter((v) => !((asNumber(v.value) ?? 0) > 0))
    .map((v) => issueAt(R.queueDepthWarn, 'low', v.entry, `${describeSetting(v)}: no warning is ever raised`));
};

const corsWildcard: ConfigCheck = (ctx) => {
  const credentials = readSetting(ctx, 'corsCredentials').some((v) => asBoolean(v.value) === true);
  return readSetting(ctx, 'corsOrigins').flatMap((v) => {
    const origins = asList(v.value);
    const index = origins.indexOf('*');
    if (index < 0) return [];
    const line = Array.isArray(v.value) ? (v.entry.itemLines?.[index] ?? v.entry.line) : v.entry.line;
    const evidence = `${v.entry.keyPath} allows "*"${credentials ? ' with credentials allowed' : ''}`;
    return [issueAt(R.corsWildcard, credentials ? 'high' : 'medium', v.entry, evidence, line)];
  });
};

const environmentMismatch: ConfigCheck = (ctx) => {
  if (ctx.askedEnvironment === undefined) return [];
  const asked = normaliseEnvironment(ctx.askedEnvironment);
  return readSetting(ctx, 'environment')
    .filter((v) => typeof v.value === 'string' && v.value.trim() !== '' && normaliseEnvironment(v.value) !== asked)
    .map((v) => issueAt(R.environmentMismatch, 'medium', v.entry, `${describeSetting(v)}, audited as ${ctx.askedEnvironment}`));
};

const sqliteDatabase: ConfigCheck = (ctx) =>
  readSetting(ctx, 'databaseUrl')
    .filter((v) => typeof v.value === 'string' && isSqliteUrl(v.value))
    .map((v) => issueAt(R.sqlite, inProduction(ctx, 'high'), v.entry, `${v.entry.keyPath} is a SQLite database${ctx.production ? ' in production' : ''}`));

/** A password written in the file itself (not one that a `${VAR}` brings in from the environment). */
const urlInlinePassword: ConfigCheck = (ctx) =>
  [...findSetting(ctx.config.entries, 'databaseUrl'), ...findSetting(ctx.config.entries, 'redisUrl')].flatMap((entry) => {
    if (typeof entry.value !== 'string') return [];
    const url = parseConnectionUrl(entry.value);
    if (!url?.password || (entry.interpolate && url.password.includes('${'))) return [];
    return [issueAt(R.urlPassword, 'medium', entry, `${entry.keyPath} = ${maskPassword(url)}`)];
  });

const redisWithoutTls: ConfigCheck = (ctx) => {
  if (!ctx.production) return [];
  return readSetting(ctx, 'redisUrl').flatMap((v) => {
    if (typeof v.value !== 'string') return [];
    const url = parseConnectionUrl(v.value);
    if (!url || url.scheme !== 'redis' || isLoopbackHost(url.host)) return [];
    return [issueAt(R.redisNoTls, 'medium', v.entry, `${v.entry.keyPath} connects to ${url.host} with redis:// (no TLS) in production`)];
  });
};

export const SERVICE_CHECKS: readonly ConfigCheck[] = [
  authEnabled,
  rateLimitEnabled,
  rateLimitBounds,
  fakeRedis,
  redisFallback,
  redisRequired,
  queueDepthWarn,
  corsWildcard,
  debug,
  environmentMismatch,
  sqliteDatabase,
  urlInlinePassword,
  redisWithoutTls,
];
