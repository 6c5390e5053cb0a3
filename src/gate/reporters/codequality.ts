import { createHash } from 'node:crypto';
import { locationFile, type Severity } from '../../core/findings.js';
import type { GateEvaluation, GateResult } from '../types.js';
import { OUTCOME_TEXT, displayPath, gateFindings, gateReason, gateTitle } from './common.js';

/**
 * A GitLab code quality report (the Code Climate subset GitLab reads): one issue per failed or
 * warned gate, located at the gate in the gate file, and one per finding a security gate counted,
 * located where the finding is. Fingerprints are stable across runs (a gate: its file name and
 * id; a finding: its keyed fingerprint), so GitLab can tell new issues from resolved ones.
 */

export type CodeQualitySeverity = 'info' | 'minor' | 'major' | 'critical' | 'blocker';

export interface CodeQualityIssue {
  type: 'issue';
  check_name: string;
  description: string;
  categories: string[];
  fingerprint: string;
  severity: CodeQualitySeverity;
  location: { path: string; lines: { begin: number } };
}

export interface CodeQualityOptions {
  cwd: string;
  /** The gate file's text, to point each gate's issue at the line of its id. */
  gateFileText?: string;
}

const FINDING_SEVERITY: Record<Severity, CodeQualitySeverity> = { critical: 'blocker', high: 'critical', medium: 'major', low: 'minor', info: 'info' };

function sha256(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex');
}

/** The 1-based line of `"id": "<id>"` in the gate file; 1 when it cannot be found. */
function gateLine(text: string | undefined, id: string): number {
  if (text === undefined) return 1;
  const pattern = new RegExp(`"id"\\s*:\\s*${JSON.stringify(id).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
  const index = text.split('\n').findIndex((line) => pattern.test(line));
  return index < 0 ? 1 : index + 1;
}

/** Code Climate's categories: security, performance (load, chaos, bootstrap), clarity (docs), bug risk (the rest). */
function category(metric: string): string {
  const kind = metric.split('.')[0];
  if (kind === 'security') return 'Security';
  if (kind === 'load' || kind === 'chaos' || kind === 'bootstrap') return 'Performance';
  if (kind === 'docs') return 'Clarity';
  return 'Bug Risk';
}

function gateSeverity(gate: GateResult): CodeQualitySeverity {
  if (gate.result === 'warn') return 'minor';
  return gate.key ? 'blocker' : 'major';
}

export function gateCodeQuality(evaluation: GateEvaluation, options: CodeQualityOptions): CodeQualityIssue[] {
  const gatesPath = displayPath(evaluation.gates_file.source, options.cwd);
  const issues: CodeQualityIssue[] = evaluation.gates
    .filter((g) => g.result !== 'pass')
    .map((gate) => ({
      type: 'issue',
      check_name: `govctl-gate/${gate.id}`,
      description: `${gateTitle(gate)} ${OUTCOME_TEXT[gate.result]}: ${gateReason(gate)}`,
      categories: [category(gate.metric)],
      fingerprint: sha256('govctl-gate', evaluation.gates_file.name, gate.id),
      severity: gateSeverity(gate),
      location: { path: gatesPath, lines: { begin: gateLine(options.gateFileText, gate.id) } },
    }));
  for (const { objective, finding } of gateFindings(evaluation)) {
    const file = locationFile(finding.location);
    const line = (finding.location as { line?: number }).line;
    issues.push({
      type: 'issue',
      check_name: finding.rule,
      description: `${finding.title}: ${finding.evidence}`,
      categories: ['Security'],
      fingerprint: finding.fingerprint,
      severity: FINDING_SEVERITY[finding.severity],
      // Findings without a file (an HTTP probe) point at the report that recorded them.
      location: {
        path: file ?? (objective.source ? displayPath(objective.source.path, options.cwd) : gatesPath),
        lines: { begin: file !== undefined && line !== undefined ? line : 1 },
      },
    });
  }
  return issues;
}
