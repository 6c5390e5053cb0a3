import { isKnownDefaultCredential } from '../../core/default-credentials.js';
import { issueAt, issueMissing, type CheckContext } from './check-context.js';
import type { ConfigCheck } from './checks.js';
import { describeReference, resolveEntry } from './interpolate.js';
import type { ConfigEntry } from './load-config.js';
import { CONFIG_RULES as R, type ConfigIssue, type ConfigRule } from './rules.js';
import { assessSecret } from './secrets-strength.js';
import { ENV_FALLBACK, findSetting, findSettingEnvPointer, type SettingName } from './settings.js';

interface SecretKind {
  setting: SettingName;
  kind: 'admin' | 'signing';
  missing: ConfigRule;
  default: ConfigRule;
  weak: ConfigRule;
}

const ADMIN: SecretKind = { setting: 'adminKey', kind: 'admin', missing: R.adminKeyMissing, default: R.adminKeyDefault, weak: R.adminKeyWeak };
const SIGNING: SecretKind = { setting: 'signingSecret', kind: 'signing', missing: R.signingSecretMissing, default: R.signingSecretDefault, weak: R.signingSecretWeak };

/** Judges one secret value; `where` says where it came from. Evidence never holds the value (a public default excepted). */
function judge(k: SecretKind, value: string, where: string, at: (rule: ConfigRule, severity: ConfigIssue['severity'], evidence: string) => ConfigIssue): ConfigIssue[] {
  if (value.trim() === '') return [at(k.missing, 'high', `${where} is empty`)];
  const verdict = assessSecret(value, k.kind);
  if (verdict.kind === 'default') return [at(k.default, 'critical', `${where} is set to a well-known default (${verdict.defaultValue})`)];
  if (verdict.kind === 'weak') return [at(k.weak, 'high', `${where}: ${verdict.reason}`)];
  return [];
}

const isDefault = (value: string): boolean => isKnownDefaultCredential(value, 'admin') || isKnownDefaultCredential(value, 'signing');

function checkEntry(ctx: CheckContext, k: SecretKind, entry: ConfigEntry): ConfigIssue[] {
  const at = (rule: ConfigRule, severity: ConfigIssue['severity'], evidence: string): ConfigIssue => issueAt(rule, severity, entry, evidence);
  const resolved = resolveEntry(entry, ctx.env);
  const sources = resolved.references.filter((r) => r.from !== 'unset').map((r) => (r.from === 'env' ? `from ${r.name}` : `default of ${describeReference(r)}`));
  const where = sources.length > 0 ? `${entry.keyPath} (${sources.join(', ')})` : entry.keyPath;
  if (resolved.value === undefined) {
    const unset = resolved.references.filter((r) => r.from === 'unset').map(describeReference);
    return [at(k.missing, 'high', `${entry.keyPath} references ${unset.join(', ')}, which is not set in the environment`)];
  }
  if (resolved.value === null || Array.isArray(resolved.value)) {
    return [at(k.missing, 'high', `${entry.keyPath} is ${resolved.value === null ? 'empty' : 'a list, not a single value'}`)];
  }
  const issues = judge(k, String(resolved.value), where, at);
  // A ${VAR:-changeme} ships the default even when today's environment overrides it.
  const fallback = resolved.references.find((r) => r.fallback !== undefined && isDefault(r.fallback));
  if (fallback && !issues.some((i) => i.rule === k.default)) {
    const shown = fallback.fallback!.trim().toLowerCase();
    return [
      ...issues.filter((i) => i.rule !== k.weak),
      at(k.default, 'critical', `${entry.keyPath} falls back to a well-known default (${shown}) when ${fallback.name} is unset`),
    ];
  }
  return issues;
}

function checkPointer(ctx: CheckContext, k: SecretKind, entry: ConfigEntry): ConfigIssue[] {
  const at = (rule: ConfigRule, severity: ConfigIssue['severity'], evidence: string): ConfigIssue => issueAt(rule, severity, entry, evidence);
  const name = String(entry.value).trim();
  const value = ctx.env[name];
  if (value === undefined) return [at(k.missing, 'high', `${entry.keyPath} names ${name}, which is not set in the environment`)];
  return judge(k, value, `${name} (named by ${entry.keyPath})`, at);
}

/**
 * The admin key or signing secret: set in the file (directly, by `${VAR}`, or by a `*_env` key
 * naming a variable), else in the environment under its usual names (servers of the field read
 * ADMIN_API_KEY, SECRET_KEY, JWT_SECRET from there when the file is silent), else missing.
 */
function secretCheck(k: SecretKind): ConfigCheck {
  return (ctx) => {
    const direct = findSetting(ctx.config.entries, k.setting);
    const pointers = findSettingEnvPointer(ctx.config.entries, k.setting);
    if (direct.length > 0 || pointers.length > 0) {
      return [...direct.flatMap((e) => checkEntry(ctx, k, e)), ...pointers.flatMap((e) => checkPointer(ctx, k, e))];
    }
    const names = (ENV_FALLBACK[k.setting] ?? []).filter((n) => ctx.env[n] !== undefined);
    if (names.length === 0) {
      const usual = (ENV_FALLBACK[k.setting] ?? []).join(', ');
      return [issueMissing(ctx, k.missing, 'high', k.setting, `not set in the file, nor in the environment (${usual})`)];
    }
    return names.flatMap((name) =>
      judge(k, ctx.env[name]!, `${name} (from the environment; the file does not set it)`, (rule, severity, evidence) => ({ rule, severity, keyPath: name, evidence })),
    );
  };
}

export const SECRET_CHECKS: readonly ConfigCheck[] = [secretCheck(ADMIN), secretCheck(SIGNING)];
