import { describe, expect, it } from 'vitest';
import { md, renderLoadMarkdown } from '../../src/load/report-markdown.js';
import { buildLoadReportFixture } from './fixtures/load-report.js';

/** Splits a GFM table row into its cells, honouring escaped pipes. */
function cells(row: string): string[] {
  return row.trim().slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
}

/** The table right after a "## title" heading (first table of the section). */
function table(markdown: string, title: string): string[][] {
  const start = markdown.indexOf(`## ${title}\n`);
  expect(start, `section ${title}`).toBeGreaterThanOrEqual(0);
  const lines = markdown.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (let i = first; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(cells(lines[i]!));
  return rows;
}

describe('load.md', () => {
  const stress = buildLoadReportFixture();
  const text = renderLoadMarkdown(stress);

  it('has the summary, endpoint, threshold, step, baseline, audit and generator tables', () => {
    for (const title of ['Summary', 'Endpoints', 'Status codes and error classes', 'Stress steps', 'Thresholds', 'Baseline comparison', 'Audit accounting', 'Generator health']) {
      expect(text).toContain(`## ${title}\n`);
    }
    const summary = Object.fromEntries(table(text, 'Summary').slice(2).map(([k, v]) => [k, v]));
    expect(summary.Requests).toBe(`${stress.data.totals.requests.toLocaleString('en-US')} (${stress.data.totals.ok.toLocaleString('en-US')} ok)`);
    expect(summary['Breaking point']).toBe('500 VUs');
    const endpoints = table(text, 'Endpoints');
    expect(endpoints[0]).toEqual(['endpoint', 'request', 'requests', 'req/s', 'error rate', 'throttled', 'p50', 'p95', 'p99', 'max']);
    expect(endpoints[1]![1]).toBe('---');
    expect(endpoints[1]![2]).toBe('---:');
    expect(endpoints.slice(2).map((r) => r[0]!.replace(/\*\*/g, ''))).toEqual(['check\\_allowed', 'check\\_blocked', 'evaluate']);
    const steps = table(text, 'Stress steps');
    expect(steps.slice(2)).toHaveLength(4);
    expect(steps.at(-1)!.at(-1)).toMatch(/^BREAKING POINT: error rate/);
    const thresholds = table(text, 'Thresholds').slice(2);
    expect(thresholds.map((r) => r[3])).toEqual(stress.data.thresholds.map((t) => (t.passed ? 'pass' : 'FAIL')));
    expect(table(text, 'Audit accounting').slice(2)).toContainEqual(['Lost', '0']);
  });

  it('keeps hostile names in one cell: pipes, newlines, HTML and Markdown are escaped', () => {
    const name = 'a|b\nc <img src=x onerror=alert(1)> *x* [l](http://e) `c`';
    const report = buildLoadReportFixture({ profile: 'normal', seconds: 3, endpoints: [name, 'b', 'c'], tags: { 'k|1': 'v\r\n2' } });
    const out = renderLoadMarkdown(report);
    const endpoints = table(out, 'Endpoints');
    for (const row of endpoints) expect(row).toHaveLength(10);
    expect(endpoints[2]![0]).toBe(md('a|b\\x0ac <img src=x onerror=alert(1)> *x* [l](http://e) `c`'));
    expect(out).not.toMatch(/(?<!\\)<img/);
    expect(out).not.toMatch(/(?<!\\)\[l(?<!\\)\]/);
    for (const line of out.split('\n').filter((l) => l.startsWith('| Tags'))) expect(cells(line)).toEqual(['Tags', 'k\\|1=v\\\\x0d\\\\x0a2']);
  });

  it('escapes every Markdown and HTML metacharacter and folds line breaks', () => {
    expect(md('a|b')).toBe('a\\|b');
    expect(md('x\ny\r\nz\u2028w')).toBe('x y z w');
    expect(md('<b>&amp;</b>')).toBe('\\<b\\>\\&amp;\\</b\\>');
    expect(md('*_`~#[]\\')).toBe('\\*\\_\\`\\~\\#\\[\\]\\\\');
  });

  it('marks an interrupted run as partial and warns when the generator was the bottleneck', () => {
    const out = renderLoadMarkdown(buildLoadReportFixture({ profile: 'normal', seconds: 3, status: 'interrupted', bottleneck: true }));
    expect(out).toContain('**Status: interrupted (partial results)**');
    expect(out).toContain('> [!CAUTION]\n> **Interrupted: partial results**');
    expect(out).toContain('> [!WARNING]\n> **The load generator was itself the bottleneck**');
    expect(out).toContain('> - event-loop lag p99 85 ms \\> 20 ms');
  });

  it('says "not measured" with the reason, never 0, and leaves out sections the profile did not ask for', () => {
    const soak = buildLoadReportFixture({ profile: 'soak', seconds: 30 });
    soak.data.audit = { status: 'not_measured', reason: 'the server has no admin logs API' };
    const out = renderLoadMarkdown(soak);
    expect(out).toContain('## Audit accounting\n\nNot measured: the server has no admin logs API.\n');
    expect(out).not.toContain('| Lost |');
    expect(out).not.toContain('## Stress steps');
    expect(out).toContain('## Drift (first vs last tenth of the run)');
    expect(out).toContain('## Server memory');
  });

  it('lists baseline regressions and the burst run’s throttling and findings', () => {
    const burst = buildLoadReportFixture({ profile: 'burst', seconds: 5 });
    burst.data.baseline = {
      source: 'baselines/burst.json',
      passed: false,
      regressions: [{ metric: 'p95_ms', baseline: 10, current: 12, change: '+20.0%', limit: '+10%' }],
      deltas: [{ metric: 'p95_ms', baseline: 10, current: 12, change: '+20.0%' }],
    };
    const out = renderLoadMarkdown(burst);
    expect(out).toContain('**Regression against the baseline (baselines/burst.json)**');
    expect(table(out, 'Baseline comparison').slice(2)).toEqual([['**p95\\_ms**', '10', '12', '+20.0%']]);
    expect(out).toContain('| **p95\\_ms** | 10 | 12 | +20.0% | +10% |');
    expect(table(out, 'Rate limiting').slice(2)).toContainEqual(['Throttled (429)', burst.data.totals.throttled.toLocaleString('en-US')]);
    expect(out).toContain('## Findings');
  });
});
