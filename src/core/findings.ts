import { createHmac } from 'node:crypto';

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

/** A place in a source file (scan findings). */
export interface FileLocation {
  file: string;
  line: number;
  column: number;
  /** The commit that added the line, for findings from git history. */
  commit?: string;
}

/** A package, by package URL (audit: a vulnerable dependency), and the manifest that pulls it in. */
export interface PackageLocation {
  /** "pkg:npm/lodash@4.17.20" (https://github.com/package-url/purl-spec). */
  purl: string;
  /** Relative path of the manifest or lock file naming it, when known. */
  manifest?: string;
}

/** A key in a configuration file (audit: an unsafe setting). */
export interface ConfigLocation {
  file: string;
  /** Dotted path of the key: "server.tls.enabled". */
  key_path: string;
  /** 1-based, when the parser knows it. */
  line?: number;
}

/** One HTTP exchange (audit: an API probe). */
export interface HttpLocation {
  method: string;
  url: string;
}

/** @deprecated the old name of HttpLocation. */
export type UrlLocation = HttpLocation;

export type Location = FileLocation | PackageLocation | ConfigLocation | HttpLocation;

export type LocationKind = 'file' | 'package' | 'config' | 'http';

/** Which shape a location has (they are told apart by their fields, so JSON stays plain). */
export function locationKind(location: Location): LocationKind {
  if ('purl' in location) return 'package';
  if ('key_path' in location) return 'config';
  if ('url' in location) return 'http';
  return 'file';
}

/** One line for people: "src/a.py:3:7", "pkg:npm/x@1 (package-lock.json)", "app.yaml: tls.enabled", "GET https://…". */
export function describeLocation(location: Location): string {
  switch (locationKind(location)) {
    case 'package': {
      const l = location as PackageLocation;
      return l.manifest ? `${l.purl} (${l.manifest})` : l.purl;
    }
    case 'config': {
      const l = location as ConfigLocation;
      return `${l.file}${l.line !== undefined ? `:${l.line}` : ''}: ${l.key_path}`;
    }
    case 'http': {
      const l = location as HttpLocation;
      return `${l.method} ${l.url}`;
    }
    default: {
      const l = location as FileLocation;
      const at = `${l.file}:${l.line}:${l.column}`;
      return l.commit ? `${at} @${l.commit.slice(0, 10)}` : at;
    }
  }
}

/** The file a location is in, when it is in one (a package's manifest counts). */
export function locationFile(location: Location): string | undefined {
  if ('purl' in location) return location.manifest;
  if ('file' in location) return location.file;
  return undefined;
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
  location: Location;
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

/**
 * HMAC-SHA256 over the parts with a per-project secret key (see core/fingerprint-key.ts), hex,
 * first 32 characters. Keyed, because the parts may hold a secret: an unkeyed hash of a weak
 * password in a SARIF file or a baseline gives the password back to anyone with a word list.
 */
export function fingerprintOf(key: Uint8Array, ...parts: string[]): string {
  if (key.length < 16) throw new Error('fingerprint key too short');
  return createHmac('sha256', key).update(parts.join('\u0000')).digest('hex').slice(0, 32);
}
