/** The report page's stylesheet: light, system fonts only (no network), and print-friendly. */
export const PAGE_STYLE = `
:root { color-scheme: light; --fg: #1d232b; --muted: #5b6672; --line: #dde2e8; --head: #f4f6f8;
  --bad: #b3261e; --bad-bg: #fdecea; --warn: #8a5a00; --warn-bg: #fff4dc; --good: #1e6b34; --good-bg: #e8f5ec; --info: #1d4e89; --info-bg: #eaf2fb; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--fg); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header, main, footer { max-width: 1120px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; border-bottom: 1px solid var(--line); padding-bottom: 12px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); break-after: avoid; }
h3 { font-size: 15px; margin: 16px 0 4px; }
p { margin: 6px 0; }
.meta { color: var(--muted); margin: 0; }
.status { display: inline-block; padding: 1px 10px; border-radius: 10px; font-weight: 600; font-size: 13px; vertical-align: middle; }
.status-passed { background: var(--good-bg); color: var(--good); }
.status-failed, .status-error, .status-interrupted { background: var(--bad-bg); color: var(--bad); }
.banner { border-left: 4px solid; border-radius: 4px; padding: 8px 14px; margin: 14px 0; }
.banner strong { display: block; }
.banner ul { margin: 4px 0 0; padding-left: 20px; }
.banner-error { border-color: var(--bad); background: var(--bad-bg); }
.banner-warning { border-color: var(--warn); background: var(--warn-bg); }
.banner-info { border-color: var(--info); background: var(--info-bg); }
.table-wrap { overflow-x: auto; margin: 8px 0 16px; }
.table-row { display: flex; flex-wrap: wrap; gap: 0 32px; align-items: flex-start; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--head); font-weight: 600; white-space: nowrap; }
.num { text-align: right; white-space: nowrap; }
table.kv th { color: var(--muted); font-weight: 600; white-space: nowrap; }
tr.bad td { background: var(--bad-bg); }
tr.bad td:first-child { box-shadow: inset 3px 0 var(--bad); font-weight: 600; }
tr.warn td:first-child { box-shadow: inset 3px 0 var(--warn); }
tr.good td:first-child { box-shadow: inset 3px 0 var(--good); }
figure.chart-box { margin: 18px 0; break-inside: avoid; }
figcaption { font-weight: 600; }
figcaption span { display: block; font-weight: 400; color: var(--muted); font-size: 13px; }
.chart { min-height: 40px; margin-top: 6px; }
.no-data { color: var(--muted); font-style: italic; text-align: center; padding: 28px 12px; border: 1px dashed var(--line); border-radius: 4px; }
.uplot .u-legend { font-size: 12px; }
footer { color: var(--muted); font-size: 12px; padding-top: 16px; padding-bottom: 32px; }
@media print {
  body { font-size: 11px; }
  header, main, footer { max-width: none; padding: 0; }
  .banner, tr.bad td, .status, thead th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .table-wrap { overflow: visible; }
  table, figure.chart-box, .banner { break-inside: avoid; }
}
`;
