import { posix, resolve, sep } from 'node:path';
import { InterruptedError } from '../../core/errors.js';
import { fingerprintOf, severityRank, type ConfigLocation, type Finding } from '../../core/findings.js';
import type { ConfigAuditResult, StepContext } from '../types.js';
import { resolveEntry } from './interpolate.js';
import type { CheckContext } from './check-context.js';
import { normaliseEnvironment, SERVICE_CHECKS, type ConfigCheck } from './checks.js';
import { loadConfig } from './load-config.js';
import type { ConfigIssue } from './rules.js';
import { SECRET_CHECKS } from './secret-checks.js';
import { findSetting } from './settings.js';

export interface AuditConfigOptions extends StepContext {
  /** The configuration file, as the user named it (findings keep it as given). */
  file: string;
  /** The environment it is deployed to (--environment); default: the one the file names. */
  environment?: string;
  /** The process environment: `${VAR}` references and secrets the file leaves to it are read here. */
  env: Record<string, string | undefined>;
  /** What a relative `file` is relative to (the cli's working directory); default: the process's. */
  cwd?: string;
}

export const CONFIG_CHECKS: readonly ConfigCheck[] = [...SERVICE_CHECKS, ...SECRET_CHECKS];

/**
 * The file as fingerprints see it: forward slashes, no "./", as given otherwise. A relative path
 * keeps a finding's fingerprint across checkouts; an absolute one ties it to this machine.
 */
function stableFile(file: string): string {
  const normalised = posix.normalize(file.split(sep).join('/'));
  return normalised.startsWith('./') ? normalised.slice(2) : normalised;
}

/** Hardening checks of a governance server configuration (JSON, YAML or .env): `govctl audit --config`. */
export async function auditConfig(options: AuditConfigOptions): Promise<ConfigAuditResult> {
  const { file, env, fingerprintKey, signal, onEvent } = options;
  if (signal?.aborted) throw new InterruptedError();
  const config = await loadConfig(options.cwd !== undefined ? resolve(options.cwd, file) : file);
  onEvent?.({ type: 'progress', step: 'config', message: `read ${file} (${config.format}, ${config.entries.length} settings)` });

  // The environment: --environment wins; else what the file itself says (ENVIRONMENT=...).
  const named = findSetting(config.entries, 'environment')
    .map((e) => resolveEntry(e, env).value)
    .find((v): v is string => typeof v === 'string' && v.trim() !== '');
  const asked = options.environment?.trim() || undefined;
  const effective = asked ?? named;
  const environment = effective === undefined ? undefined : normaliseEnvironment(effective);

  const ctx: CheckContext = {
    config,
    env,
    production: environment === 'production',
    ...(asked !== undefined ? { askedEnvironment: asked } : {}),
    warn: (message) => onEvent?.({ type: 'warning', step: 'config', message }),
  };
  const issues: ConfigIssue[] = CONFIG_CHECKS.flatMap((check) => check(ctx));

  const fileKey = stableFile(file);
  const findings = issues.map((issue): Finding => {
    const location: ConfigLocation = { file, key_path: issue.keyPath, ...(issue.line !== undefined ? { line: issue.line } : {}) };
    // Keyed by rule, file and key: a finding survives line moves and a new (still weak) value.
    const fingerprint = fingerprintOf(fingerprintKey, 'config', issue.rule.id, fileKey, issue.keyPath);
    return {
      id: `${issue.rule.id}:${fingerprint.slice(0, 8)}`,
      rule: issue.rule.id,
      severity: issue.severity,
      category: 'config',
      title: issue.rule.title,
      location,
      evidence: issue.evidence,
      fingerprint,
      remediation: issue.rule.remediation,
      ...(issue.rule.cwe ? { cwe: issue.rule.cwe } : {}),
    };
  });
  findings.sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      ((a.location as ConfigLocation).line ?? Infinity) - ((b.location as ConfigLocation).line ?? Infinity) ||
      a.rule.localeCompare(b.rule),
  );

  return {
    findings,
    summary: {
      file,
      format: config.format,
      ...(environment !== undefined ? { environment } : {}),
      checks: CONFIG_CHECKS.length,
    },
  };
}
