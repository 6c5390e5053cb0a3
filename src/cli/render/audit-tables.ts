import type { ChalkInstance } from 'chalk';
import type { AuditData } from '../../audit/runner.js';
import type { ApiProbeResult, ConfigAuditResult, SbomResult, StepRecord, VulnsResult } from '../../audit/types.js';
import { describeLocation, SEVERITIES, type Severity } from '../../core/findings.js';
import { renderTable, styled, type TableOptions } from './output.js';

const STATUS_TEXT: Record<StepRecord['status'], string> = { completed: 'ran', not_run: 'NOT RUN', error: 'error', interrupted: 'interrupted' };

/** Notes shown under the table; the rest stay in the report. */
const MAX_NOTES = 5;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** One line on what a step looked at, or why it did not run. */
export function stepDetail(step: StepRecord): string {
  if (step.status !== 'completed') return step.reason ?? (step.status === 'interrupted' ? 'interrupted' : '');
  switch (step.step) {
    case 'sbom': {
      const s = step.summary as SbomResult['summary'] & { spec?: string };
      const by = Object.entries(s.by_ecosystem).map(([eco, n]) => `${eco} ${n}`).join(', ');
      const from = s.manifests.length > 0 ? ` from ${s.manifests.join(', ')}` : '';
      return `${plural(s.components, 'component')}${by ? ` (${by})` : ''}${from}${s.spec ? `, CycloneDX ${s.spec}` : ''}`;
    }
    case 'vulns': {
      const s = step.summary as VulnsResult['summary'];
      return (
        `${plural(s.vulnerabilities, 'vulnerability', 'vulnerabilities')} in ${s.vulnerable_components} of ${plural(s.components, 'component')}; ` +
        `${s.advisories} advisories read${s.withdrawn > 0 ? ` (${s.withdrawn} withdrawn, ignored)` : ''}`
      );
    }
    case 'api': {
      const s = step.summary as ApiProbeResult['summary'];
      const count = (status: string) => s.probes.filter((p) => p.status === status).length;
      const skipped = count('skipped');
      return `${count('passed')} of ${s.probes.length} probes passed${skipped > 0 ? `, ${skipped} skipped` : ''}; ${plural(s.requests, 'request')} to ${s.url}`;
    }
    case 'config': {
      const s = step.summary as ConfigAuditResult['summary'];
      return `${plural(s.checks, 'check')} of ${s.file} (${s.format}${s.environment ? `, environment ${s.environment}` : ''})`;
    }
  }
}

export function renderAudit(data: AuditData, style: ChalkInstance, options: TableOptions & { wide?: boolean } = {}): string {
  const colour: Record<Severity, (t: string) => string> = { critical: style.red.bold, high: style.red, medium: style.yellow, low: style.cyan, info: style.dim };
  const lines: string[] = [];
  if (data.findings.length > 0) {
    const head = ['SEVERITY', 'RULE', 'LOCATION', 'FINDING', ...(options.wide ? ['EVIDENCE'] : [])];
    const rows = data.findings.map((f) => [styled(colour[f.severity](f.severity)), f.rule, describeLocation(f.location), f.title, ...(options.wide ? [f.evidence] : [])]);
    lines.push(renderTable(head, rows, style, options).trimEnd(), '');
  }
  const stepRows = data.steps.map((s) => [
    s.step,
    styled(s.status === 'completed' ? style.green(STATUS_TEXT[s.status]) : style.yellow(STATUS_TEXT[s.status])),
    s.status === 'completed' ? s.findings : null,
    stepDetail(s),
  ]);
  lines.push(renderTable(['STEP', 'STATUS', 'FINDINGS', 'DETAIL'], stepRows, style, options).trimEnd(), '');

  const counts = SEVERITIES.filter((sev) => data.verdict.counts[sev] > 0).map((sev) => `${data.verdict.counts[sev]} ${sev}`);
  // An incomplete audit has not looked everywhere: "no findings" alone would read as clean.
  const none = data.complete ? style.green('no findings') : 'no findings in the steps that ran';
  lines.push(`${data.findings.length === 0 ? none : `${plural(data.findings.length, 'finding')}: ${counts.join(', ')}`} (fail on ${data.fail_on})`);
  if (data.suppressed_by_baseline > 0) lines.push(`${data.suppressed_by_baseline} in the baseline, not shown`);
  const notes = [...new Set(data.steps.flatMap((s) => (s.step === 'sbom' && s.status === 'completed' ? (s.summary as SbomResult['summary']).notes : [])))];
  for (const note of notes.slice(0, MAX_NOTES)) lines.push(`note: ${note}`);
  if (notes.length > MAX_NOTES) lines.push(`note: ${notes.length - MAX_NOTES} more in audit.json (steps[].summary.notes)`);
  const missing = data.steps.filter((s) => s.status !== 'completed').map((s) => s.step);
  if (missing.length > 0) lines.push(style.yellow(`audit incomplete: ${missing.join(', ')} did not run to the end; the audit cannot pass`));
  return `${lines.join('\n')}\n`;
}
