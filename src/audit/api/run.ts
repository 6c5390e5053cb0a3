import { fingerprintOf, type Finding, type Severity } from '../../core/findings.js';
import type { ProbeOutcome } from '../types.js';
import { evidenceOf, type EvidenceOptions } from './evidence.js';
import type { Exchange, Requester } from './requester.js';

/** What every probe works with: the requester, the keys known, and where results go. */
export interface ProbeRun {
  req: Requester;
  fingerprintKey: Uint8Array;
  /** The admin token, when given. */
  adminToken?: string;
  /** The user key this run created, when it could. */
  userToken?: string;
  /** The key id of a key known to exist (the user key's, else the admin key's), for a bad-secret probe. */
  knownKeyId?: string;
  /** Everything that must never appear whole in a report. */
  secrets: string[];
  https: boolean;
  loopback: boolean;
  findings: Finding[];
  outcomes: ProbeOutcome[];
  progress(message: string): void;
}

export interface FindingSpec {
  rule: string;
  severity: Severity;
  title: string;
  /** Where: the exchange that shows it (or a method and path when there is none). */
  at: Exchange | { method: string; path: string };
  /** Evidence as text; built from `at` when absent. */
  evidence?: string;
  /** Shown before the exchange's evidence: what it proves, in one line. */
  lead?: string;
  show?: EvidenceOptions;
  remediation: string;
  cwe?: string;
  references?: string[];
  /** More stable parts for the fingerprint, when one rule can fire several times on one route. */
  distinct?: string[];
}

/** Adds one finding; its fingerprint leaves out host and port, so it is stable across runs. */
export function addFinding(run: ProbeRun, spec: FindingSpec): Finding {
  const method = spec.at.method;
  const path = spec.at.path.split('?')[0]!;
  const fingerprint = fingerprintOf(run.fingerprintKey, spec.rule, method, path, ...(spec.distinct ?? []));
  const exchange = 'headers' in spec.at ? spec.at : undefined;
  const shown = exchange ? evidenceOf(exchange, { ...spec.show, secrets: run.secrets }) : `${method} ${path}`;
  const evidence = spec.evidence ?? (spec.lead ? `${spec.lead}\n${shown}` : shown);
  const finding: Finding = {
    id: `${spec.rule}:${fingerprint.slice(0, 8)}`,
    rule: spec.rule,
    severity: spec.severity,
    category: 'api',
    title: spec.title,
    location: { method, url: run.req.urlOf(path) },
    evidence,
    fingerprint,
    remediation: spec.remediation,
    ...(spec.cwe ? { cwe: spec.cwe } : {}),
    ...(spec.references ? { references: spec.references } : {}),
  };
  run.findings.push(finding);
  return finding;
}

export function outcome(run: ProbeRun, id: string, title: string, status: ProbeOutcome['status'], note?: string): void {
  run.outcomes.push({ id, title, status, ...(note ? { note } : {}) });
}

/** The temporary user key, or undefined after recording the probe as skipped for want of one. */
export function userTokenFor(run: ProbeRun, id: string, title: string, why = 'pass the admin token so a temporary user key can be created'): string | undefined {
  if (run.userToken === undefined) outcome(run, id, title, 'skipped', `needs a user key: ${why}`);
  return run.userToken;
}

/** Passed when the probe added no finding since `before`, else failed. */
export function settle(run: ProbeRun, id: string, title: string, before: number, note?: string): void {
  outcome(run, id, title, run.findings.length > before ? 'failed' : 'passed', note);
}

export const isSuccess = (e: Exchange): boolean => e.status !== undefined && e.status >= 200 && e.status < 300;
export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
export const json = { 'content-type': 'application/json' };
