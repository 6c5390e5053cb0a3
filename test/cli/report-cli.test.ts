import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { govctlVersion } from '../../src/core/version.js';
import { decodeHistogram, percentileMs } from '../../src/load/histogram.js';
import type { LoadReport } from '../../src/load/types.js';
import { govctl } from '../helpers/cli.js';
import { buildLoadReportFixture, type LoadReportFixtureOptions } from '../load/fixtures/load-report.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'govctl-report-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function save(name: string, report: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}

/** A shard of a two-way split: its own run id, seed and segment. */
function shard(index: number, options: LoadReportFixtureOptions = {}): LoadReport {
  const report = buildLoadReportFixture({ profile: 'normal', seconds: 12, seed: 100 + index, baseline: false, ...options });
  report.run.id = `20260115T100000Z-shard00${index}`;
  report.data.options.segment = { index, count: 2 };
  return report;
}

const scanReport = {
  schema: 'govctl.scan/v1',
  tool: { name: 'govctl', version: govctlVersion() },
  run: { id: '20260115T100000Z-5ca45ca4', started_at: '2026-01-15T10:00:00.000Z', finished_at: '2026-01-15T10:00:01.000Z', status: 'passed' },
  environment: { os: 'linux', cpus: 2, node: 'v20.18.0' },
  data: { kind: 'secrets', findings: [] },
};

describe('govctl report show', () => {
  it('summarises a load report: totals, endpoints, steps and thresholds', async () => {
    const report = buildLoadReportFixture({ profile: 'stress', seconds: 20 });
    const file = await save('load.json', report);
    const result = await govctl(['report', 'show', file]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(report.run.id);
    expect(result.stdout).toMatch(/profile\s+stress \(closed model\)/);
    for (const name of Object.keys(report.data.endpoints)) expect(result.stdout).toContain(name);
    expect(result.stdout).toContain('Steps');
    expect(result.stdout).toContain('Thresholds');
    expect(result.stdout).toContain('p(95)<500');
  });

  it('-o json gives the figures without the encoded histograms', async () => {
    const report = buildLoadReportFixture({ profile: 'normal', seconds: 10 });
    const file = await save('load.json', report);
    const result = await govctl(['report', 'show', file, '-o', 'json']);
    expect(result.exitCode).toBe(0);
    const shown = JSON.parse(result.stdout) as { totals: Record<string, unknown>; thresholds: unknown[]; profile: string };
    expect(shown.profile).toBe('normal');
    expect(shown.totals['requests']).toBe(report.data.totals.requests);
    expect(shown.totals).not.toHaveProperty('histograms');
    expect(shown.thresholds).toEqual(report.data.thresholds);
  });

  it('shows the envelope of another kind of report', async () => {
    const file = await save('scan.json', scanReport);
    const result = await govctl(['report', 'show', file]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/kind\s+scan \(govctl\.scan\/v1\)/);
  });
});

describe('govctl report compare', () => {
  it('exits 1 with the regressions when the current run is slower', async () => {
    const baseline = buildLoadReportFixture({ profile: 'normal', seconds: 10, baseline: false });
    const current = structuredClone(baseline);
    current.run.id = '20260116T100000Z-c0ffee00';
    current.data.totals.latency_ms.p95 *= 1.5;
    const a = await save('a.json', baseline);
    const b = await save('b.json', current);
    const result = await govctl(['report', 'compare', a, b]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/p95_ms\s.*\+50(\.0)?%.*REGRESSION/);
    expect(result.stdout).toContain('1 regression(s)');

    const json = await govctl(['report', 'compare', a, b, '-o', 'json']);
    expect(json.exitCode).toBe(1);
    const comparison = JSON.parse(json.stdout) as { passed: boolean; regressions: Array<{ metric: string }>; baseline: string; current: string };
    expect(comparison.passed).toBe(false);
    expect(comparison.regressions.map((r) => r.metric)).toEqual(['p95_ms']);
    expect([comparison.baseline, comparison.current]).toEqual([a, b]);
  });

  it('exits 0 when nothing regressed', async () => {
    const baseline = buildLoadReportFixture({ profile: 'normal', seconds: 10, baseline: false });
    const current = structuredClone(baseline);
    current.data.totals.latency_ms.p95 *= 0.8;
    current.data.totals.throughput_rps *= 1.1;
    const result = await govctl(['report', 'compare', await save('a.json', baseline), await save('b.json', current)]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('no regression');
  });
});

describe('govctl report merge', () => {
  it('merges two shard reports: counts summed, histograms added, thresholds evaluated once, files written', async () => {
    const shards = [shard(0), shard(1)];
    const files = [await save('shard-0.json', shards[0]), await save('shard-1.json', shards[1])];
    const out = join(dir, 'merged');
    const result = await govctl(['report', 'merge', ...files, '--out', out, '-o', 'json']);
    expect(result.exitCode).toBe(0);
    const summary = JSON.parse(result.stdout) as { files: { json: string; markdown: string; html: string }; thresholds: unknown[] };
    for (const path of Object.values(summary.files)) expect((await stat(path)).size).toBeGreaterThan(0);
    expect(summary.files.json.startsWith(out)).toBe(true);

    const merged = JSON.parse(await readFile(summary.files.json, 'utf8')) as LoadReport;
    const sum = (pick: (r: LoadReport) => number) => shards.reduce((n, r) => n + pick(r), 0);
    expect(merged.data.totals.requests).toBe(sum((r) => r.data.totals.requests));
    expect(merged.data.totals.ok).toBe(sum((r) => r.data.totals.ok));
    for (const name of Object.keys(shards[0]!.data.endpoints)) {
      expect(merged.data.endpoints[name]!.requests).toBe(sum((r) => r.data.endpoints[name]!.requests));
    }
    // Percentiles come from the added histograms, not from averaging the shards' percentiles.
    const whole = decodeHistogram(shards[0]!.data.totals.histograms.latency);
    whole.add(decodeHistogram(shards[1]!.data.totals.histograms.latency));
    expect(merged.data.totals.latency_ms.p95).toBeCloseTo(percentileMs(whole, 95), 6);
    // Once: one result per expression of the profile, not one per shard.
    const expressions = Object.values(shards[0]!.data.profile.thresholds).flat().length;
    expect(merged.data.thresholds).toHaveLength(expressions);
    expect(summary.thresholds).toEqual(merged.data.thresholds);
    expect(merged.data.thresholds.every((t) => t.passed)).toBe(true);
    expect(merged.data.options.segment).toBeNull();
  });

  it('exits 1 when a threshold fails on the merged result, listing it with the measured value', async () => {
    const shards = [shard(0), shard(1)];
    for (const s of shards) s.data.profile.thresholds = { latency: ['p(95)<1'] };
    const files = [await save('shard-0.json', shards[0]), await save('shard-1.json', shards[1])];
    const result = await govctl(['report', 'merge', ...files, '--out', join(dir, 'merged')]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/latency\s+p\(95\)<1\s+[\d.]+ ms\s+FAIL/);
    expect(result.stdout).toContain('1 threshold(s) failed');
    expect(result.stdout).toContain(join(dir, 'merged'));
  });

  it('refuses the same shard twice', async () => {
    const file = await save('shard-0.json', shard(0));
    const copy = await save('copy.json', shard(0));
    const result = await govctl(['report', 'merge', file, copy, '--out', join(dir, 'merged')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('counted twice');
  });
});

describe('govctl report html', () => {
  it('renders load.html next to the report, or to --out', async () => {
    const file = await save('load.json', buildLoadReportFixture({ profile: 'normal', seconds: 10 }));
    const result = await govctl(['report', 'html', file]);
    expect(result.exitCode).toBe(0);
    const html = await readFile(join(dir, 'load.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(result.stdout.trim()).toBe(join(dir, 'load.html'));

    const elsewhere = join(dir, 'page.html');
    const second = await govctl(['report', 'html', file, '--out', elsewhere]);
    expect(second.exitCode).toBe(0);
    expect(await readFile(elsewhere, 'utf8')).toBe(html);
  });
});

describe('bad report files', () => {
  it('a missing file is exit 5 naming it', async () => {
    const missing = join(dir, 'nope.json');
    for (const args of [['show', missing], ['compare', missing, missing], ['merge', missing, '--out', dir], ['html', missing]]) {
      const result = await govctl(['report', ...args]);
      expect(result.exitCode, args.join(' ')).toBe(5);
      expect(result.stderr).toContain(missing);
    }
  });

  it('a report of another kind is exit 2 naming the file, for the commands that need a load report', async () => {
    const scan = await save('scan.json', scanReport);
    const load = await save('load.json', buildLoadReportFixture({ profile: 'normal', seconds: 5 }));
    for (const args of [['compare', load, scan], ['merge', scan, '--out', dir], ['html', scan]]) {
      const result = await govctl(['report', ...args]);
      expect(result.exitCode, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(scan);
      expect(result.stderr).toContain('govctl.load/v1');
    }
  });

  it('a load report missing a field is exit 2 naming the JSON path', async () => {
    const report = buildLoadReportFixture({ profile: 'normal', seconds: 5 }) as unknown as { data: Record<string, unknown> };
    delete report.data['totals'];
    const file = await save('load.json', report);
    const result = await govctl(['report', 'show', file]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toContain('totals');
  });
});
