/**
 * The browser side of the HTML report: plain JavaScript run in the page. It
 * reads the embedded data (`<script type="application/json" id="report-data">`)
 * and draws each chart with uPlot, inlined next to it. No network requests.
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  // Okabe-Ito: distinguishable with the common colour-vision deficiencies.
  // Okabe-Ito, orange and sky blue darkened for 3:1 contrast on white.
  var COLORS = ['#0072B2', '#B07800', '#009E73', '#D55E00', '#CC79A7', '#2A88C0'];
  var DASH = [[], [6, 3], [2, 2], [8, 3, 2, 3]];

  function phaseBands(u) {
    var ctx = u.ctx;
    var left = u.bbox.left, right = u.bbox.left + u.bbox.width;
    (data.phases || []).forEach(function (p, i) {
      var x0 = Math.max(left, u.valToPos(p.startSec, 'x', true));
      var x1 = Math.min(right, u.valToPos(p.startSec + p.durationSec, 'x', true));
      if (x1 <= x0) return;
      ctx.save();
      ctx.fillStyle = i % 2 ? 'rgba(0,0,0,0.06)' : 'rgba(0,0,0,0.02)';
      ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
      ctx.fillStyle = '#555';
      ctx.font = (11 * devicePixelRatio) + 'px sans-serif';
      ctx.fillText(p.name, x0 + 4 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
      ctx.restore();
    });
  }

  function num(v) {
    return Math.abs(v) >= 100 ? String(Math.round(v)) : String(Number(v.toPrecision(3)));
  }

  // The legend shows the value under the cursor; with no cursor (a static
  // page, a printout) it shows the series' summary instead of uPlot's "--".
  function legendValue(summary) {
    return function (u, v, si, idx) {
      if (idx == null) return summary;
      return v == null ? '' : num(v);
    };
  }

  function chart(el) {
    var spec = data.charts[el.getAttribute('data-chart')];
    var width = Math.max(320, el.clientWidth || 800);
    var xRange = spec.x.length ? num(spec.x[0]) + '–' + num(spec.x[spec.x.length - 1]) : '';
    var series = [{ label: spec.xName || 'time (s)', value: legendValue(xRange) }].concat(spec.series.map(function (s, i) {
      var color = COLORS[i % COLORS.length];
      var value = legendValue(s.summary || '');
      if (s.style === 'points') return { label: s.label, value: value, stroke: color, paths: function () { return null; }, points: { show: true, size: 10, fill: color } };
      if (s.style === 'band') return { label: s.label, value: value, stroke: 'rgba(0,114,178,0.35)', dash: [4, 4], width: 1, spanGaps: true, points: { show: false } };
      return { label: s.label, value: value, stroke: color, dash: DASH[i % DASH.length], width: 2, spanGaps: !spec.gaps };
    }));
    var opts = {
      width: width,
      height: 260,
      series: series,
      // Counts and rates start at zero, so a flat line is not drawn as a cliff.
      scales: { x: { time: false }, y: { range: function (u, min, max) { return [0, spec.yMax || (max > 0 ? max * 1.1 : 1)]; } } },
      axes: [
        spec.integerX ? { label: spec.xLabel, size: 40, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500] } : { label: spec.xLabel || 'seconds since the start', size: 40 },
        { label: spec.yLabel, size: 60 },
      ],
      legend: { live: true },
      hooks: spec.xLabel ? {} : { drawClear: [phaseBands] },
    };
    el.textContent = '';
    return new uPlot(opts, [spec.x].concat(spec.series.map(function (s) { return s.values; })), el);
  }

  var plots = [];
  var els = document.querySelectorAll('[data-chart]');
  for (var i = 0; i < els.length; i++) plots.push({ el: els[i], u: chart(els[i]) });
  // Printing: charts take the printed width, and folded sections open.
  window.addEventListener('beforeprint', function () {
    plots.forEach(function (p) { p.u.setSize({ width: Math.min(p.el.clientWidth || 700, 700), height: 240 }); });
    document.querySelectorAll('details').forEach(function (d) { d.open = true; });
  });
})();
`;
