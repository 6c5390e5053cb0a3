import { createHash } from 'node:crypto';
import type { Finding, Severity } from '../core/findings.js';
import type { LoadReportData } from './types.js';

/**
 * What a load run found about the server beyond pass/fail numbers, in the shared findings model
 * (so gates count them like scan and audit findings). Evidence holds counts, never a secret, so
 * an unkeyed fingerprint is safe here.
 */
export function loadFindings(data: LoadReportData, url: string): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: string, severity: Severity, title: string, evidence: string, remediation: string, path: string) => {
    findings.push({
      id: `load-${findings.length + 1}`,
      rule,
      severity,
      category: 'load',
      title,
      location: { method: 'POST', url: new URL(path, url).href },
      evidence,
      fingerprint: createHash('sha256').update(`${rule}\u0000${new URL(url).origin}\u0000${path}`).digest('hex').slice(0, 32),
      remediation,
    });
  };
  const checkPath = data.scenario.requests.find((r) => r.path.startsWith('/v1/check'))?.path ?? '/v1/check';
  const missingRetryAfter = data.totals.throttled_without_retry_after;
  if (missingRetryAfter > 0) {
    add(
      'rate-limit-without-retry-after',
      'medium',
      '429 responses without Retry-After',
      `${missingRetryAfter} of ${data.totals.throttled} throttled responses had no Retry-After header`,
      'send Retry-After (seconds) with every 429 so clients back off for the right time instead of retrying at once',
      checkPath,
    );
  }
  if (data.throttling !== null && data.throttling.throttled === 0 && data.totals.requests > 0) {
    add(
      'rate-limit-not-engaged',
      'medium',
      'the per-key rate limit did not engage under a burst',
      `${data.totals.requests} requests on ${data.keys.count} key(s) in ${(data.totals.duration_ms / 1000).toFixed(1)} s, none throttled`,
      'configure a per-key rate limit so one client cannot take the whole server',
      checkPath,
    );
  }
  if (data.audit.status === 'measured' && data.audit.lost > 0) {
    add(
      'audit-records-lost',
      'high',
      'acknowledged decisions missing from the usage log',
      `${data.audit.lost} of ${data.audit.acknowledged} decisions answered with 200 are not in the usage log`,
      'commit the audit record before answering 200 (and refuse the decision when it cannot be written)',
      checkPath,
    );
  }
  return findings;
}
