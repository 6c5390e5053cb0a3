import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { analyseMarkdown } from '../../src/gate/docs.js';
import { evaluateGates } from '../../src/gate/evaluate.js';
import { parseGateFile } from '../../src/gate/schema.js';
import { removeDir, tempDir, writeRelease } from '../fixtures/gate/reports.js';

const DOCS = new URL('../fixtures/gate/docs/', import.meta.url).pathname;
const gates = (g: Record<string, unknown>) => parseGateFile({ gates: [{ id: 'G', name: 'gate', ...g }] }, 'test.json');

describe('documentation gate (G8), measured live', () => {
  let reports: string;
  beforeEach(async () => {
    reports = await tempDir();
  });
  afterEach(async () => {
    await removeDir(reports);
  });

  const docs = (extra: Record<string, unknown>[] = []) =>
    gates({
      metric: 'docs.failing',
      docs: [
        { name: 'README quick start', path: 'README.md', heading: 'quick ?start' },
        { name: 'runbook', path: ['RUNBOOK.md', 'docs/runbook.md'] },
        ...extra,
      ],
      pass: ['==0'],
    });

  it('passes when the documents exist and are non-trivial, naming what was checked', async () => {
    const now = new Date('2026-02-01T00:00:00Z');
    const out = await evaluateGates({ gates: docs(), reportsDir: reports, cwd: DOCS, now });
    expect(out.gates[0]).toMatchObject({ result: 'pass', value: 0, unit: 'count' });
    expect(out.gates[0]!.source).toEqual({ kind: 'live', path: join(DOCS, 'README.md'), run_id: null, finished_at: '2026-02-01T00:00:00.000Z' });
    expect(out.gates[0]!.objectives[0]!.description).toMatch(/README\.md: \d+ bytes, \d+ prose lines, 3 headings, section "Quick start" 4 lines; docs\/runbook\.md: /);
  });

  it('fails on a missing or trivial document, saying which and why', async () => {
    const out = await evaluateGates({
      gates: docs([{ name: 'troubleshooting', path: 'docs/troubleshooting.md' }, { name: 'security policy', path: ['SECURITY.md', 'docs/security.md'] }]),
      reportsDir: reports,
      cwd: DOCS,
    });
    expect(out.gates[0]).toMatchObject({ result: 'fail', value: 2, measured: true });
    expect(out.gates[0]!.reason).toBe(
      'required documents missing or trivial: 2, needs == 0 (docs/troubleshooting.md: 24 bytes < 300, 0 lines of prose < 5; security policy: none of SECURITY.md, docs/security.md exists)',
    );
    const section = await evaluateGates({ gates: gates({ metric: 'docs.failing', docs: [{ path: 'README.md', heading: 'quick ?start', min_section_lines: 10 }], pass: ['==0'] }), reportsDir: reports, cwd: DOCS });
    expect(section.gates[0]!.reason).toContain('section "Quick start" has 4 lines < 10');
    const heading = await evaluateGates({ gates: gates({ metric: 'docs.failing', docs: [{ path: 'README.md', heading: 'getting started' }], pass: ['==0'] }), reportsDir: reports, cwd: DOCS });
    expect(heading.gates[0]!.reason).toContain('README.md: no heading matching /getting started/i');
  });

  it('counts prose outside code fences and headings in both styles', () => {
    const stats = analyseMarkdown('Title\n=====\n\n```\n# not a heading\none two three four\n```\n\nOne two three.\n| a | b |\n|---|---|\n## Sub\n');
    expect(stats.headings.map((h) => [h.level, h.text])).toEqual([[1, 'Title'], [2, 'Sub']]);
    expect(stats.proseLines).toBe(1);
  });
});

describe('release-check metrics: bootstrap (G7) and observability (G6)', () => {
  let reports: string;
  beforeEach(async () => {
    reports = await tempDir();
    await mkdir(join(reports, 'r'));
  });
  afterEach(async () => {
    await removeDir(reports);
  });

  const g6g7 = parseGateFile(
    {
      gates: [
        { id: 'G6', name: 'observability', objectives: [{ metric: 'observability.series_missing', pass: ['==0'] }, { metric: 'observability.health_failures', pass: ['==0'] }] },
        { id: 'G7', name: 'bootstrap', metric: 'bootstrap.seconds', pass: ['<=600'] },
      ],
    },
    'test.json',
  );

  it('not measured without a release report: the command is release-check', async () => {
    const out = await evaluateGates({ gates: g6g7, reportsDir: reports, cwd: reports });
    expect(out.gates.map((g) => g.reason)).toEqual([
      'not measured: govctl release-check --out . (no release report with an observability section under .); not measured: govctl release-check --out . (no release report with an observability section under .)',
      'not measured: govctl release-check --out . (no release report with bootstrap_s under .)',
    ]);
  });

  it('reads bootstrap_s and the observability section of the newest release report', async () => {
    const observability = {
      status: 'measured' as const,
      url: 'http://127.0.0.1:1',
      series_required: ['governance_checks_total', 'process_resident_memory_bytes'],
      series_missing: [],
      health: [{ path: '/health', status: 200, ok: true }, { path: '/ready', status: 200, ok: true }],
    };
    await writeRelease(reports, '2026-01-10T10:00:00Z', { bootstrap_s: 95.5, observability });
    const pass = await evaluateGates({ gates: g6g7, reportsDir: reports, cwd: reports });
    expect(pass.gates.map((g) => [g.id, g.result, g.value])).toEqual([['G6', 'pass', 0], ['G7', 'pass', 95.5]]);

    await writeRelease(reports, '2026-01-11T10:00:00Z', {
      bootstrap_s: 720,
      observability: { ...observability, series_missing: ['governance_checks_total'], health: [{ path: '/ready', status: 503, ok: false }] },
    });
    const fail = await evaluateGates({ gates: g6g7, reportsDir: reports, cwd: reports });
    expect(fail.gates[0]!.reason).toBe(
      'required /metrics series missing: 1, needs == 0 (missing: governance_checks_total); health endpoints not answering: 1, needs == 0 (/ready 503)',
    );
    expect(fail.gates[1]!.reason).toBe('bootstrap time (fresh install to first successful run): 720 s, needs <= 600 s (12 min)');

    await writeRelease(reports, '2026-01-12T10:00:00Z', { bootstrap_s: null, bootstrap_reason: 'npm install failed', observability: { status: 'not_measured', reason: 'no /metrics endpoint' } });
    const broken = await evaluateGates({ gates: g6g7, reportsDir: reports, cwd: reports });
    expect(broken.gates[0]!.reason).toMatch(/^not measured: govctl release-check --out \. \(release-check run-\d+: observability not measured: no \/metrics endpoint\)/);
    expect(broken.gates[1]).toMatchObject({ result: 'fail', value: null, measured: true, reason: 'bootstrap time (fresh install to first successful run): the bootstrap did not succeed: npm install failed' });
  });
});
