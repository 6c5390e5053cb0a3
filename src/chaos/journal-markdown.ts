import { md } from '../load/report-markdown.js';
import type { ChaosReport, HypothesisSummary, ProbeJournal } from './types.js';

/**
 * The chaos journal as Markdown (chaos.md): the run, then per probe a table of what an operator
 * asks (status, detection, recovery against the budget, acknowledged decisions lost, checks) and
 * the reasons. Text that came from a server or a probe is escaped, so it stays one table cell.
 */
export function renderChaosMarkdown(report: ChaosReport): string {
  const d = report.data;
  const out = [
    `# govctl chaos ${md(report.run.id)}`,
    '',
    `**Status: ${md(report.run.status)}**`,
    '',
    `Target: ${md(report.target ? `${report.target.url} (${report.target.kind}${report.target.version ? `, ${report.target.version}` : ''})` : 'unknown')}. ` +
      `Samples every ${d.options.interval_ms} ms; recovered after ${d.options.healthy_samples} consecutive healthy samples; ` +
      `budget ${d.options.budget_s} s; lasting faults held ${seconds(d.options.fault_duration_ms / 1000)}; background traffic ${d.options.traffic_rate} decisions/s.`,
    '',
    '| probe | status | detection | recovery | budget | records acknowledged | records lost | checks |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...d.probes.map(summaryRow),
    '',
  ];
  for (const j of d.probes) out.push(...probeSection(j));
  out.push(`_Written by govctl ${md(report.tool.version)}; the samples timeline is in chaos.json._`, '');
  return out.join('\n');
}

function summaryRow(j: ProbeJournal): string {
  const cells = [j.probe, j.status, seconds(j.detection_s), seconds(j.recovery_s), seconds(j.budget_s), ...recordCells(j), checksCell(j)];
  return `| ${cells.map(md).join(' | ')} |`;
}

function probeSection(j: ProbeJournal): string[] {
  const out = [`## ${md(j.probe)}: ${md(j.status)}`, ''];
  if (j.reasons.length > 0) out.push(...j.reasons.map((r) => `- ${md(r)}`), '');
  if (j.status === 'skipped') return out;
  const rows: Array<[string, string]> = [
    ['fault', j.fault ? `${j.fault.kind} ${JSON.stringify(j.fault.params)}` : 'not injected'],
    ['hypothesis before', hypothesis(j.hypothesis.before)],
    ['hypothesis during', hypothesis(j.hypothesis.during)],
    ['hypothesis after', hypothesis(j.hypothesis.after)],
    ['detection', seconds(j.detection_s)],
    ['recovery', `${seconds(j.recovery_s)} (budget ${seconds(j.budget_s)})`],
    ['records', j.records.status === 'measured' ? `${j.records.acknowledged} acknowledged, ${j.records.lost} lost` : `not measured: ${j.records.reason}`],
    ['traffic', `${j.traffic.sent} sent, ${j.traffic.acknowledged} acknowledged${errorsText(j.traffic.errors)}`],
  ];
  out.push('| | |', '| --- | --- |', ...rows.map(([k, v]) => `| ${md(k)} | ${md(v)} |`), '');
  if (j.checks.length > 0) {
    out.push('| check | result | detail |', '| --- | --- | --- |');
    out.push(...j.checks.map((c) => `| ${md(c.name)} | ${c.passed ? 'pass' : '**FAIL**'} | ${md(c.detail)} |`), '');
  }
  return out;
}

function recordCells(j: ProbeJournal): [string, string] {
  return j.records.status === 'measured' ? [String(j.records.acknowledged), String(j.records.lost)] : ['not measured', 'not measured'];
}

function checksCell(j: ProbeJournal): string {
  if (j.checks.length === 0) return '-';
  const failed = j.checks.filter((c) => !c.passed).length;
  return failed === 0 ? `${j.checks.length} passed` : `${failed} of ${j.checks.length} failed`;
}

function hypothesis(h: HypothesisSummary): string {
  if (h.samples === 0) return 'no samples';
  return `${h.holding}/${h.samples} samples held${h.held ? '' : ' (did not hold)'}`;
}

function errorsText(errors: Record<string, number>): string {
  const entries = Object.entries(errors);
  return entries.length === 0 ? '' : `; errors: ${entries.map(([k, v]) => `${k} ${v}`).join(', ')}`;
}

/** "0.42 s", "-" when not measured. */
export function seconds(value: number | null): string {
  return value === null ? '-' : `${value < 10 ? value.toFixed(2) : Number.isInteger(value) ? value : value.toFixed(1)} s`;
}
