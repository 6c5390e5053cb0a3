import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeHistogram, newHistogram } from '../../src/load/histogram.js';
import { html, inlineElementText, jsonForScript } from '../../src/load/html/escape.js';
import { REPORT_CSP, renderLoadHtml } from '../../src/load/report-html.js';
import type { LoadReport } from '../../src/load/types.js';
import { GovernanceClient } from '../../src/client/governance-client.js';
import { runLoadEngine } from '../../src/load/engine.js';
import { applyOverrides, loadProfile } from '../../src/load/profile.js';
import { loadScenario } from '../../src/load/scenario.js';
import { startTestServer } from '../helpers/server.js';
import { buildLoadReportFixture } from './fixtures/load-report.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`report-html: the browser tests are skipped because ${CHROMIUM} does not exist (apt-get install chromium; .ci/run installs it in CI)`);
}

/**
 * The few browser globals the in-page checks use, typed here because the project compiles
 * without the DOM lib (types only: the functions run in the page, where the real ones exist).
 */
interface El {
  id: string;
  textContent: string | null;
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): Iterable<El> & { length: number };
}
interface Canvas extends El {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
interface Plot {
  govctlId: string;
  data: Array<Array<number | null>>;
  root: El;
}
interface Page {
  document: El & { images: { length: number }; getElementById(id: string): El | null };
  govctlCharts: Plot[];
  __pwned?: number;
}

const XSS = '</script><img src=x onerror="window.__pwned=1">';

describe('load.html markup (no browser)', () => {
  const report = buildLoadReportFixture({ endpoints: [XSS, 'check_blocked', 'evaluate'], tags: { note: XSS } });
  const page = renderLoadHtml(report);

  it('is one self-contained file: a strict CSP, nothing loaded from elsewhere', () => {
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).toContain(`<meta http-equiv="Content-Security-Policy" content="${html(REPORT_CSP)}">`);
    expect(page).not.toMatch(/<link\b/i);
    expect(page).not.toMatch(/<(script|img|iframe)\b[^>]*\ssrc=/i);
    expect(page).not.toMatch(/@import|url\(\s*['"]?https?:/i);
    // Exactly the three script elements the page has: the data, uPlot and the page script.
    expect(page.match(/<script\b/gi)).toHaveLength(3);
  });

  it('shows server-supplied names as text, never as markup', () => {
    expect(page).not.toContain('<img');
    expect(page).toContain(html(XSS));
    const json = /<script type="application\/json" id="govctl-load-data">([^<]*)<\/script>/.exec(page);
    expect(json).not.toBeNull();
    const data = JSON.parse(json![1]!) as { charts: Array<{ series: Array<{ label: string }> }> };
    expect(data.charts.flatMap((c) => c.series.map((s) => s.label))).toContain(XSS);
  });

  it('escapes the embedded JSON and inlined code so nothing can end their element', () => {
    const tricky = { s: '</script><!-- & \u2028 \u2029 >' };
    const out = jsonForScript(tricky);
    expect(out).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(out)).toEqual(tricky);
    expect(inlineElementText('a="</SCRIPT>"; b="<!--"', 'script')).toBe('a="<\\/SCRIPT>"; b="<\\!--"');
    expect(inlineElementText('x{content:"</style>"}', 'style')).toBe('x{content:"<\\/style>"}');
  });
});

/** What the browser saw while opening one report file. */
interface Visit {
  requests: string[];
  problems: string[];
  charts: Array<{ id: string; points: number; series: number; nonNull: number[]; width: number; height: number; inked: number; strokeInk: number }>;
  noData: string[];
  text: (selector: string) => Promise<string>;
  evaluate: <T>(fn: () => T) => Promise<T>;
}

describe.skipIf(!hasChromium)('load.html in a real headless browser', () => {
  let browser: Browser;
  let dir: string;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-load-html-'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    for (const close of closers) await close().catch(() => undefined);
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function visit(name: string, report: LoadReport, tamper = (page: string) => page): Promise<Visit> {
    const path = join(dir, `${name}.html`);
    await writeFile(path, tamper(renderLoadHtml(report)));
    const url = pathToFileURL(path).href;
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    closers.push(() => context.close());
    const requests: string[] = [];
    const problems: string[] = [];
    // Anything but the file itself is recorded and refused, so a stray fetch can never leave the machine.
    await context.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
    const page = await context.newPage();
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    await page.goto(url, { waitUntil: 'load' });
    const charts = await page.evaluate(() => {
      const { document, govctlCharts: plots } = globalThis as unknown as Page;
      const specs = (JSON.parse(document.getElementById('govctl-load-data')!.textContent!) as { charts: Array<{ id: string; series: Array<{ color: string }> }> }).charts;
      const rgb = (color: string) => [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
      return plots.map((u) => {
        const canvas = u.root.querySelector('canvas') as Canvas;
        const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
        const stroke = rgb(specs.find((s) => s.id === u.govctlId)!.series[0]!.color);
        let inked = 0;
        let strokeInk = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3]! === 0) continue;
          inked++;
          if (Math.abs(data[i]! - stroke[0]!) + Math.abs(data[i + 1]! - stroke[1]!) + Math.abs(data[i + 2]! - stroke[2]!) < 40) strokeInk++;
        }
        return {
          id: u.govctlId,
          points: u.data[0]!.length,
          series: u.data.length - 1,
          nonNull: u.data.slice(1).map((s) => s.filter((v) => v !== null).length),
          width: canvas.width,
          height: canvas.height,
          inked,
          strokeInk,
        };
      });
    });
    const noData = await page.$$eval('.no-data', (els) => els.map((e) => `${e.id}: ${e.textContent}`));
    return {
      requests,
      problems,
      charts,
      noData,
      text: async (selector) => (await page.textContent(selector)) ?? '',
      evaluate: (fn) => page.evaluate(fn),
    };
  }

  it('draws every chart with data, without console errors or any request but the file', async () => {
    const report = buildLoadReportFixture({ model: 'open', bottleneck: true });
    const v = await visit('stress', report);
    expect(v.problems).toEqual([]);
    expect(v.requests).toEqual([expect.stringMatching(/^file:\/\/.*stress\.html$/)]);
    expect(v.noData).toEqual([]);
    expect(v.charts.map((c) => c.id)).toEqual(['chart-latency', 'chart-throughput', 'chart-distribution', 'chart-memory']);
    for (const c of v.charts) {
      expect(c.points, c.id).toBeGreaterThan(1);
      expect(c.nonNull.every((n) => n > 0), `${c.id} series ${c.nonNull.join(',')}`).toBe(true);
      expect(c.width, c.id).toBeGreaterThan(0);
      expect(c.height, c.id).toBeGreaterThan(0);
      expect(c.inked, c.id).toBeGreaterThan(1000);
      // The first series' own colour is on the canvas: the data was drawn, not just the grid.
      expect(c.strokeInk, c.id).toBeGreaterThan(50);
    }
    expect(v.charts.find((c) => c.id === 'chart-latency')!.points).toBe(report.data.intervals.length);
    // Totals, service time and three endpoints on the percentile plot.
    expect(v.charts.find((c) => c.id === 'chart-distribution')!.series).toBe(5);
    expect(await v.text('#steps tr.bad')).toContain('BREAKING POINT');
    expect(await v.text('.banner-warning')).toContain('The load generator was itself the bottleneck');
    expect(await v.text('#thresholds')).toContain('FAIL');
  });

  it('marks an interrupted run as partial and shows hostile names as text', async () => {
    const report = buildLoadReportFixture({ status: 'interrupted', endpoints: [XSS, 'a|b', 'evaluate'], tags: { note: XSS }, seconds: 12 });
    const v = await visit('interrupted', report);
    expect(v.problems).toEqual([]);
    expect(v.requests).toHaveLength(1);
    expect(await v.text('#run-status')).toBe('interrupted (partial results)');
    expect(await v.text('.banner-error')).toContain('Interrupted: partial results');
    const seen = await v.evaluate(() => {
      const { document, __pwned } = globalThis as unknown as Page;
      return {
        images: document.images.length,
        pwned: __pwned,
        cell: document.querySelector('#endpoints tbody td')?.textContent,
        legend: [...document.querySelectorAll('#chart-distribution .u-legend .u-label')].map((e) => e.textContent),
      };
    });
    expect(seen.images).toBe(0);
    expect(seen.pwned).toBeUndefined();
    expect(seen.cell).toBe(XSS);
    expect(seen.legend).toContain(XSS);
    expect(v.charts).toHaveLength(4);
  });

  it('shows "no data" instead of an empty canvas when there is nothing to draw', async () => {
    const base = buildLoadReportFixture({ profile: 'soak', seconds: 3 });
    const empty = encodeHistogram(newHistogram());
    const report: LoadReport = {
      ...base,
      data: {
        ...base.data,
        intervals: [],
        endpoints: {},
        totals: { ...base.data.totals, histograms: { latency: empty, service: empty } },
        memory: { status: 'not_measured', reason: 'the server exposes no /metrics' },
      },
    };
    const v = await visit('empty', report);
    expect(v.problems).toEqual([]);
    expect(v.charts).toEqual([]);
    expect(v.noData).toEqual([
      'chart-latency: no data',
      'chart-throughput: no data',
      'chart-distribution: no data',
      'chart-memory: no data: not measured: the server exposes no /metrics',
    ]);
    expect(await v.evaluate(() => (globalThis as unknown as Page).document.querySelectorAll('canvas').length)).toBe(0);
  });

  it('draws a real run: the engine against the reference server, every chart with data', async () => {
    const server = await startTestServer({ rateLimit: { limit: 1_000_000, windowMs: 1000 } });
    closers.push(() => server.close());
    const client = new GovernanceClient({ baseUrl: server.url, adminKey: server.adminToken });
    closers.push(() => client.close());
    const profile = applyOverrides(await loadProfile('stress', { cwd: dir }), { durationMs: 3000, vus: 8 });
    const report = await runLoadEngine({
      runId: 'real-run',
      profile: { ...profile, warmup_ms: 0 },
      scenario: await loadScenario(profile.scenario, { cwd: dir, seed: 1 }),
      target: { url: server.url, kind: 'remote' },
      client,
      admin: true,
      seed: 1,
      segment: null,
      workers: 1,
      tags: {},
      signal: new AbortController().signal,
    });
    const v = await visit('real', report);
    expect(v.problems).toEqual([]);
    expect(v.requests).toHaveLength(1);
    expect(v.noData).toEqual([]);
    expect(v.charts.map((c) => c.id)).toEqual(['chart-latency', 'chart-throughput', 'chart-distribution']);
    for (const c of v.charts) {
      expect(c.points, c.id).toBeGreaterThan(1);
      expect(c.nonNull.every((n) => n > 0), `${c.id} series ${c.nonNull.join(',')}`).toBe(true);
      expect(c.strokeInk, c.id).toBeGreaterThan(50);
    }
    expect(await v.text('#steps')).toContain('VUs');
  });

  it('notices a page that would fetch something (the checks above are not vacuous)', async () => {
    const report = buildLoadReportFixture({ profile: 'normal', seconds: 3 });
    const v = await visit('tampered', report, (page) => page.replace('</body>', '<img src="http://127.0.0.1:9/pixel.png"><script>fetch("http://127.0.0.1:9/x")</script></body>'));
    expect(v.problems.length + v.requests.length - 1).toBeGreaterThan(0);
    expect(v.problems.join('\n')).toMatch(/Content Security Policy/);
  });
});
