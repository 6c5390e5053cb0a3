import cvss from 'ae-cvss-calculator';
import { severityRank, type Severity } from '../../core/findings.js';
import type { OsvAdvisory, OsvAffected, OsvSeverityItem } from './osv-schema.js';

/**
 * An advisory's severity. Order of evidence: a CVSS v3/v4 vector (the highest base score of
 * those given; v2 only when there is no newer vector), per affected package when the advisory
 * has one, else for the advisory; then the database's own word (GitHub: CRITICAL, HIGH,
 * MODERATE, LOW); else unknown.
 */
export interface SeverityAssessment {
  severity: Severity;
  /** False when the advisory gives no usable severity (see UNKNOWN_SEVERITY). */
  known: boolean;
  /** Where it came from, for the evidence: "CVSS:3.1/AV:N/... = 9.8", "database severity MODERATE". */
  source: string;
}

/**
 * The severity of a vulnerability whose advisories give none (common for PYSEC entries without
 * a GHSA alias). High, so that the default `--fail-on high` gate does not pass a known-vulnerable
 * version silently; the evidence says the severity is unknown.
 */
export const UNKNOWN_SEVERITY: Severity = 'high';

/** CVSS qualitative rating (FIRST): 9.0+ critical, 7.0+ high, 4.0+ medium, above 0 low, 0 none (info). */
export function severityOfScore(score: number): Severity {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'info';
}

/** The base metrics each version requires: an incomplete vector would otherwise score 0. */
const REQUIRED: Record<string, string[]> = {
  '2.0': ['AV', 'AC', 'Au', 'C', 'I', 'A'],
  '3.0': ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'],
  '3.1': ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'],
  '4.0': ['AV', 'AC', 'AT', 'PR', 'UI', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA'],
};

/** Base score of a CVSS vector, or undefined when it is not a complete, valid v2/v3.x/v4.0 vector. */
export function cvssBaseScore(vector: string): { version: string; score: number } | undefined {
  const text = vector.trim();
  const prefix = /^CVSS:(\d\.\d)\//.exec(text);
  const version = prefix ? prefix[1]! : '2.0';
  const required = REQUIRED[version];
  if (!required) return undefined;
  const metrics = new Set(
    text
      .slice(prefix ? prefix[0].length : 0)
      .split('/')
      .map((part) => part.split(':')[0]),
  );
  if (!required.every((metric) => metrics.has(metric))) return undefined;
  try {
    const parsed = cvss.fromVector(text) as { calculateScores(): { base?: number; baseMetricsOnly?: number } } | null;
    if (!parsed) return undefined;
    const scores = parsed.calculateScores();
    const score = version === '4.0' ? (scores.baseMetricsOnly ?? scores.base) : scores.base;
    return typeof score === 'number' && Number.isFinite(score) ? { version, score } : undefined;
  } catch {
    return undefined;
  }
}

function fromVectors(items: OsvSeverityItem[]): SeverityAssessment | undefined {
  let best: { score: number; vector: string; modern: boolean } | undefined;
  for (const item of items) {
    if (!/^CVSS_V[234]$/.test(item.type)) continue;
    const result = cvssBaseScore(item.score);
    if (!result) continue;
    const modern = result.version !== '2.0';
    // A v3/v4 vector outranks any v2 one; among equals the highest score wins.
    if (!best || (modern && !best.modern) || (modern === best.modern && result.score > best.score)) {
      best = { score: result.score, vector: item.score.trim(), modern };
    }
  }
  return best && { severity: severityOfScore(best.score), known: true, source: `${best.vector} = ${best.score.toFixed(1)}` };
}

const DATABASE_WORDS: Record<string, Severity> = {
  CRITICAL: 'critical',
  HIGH: 'high',
  MODERATE: 'medium',
  MEDIUM: 'medium',
  LOW: 'low',
};

function fromDatabase(...sources: (Record<string, unknown> | undefined)[]): SeverityAssessment | undefined {
  for (const source of sources) {
    const word = source?.['severity'];
    if (typeof word !== 'string') continue;
    const severity = DATABASE_WORDS[word.trim().toUpperCase()];
    if (severity) return { severity, known: true, source: `database severity ${word.trim()}` };
  }
  return undefined;
}

/** The severity of `advisory` for the `affected` entries that matched the component. */
export function assessSeverity(advisory: OsvAdvisory, matched: OsvAffected[]): SeverityAssessment {
  const own = matched.flatMap((a) => a.severity ?? []);
  return (
    fromVectors(own) ??
    fromVectors(advisory.severity ?? []) ??
    fromDatabase(...matched.map((a) => a.database_specific), ...matched.map((a) => a.ecosystem_specific), advisory.database_specific) ?? {
      severity: UNKNOWN_SEVERITY,
      known: false,
      source: 'no CVSS vector or database severity',
    }
  );
}

/** The worst known severity of several advisories of one vulnerability; unknown only if all are. */
export function worstSeverity(assessments: SeverityAssessment[]): SeverityAssessment {
  const known = assessments.filter((a) => a.known);
  const pool = known.length > 0 ? known : assessments;
  return pool.reduce((worst, a) => (severityRank(a.severity) > severityRank(worst.severity) ? a : worst));
}
