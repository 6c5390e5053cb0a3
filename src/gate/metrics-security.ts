import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { atOrAbove, describeLocation, type Finding, type Severity } from '../core/findings.js';
import type { AuditData } from '../audit/runner.js';
import type { AuditStepName, StepRecord } from '../audit/types.js';
import { notMeasured, type Measurement, type MeasureContext, type MetricDef } from './metric-types.js';
import { latest, reportSource, type IndexedReport } from './reports.js';
import { SECURITY_SOURCES, type MetricSource, type SecuritySource } from './types.js';

/**
 * Security metrics over the newest scan reports (per scan kind) and audit reports (per step: the
 * newest audit that recorded the step). Every source asked for must have run and completed: a
 * scan or step that did not is "not measured", never zero findings. Findings a baseline
 * suppressed were accepted by the user and are not in the reports, so they are not counted.
 */

interface ScanData {
  kind: 'secrets' | 'patterns';
  findings: Finding[];
}

const STEP_COMMANDS: Record<AuditStepName, string> = {
  sbom: 'govctl audit --sbom',
  vulns: 'govctl audit --vulns --osv-db PATH',
  api: 'govctl audit --api',
  config: 'govctl audit --config FILE',
};

/** The finding categories each audit step produces (vulns also reports unpinned dependencies). */
const STEP_CATEGORIES: Record<AuditStepName, readonly string[]> = {
  sbom: ['dependency'],
  vulns: ['vulnerability', 'dependency'],
  api: ['api'],
  config: ['config'],
};

function sourceCommand(source: SecuritySource, ctx: MeasureContext): string {
  const [kind, name] = source.split(':') as ['scan' | 'audit', string];
  if (kind === 'scan') return `govctl scan ${name} --out ${ctx.dirLabel}`;
  return `${STEP_COMMANDS[name as AuditStepName]}${ctx.outFlag}`;
}

interface Gathered {
  findings: Finding[];
  sources: MetricSource[];
  described: string[];
}

function gather(wanted: readonly SecuritySource[], ctx: MeasureContext): Gathered | Measurement {
  const missing: Array<{ command: string; why: string }> = [];
  const found: Finding[] = [];
  const sources = new Map<string, MetricSource>();
  const described: string[] = [];
  const auditSteps = new Map<IndexedReport<AuditData>, AuditStepName[]>();
  for (const source of wanted) {
    const [kind, name] = source.split(':') as ['scan' | 'audit', string];
    if (kind === 'scan') {
      const entry = latest<ScanData>(ctx.index, 'scan', (e) => e.report.data.kind === name);
      if (!entry) {
        missing.push({ command: sourceCommand(source, ctx), why: `no ${name} scan report under ${ctx.dirLabel}` });
        continue;
      }
      found.push(...entry.report.data.findings);
      sources.set(entry.path, reportSource(entry));
      described.push(`scan ${name} ${entry.report.run.id}`);
      continue;
    }
    const step = name as AuditStepName;
    const entry = latest<AuditData>(ctx.index, 'audit', (e) => e.report.data.steps.some((s) => s.step === step));
    const record = entry?.report.data.steps.find((s) => s.step === step);
    if (!entry || !record) {
      missing.push({ command: sourceCommand(source, ctx), why: `no audit report with the ${step} step under ${ctx.dirLabel}` });
      continue;
    }
    if (record.status !== 'completed') {
      missing.push({ command: sourceCommand(source, ctx), why: `audit ${entry.report.run.id}: the ${step} step ${record.status.replace('_', ' ')}${record.reason ? `: ${record.reason}` : ''}` });
      continue;
    }
    auditSteps.set(entry, [...(auditSteps.get(entry) ?? []), step]);
  }
  if (missing.length > 0) {
    return notMeasured(missing.map((m) => m.command).join('; '), missing.map((m) => m.why).join('; '));
  }
  for (const [entry, steps] of auditSteps) {
    const ran = entry.report.data.steps.map((s: StepRecord) => s.step);
    // Every step of the report is wanted from it: all of its findings. Otherwise, by category.
    const categories = new Set(steps.flatMap((s) => STEP_CATEGORIES[s]));
    const all = ran.every((s) => steps.includes(s));
    found.push(...entry.report.data.findings.filter((f) => all || categories.has(f.category)));
    sources.set(entry.path, reportSource(entry));
    described.push(`audit ${steps.join('+')} ${entry.report.run.id}`);
  }
  const unique = new Map<string, Finding>();
  for (const f of found) unique.set(f.fingerprint || `${f.rule}:${f.id}`, f);
  return { findings: [...unique.values()], sources: [...sources.values()].sort((a, b) => b.finished_at.localeCompare(a.finished_at)), described };
}

const findingsCount: MetricDef = {
  name: 'security.findings',
  unit: 'count',
  label: (f) => `findings at or above ${f.severity ?? 'high'}`,
  required: [],
  optional: ['severity', 'sources'],
  baseline: true,
  kinds: ['scan', 'audit'],
  measure(filter, ctx) {
    const severity: Severity = filter.severity ?? 'high';
    const gathered = gather(filter.sources ?? SECURITY_SOURCES, ctx);
    if ('status' in gathered) return gathered;
    const counted = gathered.findings.filter((f) => atOrAbove(f.severity, severity));
    const shown = counted.slice(0, 3).map((f) => `${f.severity} ${f.rule} (${describeLocation(f.location)})`);
    return {
      status: 'measured',
      value: counted.length,
      description: `findings at or above ${severity} in ${gathered.described.join(', ')} (${gathered.findings.length} findings in all)`,
      sources: gathered.sources,
      findings: counted,
      ...(counted.length > 0 ? { detail: `${shown.join(', ')}${counted.length > 3 ? `, and ${counted.length - 3} more` : ''}` } : {}),
    };
  },
};

const SPEC_VERSIONS = new Set(['1.4', '1.5', '1.6']);

/** Why an SBOM document is not a usable CycloneDX JSON SBOM, or undefined when it is. */
function sbomProblem(text: string, expectedComponents: unknown): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'it is not valid JSON';
  }
  const bom = doc as { bomFormat?: unknown; specVersion?: unknown; components?: unknown };
  if (bom === null || typeof bom !== 'object' || bom.bomFormat !== 'CycloneDX') return 'bomFormat is not "CycloneDX"';
  if (typeof bom.specVersion !== 'string' || !SPEC_VERSIONS.has(bom.specVersion)) return `specVersion ${JSON.stringify(bom.specVersion)} is not 1.4, 1.5 or 1.6`;
  if (!Array.isArray(bom.components)) return 'it has no components array';
  if (typeof expectedComponents === 'number' && bom.components.length !== expectedComponents) {
    return `it lists ${bom.components.length} components where the audit recorded ${expectedComponents}`;
  }
  return undefined;
}

const sbomValid: MetricDef = {
  name: 'security.sbom_valid',
  unit: 'bool',
  label: () => 'SBOM present and valid',
  required: [],
  optional: [],
  baseline: false,
  kinds: ['audit'],
  async measure(_filter, ctx) {
    const entry = latest<AuditData>(ctx.index, 'audit', (e) => e.report.data.steps.some((s) => s.step === 'sbom'));
    const record = entry?.report.data.steps.find((s) => s.step === 'sbom');
    if (!entry || !record) return notMeasured(`${STEP_COMMANDS.sbom}${ctx.outFlag}`, `no audit report with the sbom step under ${ctx.dirLabel}`);
    if (record.status !== 'completed') {
      return notMeasured(`${STEP_COMMANDS.sbom}${ctx.outFlag}`, `audit ${entry.report.run.id}: the sbom step ${record.status.replace('_', ' ')}${record.reason ? `: ${record.reason}` : ''}`);
    }
    const sources = [reportSource(entry)];
    const description = `the SBOM of audit ${entry.report.run.id}`;
    const name = entry.report.data.sbom_file;
    if (name === undefined) return { status: 'measured', value: 0, description, sources, detail: 'the audit names no sbom_file (an SBOM read with --sbom FILE is not written beside the report)' };
    const dir = dirname(entry.path);
    const file = resolve(dir, name);
    if (!file.startsWith(dir + sep)) return { status: 'measured', value: 0, description, sources, detail: `sbom_file "${name}" is outside the report's directory` };
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { status: 'measured', value: 0, description, sources, detail: `${relative(ctx.cwd, file)} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`}` };
    }
    const expected = (record.summary as { components?: unknown } | undefined)?.components;
    const problem = sbomProblem(text, expected);
    if (problem) return { status: 'measured', value: 0, description, sources, detail: `${relative(ctx.cwd, file)}: ${problem}` };
    return { status: 'measured', value: 1, description: `${description}: ${relative(ctx.cwd, file)}`, sources };
  },
};

export const SECURITY_METRICS: readonly MetricDef[] = [findingsCount, sbomValid];
