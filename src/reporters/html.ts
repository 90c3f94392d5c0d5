import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { RunResult } from '../analyzers/run-result.js';
import type { TelemetrySummary } from '../analyzers/telemetry-types.js';
import { formatActual, thresholdLabel } from '../analyzers/thresholds.js';
import { formatDuration } from '../shared/duration.js';
import { formatMetricValue, parseThreshold } from '../scenarios/threshold-expression.js';
import { CLIENT_SCRIPT } from './html-client.js';
import { describeShards } from './describe-shards.js';
import { describeHttpClient } from './describe-http-client.js';
import { describeStack } from './describe-stack.js';
import { runVerdict, thresholdOutcome } from './run-verdict.js';
import type { ChartSpec } from './chart-spec.js';
import { replicaRows, replicasChart } from './html-replicas.js';
import { databaseCharts } from './html-databases.js';
import { databaseRows } from './describe-databases.js';
import { passRate } from './pass-rate.js';
import { exemplarsSection } from './html-exemplars.js';

export type { ChartSpec } from './chart-spec.js';

/** uPlot's script and stylesheet, read from node_modules once and inlined into every report. */
let assets: { js: string; css: string } | undefined;
function uplot(): { js: string; css: string } {
  if (!assets) {
    const require = createRequire(import.meta.url);
    assets = {
      js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
      css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    };
  }
  return assets;
}

export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** JSON inside a script element: `</script>` or `<!--` in a name must not end it. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
/** Inlined code must not contain the closing tag of its element. */
const inline = (code: string, tag: 'script' | 'style'): string => code.replace(new RegExp(`</${tag}`, 'gi'), `<\\/${tag}`);
/** A CSP source allowing exactly this inline script: nothing else can run, and nothing can be fetched. */
const scriptHash = (code: string): string => `'sha256-${createHash('sha256').update(code, 'utf8').digest('base64')}'`;
const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;
const ms = (v: number): string => formatDuration(v);

/** A number for a legend: whole above 100, else three significant digits. */
const legendNumber = (v: number): string => (Math.abs(v) >= 100 ? String(Math.round(v)) : String(Number(v.toPrecision(3))));

/** A series' legend summary: its one value, or the mean and max of the points drawn. */
function seriesSummary(values: readonly (number | null)[]): string {
  const xs = values.filter((v): v is number => typeof v === 'number');
  if (!xs.length) return 'no data';
  const max = Math.max(...xs);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (Math.min(...xs) === max) return legendNumber(max);
  return `mean ${legendNumber(mean)}, max ${legendNumber(max)}`;
}

/** Fills in each series' legend summary that the chart does not give itself. */
export function withSummaries(spec: ChartSpec): ChartSpec {
  return { ...spec, series: spec.series.map((s) => ({ ...s, summary: s.summary ?? (s.style === 'band' ? '' : seriesSummary(s.values)) })) };
}

type Point = RunResult['timeseries'][number];

/** The error kinds seen in any second (results written before errorsByKind existed have none). */
function errorKinds(ts: readonly Point[]): string[] {
  const kinds = new Set<string>();
  for (const p of ts) for (const [k, n] of Object.entries(p.errorsByKind ?? {})) if (n) kinds.add(k);
  return [...kinds].sort();
}

/**
 * The seconds to chart. The run's last second is cut short by its end (the
 * drain of in-flight iterations, a stop): drawn as a whole second, a few
 * requests in a fraction of one would read as a dip or a spike, so it is left
 * out (the tables count it). A run shorter than a second keeps its one point.
 */
function chartedSeconds(r: Pick<RunResult, 'timeseries' | 'durationSec'>): RunResult['timeseries'] {
  const last = r.timeseries[r.timeseries.length - 1];
  // durationSec is rounded to the millisecond.
  const partial = last !== undefined && r.durationSec - last.t < 0.999;
  return partial && r.timeseries.length > 1 ? r.timeseries.slice(0, -1) : r.timeseries;
}

/** The charts of a run: latency, rates, errors, and the target's telemetry when it was collected. */
function runCharts(r: RunResult): Record<string, ChartSpec> {
  const ts = chartedSeconds(r);
  const x = ts.map((p) => p.t);
  const col = (f: (p: Point) => number | null | undefined): (number | null)[] => ts.map((p) => f(p) ?? null);
  // A second without requests has no latency: a gap, not a fall to 0 ms.
  const lat = (f: (p: Point) => number): (number | null)[] => ts.map((p) => (p.rps > 0 ? f(p) : null));
  const charts: Record<string, ChartSpec> = {
    // Percentiles of seconds do not average into the run's: the legend gives the run's own.
    latency: { title: 'Latency over time', yLabel: 'latency (ms)', x, series: (['p50', 'p95', 'p99'] as const).map((k) => (
      { label: k, values: lat((p) => p[k]), summary: `${ms(r.totals.latencyMs[k])} over the run` })), gaps: true },
    rate: { title: 'Offered vs achieved rate', yLabel: 'per second', x, series: [
      { label: 'offered iterations/s', values: col((p) => p.offeredRps) },
      { label: 'achieved iterations/s', values: col((p) => p.achievedRps) },
      { label: 'requests/s', values: col((p) => p.rps) },
    ] },
    errors: { title: 'Errors by kind and dropped iterations over time', yLabel: 'per second', x, series: [
      ...errorKinds(ts).map((k) => ({ label: `${k}/s`, values: col((p) => (p.errorsByKind as Record<string, number> | undefined)?.[k] ?? 0) })),
      { label: 'all errors/s', values: col((p) => p.errors) },
      { label: 'dropped iterations/s', values: col((p) => p.dropped) },
    ] },
  };
  const has = (f: (p: Point) => unknown): boolean => ts.some((p) => typeof f(p) === 'number');
  if (has((p) => p.cacheHitRatio)) {
    charts.cache = { title: 'Cache hit ratio', yLabel: 'hit ratio (%)', yMax: 100, x, series: [{ label: 'cache hit ratio %', values: col((p) => (typeof p.cacheHitRatio === 'number' ? p.cacheHitRatio * 100 : null)) }] };
  }
  if (has((p) => p.queueDepth)) {
    charts.queue = { title: 'Queue depth (jobs) and jobs completed per second', yLabel: 'jobs, jobs/s', x, series: [
      { label: 'queue depth', values: col((p) => p.queueDepth) }, { label: 'jobs completed/s', values: col((p) => p.jobsPerSec) },
    ] };
  }
  if (has((p) => p.cpuPercent)) {
    charts.cpu = { title: 'Target CPU', yLabel: '% of one core', x, series: [
      { label: 'all workers %', values: col((p) => p.cpuPercent) }, { label: 'hottest worker %', values: col((p) => p.cpuMaxWorkerPercent) },
    ] };
  }
  const replicas = replicasChart(r, ts);
  if (replicas) charts.replicas = replicas;
  Object.assign(charts, databaseCharts(ts));
  return Object.fromEntries(Object.entries(charts).map(([id, spec]) => [id, withSummaries(spec)]));
}

export function table(head: string[], rows: string[][], numericFrom = 1): string {
  const th = head.map((h, i) => `<th${i >= numericFrom ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${i >= numericFrom ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

function verdict(r: RunResult): { cls: string; text: string } {
  const v = runVerdict(r);
  return { cls: v.cls, text: `${v.word}: ${v.detail}` };
}

function thresholdsSection(r: RunResult): string {
  if (!r.thresholds.length) return '<p>No thresholds were set.</p>';
  return table(['threshold', 'actual', 'limit', 'result'], r.thresholds.map((t) => {
    const p = parseThreshold(t.expression);
    const limit = `${typeof p === 'string' ? '' : `${p.op} `}${formatMetricValue(t.metric, t.limit)}`;
    const outcome = thresholdOutcome(r, t);
    const result = `<span class="${{ 'not judged': 'warn', pass: 'pass', FAIL: 'fail' }[outcome]}">${outcome}</span>`;
    return [`<code>${esc(thresholdLabel(t))}</code>`, esc(formatActual(t)), esc(limit), result];
  }));
}

const kv = (o: Record<string, number | undefined>): string => Object.entries(o).filter(([, v]) => v).map(([k, v]) => `${esc(k)}: ${esc(String(v))}`).join(', ') || '–';

function endpointsSection(r: RunResult): string {
  const row = (name: string, s: RunResult['totals']): string[] =>
    [name, ...[String(s.requests), Number(s.rps).toFixed(1), ms(s.latencyMs.p50), ms(s.latencyMs.p95), ms(s.latencyMs.p99), ms(s.latencyMs.max), pct(s.errorRate)].map(esc), kv(s.statusCodes)];
  const rows = r.endpoints.map((e) => row(esc(e.name), { ...e, droppedIterations: 0, iterations: r.totals.iterations }));
  rows.push(row('<strong>total</strong>', r.totals));
  return table(['endpoint', 'requests', 'rps', 'p50', 'p95', 'p99', 'max', 'error rate', 'status codes'], rows);
}

function flowsSection(r: RunResult): string {
  const note = '<p>Durations are whole iterations, from the scheduled start (open model; a vus iteration from its actual start) to the end of the last step, including think time.</p>';
  return note + table(['flow', 'offered', 'completed', 'failed', 'dropped', 'interrupted', 'think time', 'p50', 'p95', 'p99'], r.flows.map((f) => [
    f.name, String(f.offered), String(f.completed), String(f.failed), String(f.dropped), String(f.interrupted),
    f.thinkMs === undefined ? '–' : ms(f.thinkMs), ms(f.durationMs.p50), ms(f.durationMs.p95), ms(f.durationMs.p99),
  ].map(esc)));
}

function checksSection(r: RunResult): string {
  const checks = r.checks ?? [];
  const rate = (p: number, f: number): string => passRate(p, f, 2, '–');
  const all = r.totals.checks ?? { passes: 0, fails: 0 };
  return table(['check', 'passes', 'fails', 'pass rate'], [
    ...checks.map((c) => [esc(c.name), esc(String(c.passes)), c.fails ? `<span class="fail">${c.fails}</span>` : '0', esc(rate(c.passes, c.fails))]),
    ['<strong>all checks</strong>', esc(String(all.passes)), esc(String(all.fails)), esc(rate(all.passes, all.fails))],
  ]);
}

function errorsSection(r: RunResult): string {
  const kinds = Object.entries(r.totals.errorsByKind).filter(([, n]) => n);
  if (!kinds.length) return '<p>No errors.</p>';
  return table(['kind', 'count', 'first message'], kinds.map(([k, n]) => [esc(k), esc(String(n)), esc(r.errorSamples[k as keyof typeof r.errorSamples] ?? '')]), 1);
}

function telemetrySection(r: RunResult): string {
  const t = r.telemetry;
  if (!('source' in t)) return '<p>No target telemetry was collected (see docs/telemetry.md).</p>';
  const rows: string[][] = [['source', t.source], ['scrapes', `${t.scrapes.ok} ok, ${t.scrapes.failed} failed`]];
  if (t.cacheHitRatio !== null) rows.push(['cache hit ratio', `${pct(t.cacheHitRatio)} of ${t.cacheLookups} lookups`]);
  else if (t.cacheLookups === 0) rows.push(['cache hit ratio', 'none: no cache lookups during the run']);
  if (t.queueDepth) rows.push(['queue depth', `max ${t.queueDepth.max}, mean ${t.queueDepth.mean}, at the end of the load ${t.queueDepth.final}`]);
  if (t.drain) rows.push(['queue drain time', t.queueDrainTimeSec !== null ? `${Number(t.queueDrainTimeSec).toFixed(1)} s after the load` : 'did not drain in time']);
  if (t.cpu) rows.push(['CPU, all workers', `mean ${t.cpu.totalPercent.mean}%, max ${t.cpu.totalPercent.max}% of one core`]);
  rows.push(...replicaRows(r));
  rows.push(...databaseRows(t as TelemetrySummary));
  for (const w of t.warnings) rows.push(['warning', w]);
  return table(['figure', 'value'], rows.map((row) => row.map((c) => esc(String(c)))), 2);
}

function detailsSection(r: RunResult): string {
  const g = r.generator;
  const rows = [
    ['scenario', `${r.scenario.name} (${r.scenario.file})`],
    ['target', r.target],
    ...(r.stack ? [['reference stack', describeStack(r.stack)]] : []),
    ...(r.merged ? [['shards', describeShards(r)!]] : []),
    ['started', r.startedAt], ['ended', r.endedAt],
    ['load', `${r.loadDurationSec} s of load, ${r.durationSec} s in all`],
    ['phases', r.phases.map((p) => `${p.name} (${p.kind}, ${p.durationSec} s from ${p.startSec} s)`).join('; ')],
    ...(r.host ? [['host', `${r.host.hostname}: ${r.host.os}, ${r.host.cpu}, ${r.host.cores} cores, ${r.host.memoryGiB} GiB; Node ${r.host.node}, scalectl ${r.host.scalectl}`]] : []),
    ['generator', `${g.workers} worker thread(s), CPU mean ${g.cpuPercent.mean}% / max ${g.cpuPercent.max}% of one core, event-loop lag p99 ${g.eventLoopLagP99Ms} ms, max in flight ${g.maxInFlight}, ${g.connections} connections per origin`],
    ...(g.httpClient ? [['HTTP client', describeHttpClient(g.httpClient)]] : []),
  ];
  return table(['', ''], rows.map((row) => row.map((c) => esc(String(c)))), 2);
}

const CSS = `
:root { color-scheme: light; --fg: #1a1a1a; --muted: #555; --line: #ccc; --pass: #006d2c; --fail: #b30000; --warn: #8a5a00; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); max-width: 1100px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid var(--line); }
.sub { color: var(--muted); margin-top: 0; }
.verdict { font-size: 1.2rem; font-weight: 700; padding: .6rem .9rem; border-left: 6px solid; margin: 1rem 0; }
.verdict.pass { border-color: var(--pass); color: var(--pass); } .verdict.fail { border-color: var(--fail); color: var(--fail); } .verdict.warn { border-color: var(--warn); color: var(--warn); }
.pass { color: var(--pass); font-weight: 600; } .fail { color: var(--fail); font-weight: 700; } .warn { color: var(--warn); font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { margin: .5rem 0 1.5rem; min-height: 300px; break-inside: avoid; }
.chart h3 { font-size: 1rem; margin: .5rem 0; }
ul.warnings li { color: var(--warn); }
pre { background: #f4f4f4; padding: .6rem .8rem; overflow-x: auto; font-size: .85rem; border: 1px solid var(--line); }
ol.arithmetic { padding-left: 1.4rem; } ol.arithmetic code { font-size: .85rem; }
details { margin: .4rem 0; } summary { cursor: pointer; font-weight: 600; }
footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } table, .chart { break-inside: avoid; } pre { white-space: pre-wrap; word-break: break-all; } }
`;

/** The report's skeleton: head with inlined styles, the body, the data and the inlined scripts. */
export function htmlPage(title: string, body: string, data: unknown): string {
  const { js, css } = uplot();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src ${scriptHash(inline(js, 'script'))} ${scriptHash(inline(CLIENT_SCRIPT, 'script'))}">
<link rel="icon" href="data:,">
<title>${esc(title)}</title>
<style>${inline(css, 'style')}</style>
<style>${CSS}</style>
</head>
<body>
${body}
<footer>Generated by scalectl. This file is self-contained: it makes no network requests.</footer>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${inline(js, 'script')}</script>
<script>${inline(CLIENT_SCRIPT, 'script')}</script>
</body>
</html>
`;
}

/** What a chart shows, for a screen reader: its series, axes and the events it marks. */
function chartText(spec: ChartSpec): string {
  const marked = spec.markers?.length ? `; marked: ${spec.markers.slice(0, 20).map((m) => m.label).join('; ')}${spec.markers.length > 20 ? '; …' : ''}` : '';
  return `${spec.title}: ${spec.series.map((s) => s.label).join(', ')} (${spec.yLabel}${spec.y2Label ? `; ${spec.y2Label} on the right` : ''}) by ${spec.xLabel ?? 'seconds since the start'}${marked}`;
}

export const chartDiv = (id: string, spec: ChartSpec): string =>
  `<div class="chart" id="chart-${id}"><h3>${esc(spec.title)}</h3><div data-chart="${id}" role="img" aria-label="${esc(chartText(spec))}">Charts need JavaScript.</div></div>`;

/**
 * The run report (`run --html`, `report --html`): one self-contained file,
 * verdict and thresholds first, then charts (latency with phases shaded,
 * offered vs achieved, errors, target telemetry), tables per endpoint, flow,
 * check and error kind, generator warnings, and the scenario and host details.
 */
export function renderRunHtml(r: RunResult): string {
  const v = verdict(r);
  const charts = runCharts(r);
  const ids = Object.keys(charts);
  const [core, telemetry] = [ids.filter((i) => ['latency', 'rate', 'errors'].includes(i)), ids.filter((i) => !['latency', 'rate', 'errors'].includes(i))];
  const slowest = exemplarsSection(r);
  const warnings = [...r.generator.warnings, ...('warnings' in r.telemetry ? r.telemetry.warnings : [])].map(String);
  const body = `
<header>
<h1>${esc(r.scenario.name)}</h1>
<p class="sub">scalectl run against <code>${esc(r.target)}</code>, ${esc(r.startedAt)}, ${esc(String(r.loadDurationSec))} s of load</p>
</header>
<section id="verdict"><div class="verdict ${v.cls}">${esc(v.text)}</div></section>
<section id="thresholds"><h2>Thresholds</h2>${thresholdsSection(r)}</section>
<section id="charts"><h2>Over time</h2>${core.map((id) => chartDiv(id, charts[id]!)).join('\n')}</section>
<section id="telemetry"><h2>The target</h2>${telemetrySection(r)}${telemetry.map((id) => chartDiv(id, charts[id]!)).join('\n')}</section>
<section id="endpoints"><h2>Endpoints</h2>${endpointsSection(r)}</section>
${slowest ? `<section id="slowest"><h2>Slowest requests</h2>${slowest}</section>` : ''}
<section id="flows"><h2>Flows</h2>${flowsSection(r)}</section>
${r.checks?.length ? `<section id="checks"><h2>Checks</h2>${checksSection(r)}</section>` : ''}
<section id="errors"><h2>Errors</h2>${errorsSection(r)}</section>
<section id="warnings"><h2>Generator</h2>${warnings.length ? `<ul class="warnings">${warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : '<p>The generator kept up: no warnings.</p>'}</section>
<section id="details"><h2>Scenario and host</h2>${detailsSection(r)}</section>`;
  return htmlPage(`${r.scenario.name}: scalectl report`, body, { charts, phases: r.phases });
}
