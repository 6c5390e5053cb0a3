/**
 * The report page's own script: reads the chart data from the embedded JSON element and draws
 * each chart with the inlined uPlot. It never builds markup from data (uPlot sets labels as text,
 * and the "no data" and error notes use textContent). `window.govctlCharts` lists the drawn
 * uPlot instances, so a browser test can check what each chart holds.
 */
export const PAGE_SCRIPT = String.raw`(function () {
  'use strict';
  var charts = [];
  window.govctlCharts = charts;
  var source = document.getElementById('govctl-load-data');
  var data = JSON.parse((source && source.textContent) || '{"charts":[]}');

  function num(v) {
    if (v === null || v === undefined || !isFinite(v)) return '\u2013';
    var a = Math.abs(v);
    return a >= 100 ? Math.round(v).toLocaleString('en-US') : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  }
  function seconds(v) {
    if (v === null || v === undefined) return '\u2013';
    var s = Math.round(v);
    if (Math.abs(s) < 120) return s + ' s';
    var m = Math.floor(s / 60), r = Math.abs(s % 60);
    return m + ':' + (r < 10 ? '0' : '') + r;
  }
  // x = 1/(1-p): 1 -> 0%, 10 -> 90%, 1000 -> 99.9%.
  function percentile(x) {
    if (x === null || x === undefined || x < 1) return '\u2013';
    var digits = Math.max(0, Math.ceil(Math.log10(x) - 2 - 1e-9));
    return (100 * (1 - 1 / x)).toFixed(digits) + '%';
  }
  // Tick labels with as many decimals as the tick step needs (110.25 MB, not 110 three times).
  function ticks(u, splits, axis, space, incr) {
    var digits = incr > 0 && incr < 1 ? Math.min(4, Math.ceil(-Math.log10(incr) - 1e-9)) : 0;
    return splits.map(function (v) { return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }); });
  }
  var SECOND_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400];
  function powersOfTen(u, axis, min, max) {
    var out = [];
    for (var v = 1; v <= max * 1.000001; v *= 10) if (v >= min / 1.000001) out.push(v);
    return out;
  }
  function fromZero(u, min, max) {
    return [Math.min(0, min), max > 0 ? max * 1.05 : 1];
  }
  function note(el, text) {
    el.textContent = text;
    el.className += ' no-data';
  }
  function width(el) {
    return Math.max(300, Math.floor(el.clientWidth || 800));
  }

  function draw(spec) {
    var el = document.getElementById(spec.id);
    if (!el) return;
    if (!spec.x.length || !spec.series.length) return note(el, 'no data');
    var pct = spec.xKind === 'percentile';
    var xFormat = pct ? percentile : seconds;
    var series = [{ label: pct ? 'percentile' : 'time', value: function (u, v) { return xFormat(v); } }];
    spec.series.forEach(function (s) {
      var drawn = s.values.filter(function (v) { return v !== null; }).length;
      series.push({
        label: s.label,
        stroke: s.color,
        width: 1.5,
        scale: s.axis === 'y2' ? 'y2' : 'y',
        dash: s.dash ? [6, 4] : undefined,
        spanGaps: spec.spanGaps,
        value: function (u, v) { return v === null || v === undefined ? '\u2013' : num(v) + (s.unit ? ' ' + s.unit : ''); },
        // Dense percentile curves read better as lines; a curve of one or two points needs its dots.
        points: { show: pct ? drawn < 3 : drawn < 120 },
      });
    });
    var axes = [
      pct
        ? { label: 'percentile', splits: powersOfTen, values: function (u, splits) { return splits.map(percentile); } }
        : { label: 'time since start of measurement', incrs: SECOND_STEPS, values: function (u, splits) { return splits.map(seconds); } },
      { label: spec.yLabel, scale: 'y', size: 64, values: ticks },
    ];
    if (spec.y2Label) {
      axes.push({ label: spec.y2Label, scale: 'y2', side: 1, size: 56, grid: { show: false }, values: ticks });
    }
    var scales = { x: pct ? { time: false, distr: 3, log: 10 } : { time: false }, y: spec.yFromZero ? { range: fromZero } : { auto: true } };
    if (spec.y2Label) scales.y2 = { range: fromZero };
    var opts = { width: width(el), height: 300, series: series, axes: axes, scales: scales, legend: { live: true } };
    var plot = new uPlot(opts, [spec.x].concat(spec.series.map(function (s) { return s.values; })), el);
    plot.govctlId = spec.id;
    charts.push(plot);
  }

  (data.charts || []).forEach(function (spec) {
    try {
      draw(spec);
    } catch (err) {
      var el = document.getElementById(spec.id);
      if (el) note(el, 'chart could not be drawn: ' + (err && err.message));
      console.error(err);
    }
  });

  function resize(fixed) {
    charts.forEach(function (plot) {
      var el = document.getElementById(plot.govctlId);
      if (el) plot.setSize({ width: fixed || width(el), height: 300 });
    });
  }
  var pending = 0;
  window.addEventListener('resize', function () {
    clearTimeout(pending);
    pending = setTimeout(function () { resize(0); }, 150);
  });
  // A printed page is narrower than most screens: draw for A4 portrait, then restore.
  window.addEventListener('beforeprint', function () { resize(680); });
  window.addEventListener('afterprint', function () { resize(0); });
})();
`;
