import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadCharts, type ChartBlock } from './html/charts.js';
import { html, inlineElementText, jsonForScript } from './html/escape.js';
import { PAGE_SCRIPT } from './html/page-script.js';
import { PAGE_STYLE } from './html/style.js';
import { when } from './report-format.js';
import { loadReportView, type ReportBanner, type ReportSection, type ReportTable } from './report-view.js';
import type { LoadReport } from './types.js';

/**
 * The load report as one self-contained HTML file (load.html): tables rendered as escaped text
 * (complete without JavaScript, and printable), plus uPlot charts drawn from data embedded as
 * JSON. uPlot is inlined from node_modules, and a Content-Security-Policy forbids every fetch,
 * so the page works offline and makes no network request at all.
 */

/** No fetch of any kind; inline script and style only; data: images at most. */
export const REPORT_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

let assets: { script: string; style: string } | undefined;

/** uPlot's browser build and stylesheet, read once (resolved from src/ under tsx and from dist/ alike). */
function uplotAssets(): { script: string; style: string } {
  if (!assets) {
    const require = createRequire(import.meta.url);
    assets = {
      script: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
      style: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    };
  }
  return assets;
}

export function renderLoadHtml(report: LoadReport): string {
  const view = loadReportView(report);
  const charts = loadCharts(report);
  const { script, style } = uplotAssets();
  const [summary, ...rest] = view.sections;
  const status = report.run.status;
  const target = report.target ? ` · target ${html(report.target.url)}` : '';
  const drawn = charts.filter((c) => !c.empty).map((c) => c.spec);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${html(REPORT_CSP)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(`${view.title} · ${view.status} · ${report.run.id}`)}</title>
<style>${inlineElementText(style, 'style')}</style>
<style>${inlineElementText(PAGE_STYLE, 'style')}</style>
</head>
<body data-status="${html(status)}">
<header>
<h1>${html(view.title)} <span class="status status-${html(status)}" id="run-status">${html(view.status)}</span></h1>
<p class="meta">Run ${html(report.run.id)} · ${html(when(report.run.started_at))} to ${html(when(report.run.finished_at))}${target}</p>
</header>
<main>
${view.banners.map(banner).join('\n')}
${summary ? section(summary) : ''}
<section id="charts">
<h2>Charts</h2>
<noscript><p>The charts need JavaScript; every figure is also in the tables.</p></noscript>
${charts.map(chart).join('\n')}
</section>
${rest.map(section).join('\n')}
</main>
<footer>Written by govctl ${html(report.tool.version)} (${html(report.schema)}) on ${html(report.environment.os)}, ${report.environment.cpus} CPUs, Node ${html(report.environment.node)}. Self-contained: this file loads nothing from the network.</footer>
<script type="application/json" id="govctl-load-data">${jsonForScript({ charts: drawn })}</script>
<script>${inlineElementText(script, 'script')}</script>
<script>${inlineElementText(PAGE_SCRIPT, 'script')}</script>
</body>
</html>
`;
}

function banner(b: ReportBanner): string {
  const items = b.lines.length ? `<ul>${b.lines.map((l) => `<li>${html(l)}</li>`).join('')}</ul>` : '';
  return `<div class="banner banner-${b.level}" role="${b.level === 'info' ? 'note' : 'alert'}"><strong>${html(b.title)}</strong>${items}</div>`;
}

function chart(c: ChartBlock): string {
  const caption = `<figcaption>${html(c.spec.title)}${c.spec.caption ? `<span>${html(c.spec.caption)}</span>` : ''}</figcaption>`;
  const body = c.empty
    ? `<div class="chart no-data" id="${html(c.spec.id)}">no data${c.note ? `: ${html(c.note)}` : ''}</div>`
    : `<div class="chart" id="${html(c.spec.id)}"></div>${c.note ? `<p class="meta">${html(c.note)}</p>` : ''}`;
  return `<figure class="chart-box">${caption}${body}</figure>`;
}

function section(s: ReportSection): string {
  const paragraphs = s.paragraphs.map((p) => `<p>${html(p)}</p>`).join('\n');
  return `<section id="${html(s.id)}">
<h2>${html(s.title)}</h2>
${paragraphs}
${s.layout === 'row' ? `<div class="table-row">${s.tables.map(table).join('\n')}</div>` : s.tables.map(table).join('\n')}
</section>`;
}

function table(t: ReportTable): string {
  const cls = (i: number) => (t.align[i] === 'right' ? ' class="num"' : '');
  const rowClass = (mark: string | undefined) => (mark ? ` class="${mark}"` : '');
  if (t.columns === null) {
    const rows = t.rows.map((r) => `<tr${rowClass(r.mark)}><th scope="row">${html(r.cells[0] ?? '')}</th><td>${html(r.cells[1] ?? '')}</td></tr>`);
    return `<div class="table-wrap"><table class="kv"><tbody>\n${rows.join('\n')}\n</tbody></table></div>`;
  }
  const head = `<thead><tr>${t.columns.map((c, i) => `<th scope="col"${cls(i)}>${html(c)}</th>`).join('')}</tr></thead>`;
  const rows = t.rows.map((r) => `<tr${rowClass(r.mark)}>${r.cells.map((c, i) => `<td${cls(i)}>${html(c)}</td>`).join('')}</tr>`);
  return `<div class="table-wrap"><table>${head}<tbody>\n${rows.join('\n')}\n</tbody></table></div>`;
}
