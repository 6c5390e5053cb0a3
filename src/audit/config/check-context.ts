import type { Severity } from '../../core/findings.js';
import { describeReference, resolveEntry, type EnvReference } from './interpolate.js';
import type { ConfigEntry, ConfigScalar, LoadedConfig } from './load-config.js';
import type { ConfigIssue, ConfigRule } from './rules.js';
import { canonicalName, findSetting, type SettingName } from './settings.js';

/** What every check sees: the parsed file, the environment it resolves against, the target environment. */
export interface CheckContext {
  config: LoadedConfig;
  env: Record<string, string | undefined>;
  /** True when the effective environment is production: fallbacks and dev backends weigh more. */
  production: boolean;
  /** The --environment asked for, if any. */
  askedEnvironment?: string;
  warn(message: string): void;
}

/** A setting's entry with its value resolved against the environment. */
export interface SettingValue {
  entry: ConfigEntry;
  value: ConfigScalar | ConfigScalar[];
  references: EnvReference[];
}

/**
 * The entries setting `setting`, resolved. One whose `${VAR}` has no value cannot be judged:
 * it is left out with a warning (never counted as safe in silence).
 */
export function readSetting(ctx: CheckContext, setting: SettingName): SettingValue[] {
  const out: SettingValue[] = [];
  for (const entry of findSetting(ctx.config.entries, setting)) {
    const resolved = resolveEntry(entry, ctx.env);
    if (resolved.value === undefined) {
      const missing = resolved.references.filter((r) => r.from === 'unset').map(describeReference);
      ctx.warn(`${ctx.config.file}: ${entry.keyPath} references ${missing.join(', ')}, which is not set in the environment: not checked`);
      continue;
    }
    out.push({ entry, value: resolved.value, references: resolved.references });
  }
  return out;
}

/** "rate_limit.enabled = false", with where a referenced value came from. */
export function describeSetting(v: SettingValue): string {
  const shown = Array.isArray(v.value) ? JSON.stringify(v.value) : String(v.value);
  const from = v.references.map((r) => (r.from === 'env' ? `from ${r.name}` : `default of ${describeReference(r)}`));
  return `${v.entry.keyPath} = ${shown}${from.length > 0 ? ` (${from.join(', ')})` : ''}`;
}

export function issueAt(rule: ConfigRule, severity: Severity, entry: ConfigEntry, evidence: string, line = entry.line): ConfigIssue {
  return { rule, severity, keyPath: entry.keyPath, ...(line !== undefined ? { line } : {}), evidence };
}

/** A finding about a setting the file does not have: located at its canonical name, no line. */
export function issueMissing(ctx: CheckContext, rule: ConfigRule, severity: Severity, setting: SettingName, evidence: string): ConfigIssue {
  return { rule, severity, keyPath: canonicalName(setting, ctx.config.format), evidence };
}

/** Production-only weaknesses: the given severity in production, recorded as info elsewhere. */
export function inProduction(ctx: CheckContext, severity: Severity): Severity {
  return ctx.production ? severity : 'info';
}
