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

  // Scaling events: a dashed line in the role's colour, labelled near the top
  // on the first of three rows with room, right of the line or else left of
  // it; a label with no room is left out (the page's table lists every event).
  function markers(spec) {
    return function (u) {
      var ctx = u.ctx, dpr = devicePixelRatio;
      var left = u.bbox.left, right = u.bbox.left + u.bbox.width, rowEnds = [-Infinity, -Infinity, -Infinity];
      ctx.save();
      ctx.font = (11 * dpr) + 'px sans-serif';
      (spec.markers || []).forEach(function (m) {
        var x = u.valToPos(m.x, 'x', true);
        if (!(x >= left && x <= right)) return;
        var color = COLORS[(m.series || 0) % COLORS.length];
        ctx.strokeStyle = color;
        ctx.lineWidth = dpr;
        ctx.setLineDash([3 * dpr, 3 * dpr]);
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
        var w = ctx.measureText(m.label).width, gap = 3 * dpr;
        var starts = [x + gap, x - gap - w].filter(function (at) { return at >= left && at + w <= right; });
        for (var row = 0; row < rowEnds.length; row++) {
          var at = starts.filter(function (a) { return a > rowEnds[row]; })[0];
          if (at === undefined) continue;
          ctx.fillStyle = color;
          ctx.fillText(m.label, at, u.bbox.top + (26 + 14 * row) * dpr);
          rowEnds[row] = at + w + 2 * gap;
          break;
        }
      });
      ctx.restore();
    };
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
      // A count holds until the next reading: steps, across seconds without a scrape.
      if (s.style === 'steps') return { label: s.label, value: value, stroke: color, width: 2, spanGaps: true, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } };
      var line = { label: s.label, value: value, stroke: color, dash: DASH[i % DASH.length], width: 2, spanGaps: !spec.gaps };
      if (s.axis === 'right') line.scale = 'y2';
      return line;
    }));
    // Counts and rates start at zero, so a flat line is not drawn as a cliff.
    var top = function (max) { return max > 0 ? max * 1.1 : 1; };
    var scales = { x: { time: false }, y: { range: function (u, min, max) { return [0, spec.yMax || top(max)]; } } };
    var counts = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
    var axes = [
      spec.integerX ? { label: spec.xLabel, size: 40, incrs: counts } : { label: spec.xLabel || 'seconds since the start', size: 40 },
      spec.integerY ? { label: spec.yLabel, size: 60, incrs: counts } : { label: spec.yLabel, size: 60 },
    ];
    if (spec.y2Label) {
      scales.y2 = { range: function (u, min, max) { return [0, top(max)]; } };
      axes.push({ scale: 'y2', side: 1, label: spec.y2Label, size: 60, grid: { show: false } });
    }
    var hooks = spec.xLabel ? {} : { drawClear: [phaseBands] };
    if (spec.markers && spec.markers.length) hooks.draw = [markers(spec)];
    var opts = {
      width: width,
      height: 260,
      series: series,
      scales: scales,
      axes: axes,
      legend: { live: true },
      hooks: hooks,
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
