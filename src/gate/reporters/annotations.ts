import { atOrAbove, locationFile } from '../../core/findings.js';
import type { GateEvaluation } from '../types.js';
import { OUTCOME_TEXT, failsUnder, gateFindings, gateReason, gateTitle } from './common.js';

/**
 * GitHub Actions workflow commands for an evaluation: `::error` for each failed gate (and warned
 * ones under strict), `::warning` for warned gates, and one annotation per counted finding that
 * sits in a file (at most MAX_FINDING_ANNOTATIONS: GitHub shows ten per kind and step anyway).
 * Report text is escaped as the runner expects, so a reason cannot end the command early or
 * start another one.
 */

export const MAX_FINDING_ANNOTATIONS = 10;

/** The message part: %, CR and LF escaped. */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A property value: also ':' and ','. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function command(level: 'error' | 'warning' | 'notice', properties: Record<string, string | number | undefined>, message: string): string {
  const props = Object.entries(properties)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',');
  return `::${level}${props ? ` ${props}` : ''}::${escapeData(message)}`;
}

/** The workflow command lines (no trailing newline on each). */
export function gateAnnotations(evaluation: GateEvaluation, options: { strict?: boolean } = {}): string[] {
  const strict = options.strict === true;
  const lines: string[] = [];
  for (const gate of evaluation.gates) {
    if (gate.result === 'pass') continue;
    const level = failsUnder(gate, strict) ? 'error' : 'warning';
    lines.push(command(level, { title: `govctl gate ${gateTitle(gate)}: ${OUTCOME_TEXT[gate.result]}${gate.key ? ' (key gate)' : ''}` }, gateReason(gate)));
  }
  const findings = gateFindings(evaluation).filter(({ finding }) => locationFile(finding.location) !== undefined);
  for (const { gate, finding } of findings.slice(0, MAX_FINDING_ANNOTATIONS)) {
    const loc = finding.location as { line?: number; column?: number };
    lines.push(
      command(
        atOrAbove(finding.severity, 'high') ? 'error' : 'warning',
        { file: locationFile(finding.location), line: loc.line, col: loc.line !== undefined ? loc.column : undefined, title: `${finding.rule} (${finding.severity}, gate ${gate.id})` },
        `${finding.title}: ${finding.evidence}`,
      ),
    );
  }
  if (findings.length > MAX_FINDING_ANNOTATIONS) {
    lines.push(command('notice', { title: 'govctl gate' }, `${findings.length - MAX_FINDING_ANNOTATIONS} more finding(s) not annotated: see the SARIF or gate report`));
  }
  lines.push(command(evaluation.result === 'pass' ? 'notice' : evaluation.result === 'warn' && !strict ? 'warning' : 'error', { title: `govctl gate ${evaluation.gates_file.name}` }, evaluation.reason));
  return lines;
}
