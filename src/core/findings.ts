import { createHash } from 'node:crypto';

/** One model for everything scan and audit find. */
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/** Higher is worse: critical 4 ... info 0. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.length - 1 - SEVERITIES.indexOf(severity);
}

/** True when `severity` is at or above `threshold`. */
export function atOrAbove(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) >= severityRank(threshold);
}

export interface FileLocation {
  file: string;
  line: number;
  column: number;
  /** The commit that added the line, for findings from git history. */
  commit?: string;
}

export interface UrlLocation {
  url: string;
  method: string;
}

export interface Finding {
  /** Unique within one report. */
  id: string;
  /** Stable rule id, e.g. "aws-access-key-id". */
  rule: string;
  severity: Severity;
  /** "secret", "dangerous-code", "vulnerability", "api", "config", ... */
  category: string;
  title: string;
  location: FileLocation | UrlLocation;
  /** What was found, redacted: never a raw secret. */
  evidence: string;
  /** Stable across runs and line moves: identifies the same finding in a baseline. */
  fingerprint: string;
  remediation: string;
  cwe?: string;
  references?: string[];
}

/** First 4 characters, then an ellipsis: enough to recognise, too little to use. */
export function redact(secret: string): string {
  return secret.length <= 4 ? '…' : `${secret.slice(0, 4)}…`;
}

/** sha256 over the parts, hex, first 32 characters. */
export function fingerprintOf(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}
