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
  var COLORS = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9'];
  var DASH = [[], [6, 3], [2, 2], [8, 3, 2, 3]];

  function phaseBands(u) {
    var ctx = u.ctx;
    (data.phases || []).forEach(function (p, i) {
      var x0 = u.valToPos(p.startSec, 'x', true);
      var x1 = u.valToPos(p.startSec + p.durationSec, 'x', true);
      ctx.save();
      ctx.fillStyle = i % 2 ? 'rgba(0,0,0,0.06)' : 'rgba(0,0,0,0.02)';
      ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
      ctx.fillStyle = '#555';
      ctx.font = (11 * devicePixelRatio) + 'px sans-serif';
      ctx.fillText(p.name, x0 + 4 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
      ctx.restore();
    });
  }

  function chart(el) {
    var spec = data.charts[el.getAttribute('data-chart')];
    var width = Math.max(320, el.clientWidth || 800);
    var series = [{ label: 'time (s)' }].concat(spec.series.map(function (s, i) {
      return { label: s.label, stroke: COLORS[i % COLORS.length], dash: DASH[i % DASH.length], width: 2, spanGaps: true };
    }));
    var opts = {
      width: width,
      height: 260,
      series: series,
      scales: { x: { time: false } },
      axes: [
        { label: 'seconds since the start', size: 40 },
        { label: spec.yLabel, size: 60 },
      ],
      legend: { live: true },
      hooks: { drawClear: [phaseBands] },
    };
    el.textContent = '';
    new uPlot(opts, [spec.x].concat(spec.series.map(function (s) { return s.values; })), el);
  }

  var els = document.querySelectorAll('[data-chart]');
  for (var i = 0; i < els.length; i++) chart(els[i]);
})();
`;
