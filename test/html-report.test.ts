import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../src/analyzers/run-result.js';
import { ExitCode } from '../src/exit-codes.js';
import { renderRunHtml, type ChartSpec } from '../src/reporters/html.js';
import { renderSummary } from '../src/reporters/terminal.js';
import { renderSummaryMarkdown } from '../src/reporters/markdown.js';
import { renderJunit, runSuite } from '../src/reporters/junit.js';
import type { TelemetrySummary } from '../src/analyzers/telemetry.js';
import { formatDuration } from '../src/shared/duration.js';
import { Chalk } from 'chalk';
import { renderCapacitySummary } from '../src/reporters/capacity-terminal.js';
import { renderCapacityHtml } from '../src/reporters/html-capacity.js';
import type { CapacityResult } from '../src/capacity/capacity-result.js';
import { runCli, tempFiles } from './helpers/cli.js';

const fixture = async (): Promise<RunResult> => JSON.parse(await readFile(new URL('./fixtures/run-result.json', import.meta.url), 'utf8')) as RunResult;

/** The embedded data the page's script reads. */
function embedded(html: string): { charts: Record<string, { x: number[]; yLabel: string; series: { label: string; values: (number | null)[]; summary?: string }[] }>; phases: unknown[] } {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no embedded data');
  return JSON.parse(m[1]!) as ReturnType<typeof embedded>;
}

/** Every src/href/url() in the page's markup and styles that points off the page (script bodies are code, not markup). */
function externalReferences(html: string): string[] {
  const markup = html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '<script></script>');
  const attrs = [...markup.matchAll(/<[a-z][^>]*?\s(?:src|href|action|poster|data|srcset)\s*=\s*["']?([^"'\s>]+)/gi)].map((m) => m[1]!);
  const css = [...markup.matchAll(/url\(\s*["']?([^"')]+)/gi), ...markup.matchAll(/@import\s+["']([^"']+)/gi)].map((m) => m[1]!);
  return [...attrs, ...css].filter((u) => !u.startsWith('#') && !u.startsWith('data:'));
}

describe('HTML capacity report', () => {
  const capacity = async (): Promise<CapacityResult> => JSON.parse(await readFile(new URL('./fixtures/capacity-result.json', import.meta.url), 'utf8')) as CapacityResult;

  it('puts the recommendation first, then knees, model, autoscaler settings with YAML, warnings and steps', async () => {
    const r = await capacity();
    const html = renderCapacityHtml(r);
    const order = ['verdict', 'recommendation', 'knees', 'model', 'autoscaler', 'warnings', 'steps'].map((id) => html.indexOf(`<section id="${id}">`));
    for (const i of order) expect(i).toBeGreaterThan(0);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // A capacity.json from before plan.verdict existed reads as its replica plan says.
    expect(html).toContain('<div class="verdict pass">Recommended: run 1 replica for the peak (autoscaler min 1, max 1)</div>');
    expect(html).toContain(`averageUtilization: ${r.plan.hpa!.targetUtilizationPercent}`);
    expect(html).toContain('listName: shop:bull:orders:wait');
    expect(externalReferences(html)).toEqual([]);
    const chart = embedded(html).charts.model!;
    const measured = chart.series.find((s) => s.label === 'measured knee')!;
    expect(chart.x.filter((_, i) => measured.values[i] !== null)).toEqual([1, 2]);
    // Two counts (Amdahl): no covariance, so no band, and the page says why.
    expect(chart.series.some((s) => s.label.includes('s.e.'))).toBe(false);
    expect(html).toContain('No error band: it needs 4 or more replica counts.');
  });

  it('draws the curve\'s error band from the covariance, and marks a partial plan', async () => {
    const r = await capacity();
    // A USL fit with a covariance: the band is ±sqrt(gᵀΣg) around X(n).
    r.plan.model = { ...r.plan.model!, kind: 'usl', sigma: 0.1, kappa: 0.01, lambda: 100, covariance: [[1e-4, 0, 0], [0, 1e-6, 0], [0, 0, 4]] };
    r.aborted = true;
    const html = renderCapacityHtml(r);
    const chart = embedded(html).charts.model!;
    const at = (label: string, n: number): number => chart.series.find((s) => s.label === label)!.values[chart.x.indexOf(n)]!;
    // n = 1: X = 100, the gradient is (0, 0, 1), so the band is ±sqrt(4) = ±2.
    expect(at('model (usl)', 1)).toBeCloseTo(100, 10);
    expect(at('model + 1 s.e.', 1)).toBeCloseTo(102, 10);
    expect(at('model − 1 s.e.', 1)).toBeCloseTo(98, 10);
    expect(html).toContain('class="verdict warn"');
    expect(html).toContain('from partial measurements');
    expect(html).not.toContain('<h3>hpa.yaml</h3>');
  });

  it('says what capacity.json says: an inconclusive plan is not green, gives its reasons and what to re-measure, and no YAML', async () => {
    const r = await capacity();
    r.plan = { ...r.plan, verdict: 'inconclusive', reasons: ['super-linear: 2 replicas sustained 465 it/s, 23.3x the 20 it/s that failed with 1'], remeasure: ['measure --replicas 1,2 again'] };
    const html = renderCapacityHtml(r);
    expect(html).toContain('<div class="verdict warn">Inconclusive: no recommendation</div>');
    expect(html).toContain('super-linear: 2 replicas sustained 465 it/s');
    expect(html).toContain('what to do: measure --replicas 1,2 again');
    expect(html).toContain('What the model alone says (not a recommendation)');
    expect(html).not.toContain('<h3>hpa.yaml</h3>');
    const text = renderCapacitySummary(r, new Chalk({ level: 0 }));
    expect(text).toMatch(/inconclusive: no recommendation\n {4}super-linear: 2 replicas sustained 465 it\/s/);
    expect(text).toContain('the model alone (not a recommendation)');
  });

  it('report capacity.json --html writes it, and refuses to overwrite its input', async () => {
    const dir = await tempFiles({ 'cap.json': JSON.stringify(await capacity()) });
    const ok = await runCli(['report', 'cap.json', '--html', 'cap.html'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(ExitCode.ok);
    expect(await readFile(join(dir, 'cap.html'), 'utf8')).toContain('<section id="knees">');
    const same = await runCli(['report', 'cap.json', '--html', './cap.json'], { cwd: dir });
    expect(same.code).toBe(ExitCode.usage);
    expect(same.stderr).toMatch(/that is the input file/);
  });
});

describe('HTML run report', () => {
  it('has every section, verdict and thresholds first, with the data embedded and nothing loaded from elsewhere', async () => {
    const r = await fixture();
    const html = renderRunHtml(r);
    const order = ['verdict', 'thresholds', 'charts', 'telemetry', 'endpoints', 'flows', 'errors', 'warnings', 'details'].map((id) => html.indexOf(`<section id="${id}">`));
    for (const i of order) expect(i).toBeGreaterThan(0);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(html).toContain('FAILED: 1 of 2 thresholds');
    expect(html).toMatch(/<code>error_rate &lt; 1%<\/code><\/td><td class="num">50\.00%<\/td><td class="num">&lt; 1\.00%<\/td><td class="num"><span class="fail">FAIL/);
    // Self-contained: scripts and styles inline, no src/href/url() leaving the page.
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+stylesheet/i);
    expect(externalReferences(html)).toEqual([]);
    // The check itself finds a reference when there is one.
    expect(externalReferences(html.replace('<footer>', '<footer><img src="https://example.com/x.png">'))).toEqual(['https://example.com/x.png']);
    // No code that would reach out either.
    expect(html).not.toMatch(/\bfetch\(|XMLHttpRequest|WebSocket|navigator\.sendBeacon|\bimport\(/);
    expect(html).toContain('uPlot');
    // The charts' data: one point per second of the run, units on the axis.
    const data = embedded(html);
    expect(Object.keys(data.charts)).toEqual(['latency', 'rate', 'errors']);
    expect(data.charts.latency!.x).toEqual(r.timeseries.map((p) => p.t));
    expect(data.charts.latency!.series.map((s) => s.label)).toEqual(['p50', 'p95', 'p99']);
    expect(data.charts.latency!.series[2]!.values).toEqual(r.timeseries.map((p) => p.p99));
    expect(data.charts.latency!.yLabel).toBe('latency (ms)');
    expect(data.phases).toEqual(r.phases);
    expect(data.charts.errors!.series.map((s) => s.label)).toEqual(['http_4xx/s', 'all errors/s', 'dropped iterations/s']);
    expect(data.charts.errors!.series[0]!.values).toEqual(r.timeseries.map((p) => p.errorsByKind?.http_4xx ?? 0));
    for (const id of Object.keys(data.charts)) expect(html).toContain(`data-chart="${id}"`);
    expect(html).toContain('<td>GET /files/*</td>');
    // A content security policy: only the page's own inline scripts run, and nothing may be fetched.
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'; [^"]*script-src 'sha256-[^']+' 'sha256-[^']+'">/);
    expect(html).toContain('<link rel="icon" href="data:,">');
  });

  it('adds the target telemetry charts when the run collected them', async () => {
    const r = await fixture();
    r.timeseries = r.timeseries.map((p, i) => ({ ...p, cacheHitRatio: 0.5 + i / 100, queueDepth: i, jobsPerSec: 1, cpuPercent: 40, cpuMaxWorkerPercent: 25 }));
    const data = embedded(renderRunHtml(r));
    expect(Object.keys(data.charts)).toEqual(['latency', 'rate', 'errors', 'cache', 'queue', 'cpu']);
    expect(data.charts.cache!.series[0]!.values[0]).toBe(50);
    expect(data.charts.cpu!.yLabel).toBe('% of one core');
  });

  it('draws replicas per role as steps with the achieved rate on a second axis, marks each scaling event, and runs on through the drain', async () => {
    const r = await fixture();
    const web = [1, 2, 2, 2, 3, 3, 3, 3];
    const base = r.timeseries[0]!;
    r.durationSec = web.length;
    r.timeseries = web.map((w, t) => ({ ...base, t, achievedRps: 10 * (t + 1), replicas: { web: w, consumer: t < 3 ? 1 : 2 } }));
    const events = [
      { t: 1.25, role: 'web', from: 1, to: 2 }, { t: 3.5, role: 'consumer', from: 1, to: 2 }, { t: 4.1, role: 'web', from: 2, to: 3 },
      // After the load, while the queue drains: the timeseries has ended, the events go on.
      { t: 11.2, role: 'web', from: 3, to: 1 }, { t: 11.2, role: 'consumer', from: 2, to: 1 },
    ];
    const telemetry = r.telemetry as TelemetrySummary;
    telemetry.replicas = { roles: { web: { min: 1, max: 3, final: 1 }, consumer: { min: 1, max: 2, final: 1 } }, events };
    telemetry.drain = { ...telemetry.drain!, series: [{ t: 8.2, queueDepth: 5 }, { t: 14.2, queueDepth: 0 }] };
    const html = renderRunHtml(r);
    const chart = embedded(html).charts.replicas as unknown as ChartSpec;
    expect(chart.x).toEqual([...web.map((_, t) => t), 11.2, 14.2]);
    expect(chart.series.map((s) => [s.label, s.style, s.axis])).toEqual([['web', 'steps', undefined], ['consumer', 'steps', undefined], ['achieved iterations/s', undefined, 'right']]);
    expect(chart.series[0]!.values).toEqual([...web, 1, 1]);
    expect(chart.series[1]!.values).toEqual([1, 1, 1, 2, 2, 2, 2, 2, 1, 1]);
    expect(chart.series[2]!.values).toEqual([...web.map((_, t) => 10 * (t + 1)), null, null]);
    expect(chart.series.map((s) => s.summary).slice(0, 2)).toEqual(['min 1, max 3, final 1', 'min 1, max 2, final 1']);
    expect(chart.markers).toEqual(events.map((e) => ({ x: e.t, label: `${e.role} ${e.from} → ${e.to} at ${e.t} s`, series: e.role === 'web' ? 0 : 1 })));
    expect(html).toContain('data-chart="replicas"');
    expect(html).toMatch(/aria-label="Replicas[^"]*marked: web 1 → 2 at 1\.25 s; consumer 1 → 2 at 3\.5 s/);
    expect(html).toContain('<td>replicas</td><td>web 1 → 2 → 3 → 1 (max 3, 3 changes) · consumer 1 → 2 → 1 (max 2, 2 changes)</td>');
    expect(html).toContain('<td>scaling events</td><td>web 1 → 2 at 1.25 s; consumer 1 → 2 at 3.5 s; web 2 → 3 at 4.1 s; web 3 → 1 at 11.2 s; consumer 2 → 1 at 11.2 s</td>');
    // The terminal and Markdown summaries say the same.
    expect(renderSummary(r, new Chalk({ level: 0 }))).toMatch(/replicas\s+│ web 1 → 2 → 3 → 1 \(max 3, 3 changes\) · consumer 1 → 2 → 1 \(max 2, 2 changes\)/);
    expect(renderSummaryMarkdown(r)).toContain('replicas web 1 → 2 → 3 → 1 (max 3, 3 changes) · consumer 1 → 2 → 1 (max 2, 2 changes)');
  });

  it('has no replicas chart for a run without replicas, nor for a result written before they were recorded', async () => {
    const r = await fixture();
    expect('replicas' in r.telemetry).toBe(false);
    const html = renderRunHtml(r);
    expect(Object.keys(embedded(html).charts)).not.toContain('replicas');
    expect(html).not.toContain('<td>replicas</td>');
    expect(renderSummary(r, new Chalk({ level: 0 }))).not.toContain('replicas');
    // A steady count is drawn, and said to be steady.
    r.timeseries = r.timeseries.map((p) => ({ ...p, replicas: { web: 2 } }));
    (r.telemetry as TelemetrySummary).replicas = { roles: { web: { min: 2, max: 2, final: 2 } }, events: [] };
    const steady = renderRunHtml(r);
    expect((embedded(steady).charts.replicas as unknown as ChartSpec).markers).toEqual([]);
    expect(steady).toContain('<td>replicas</td><td>web 2 (steady)</td>');
    expect(steady).not.toContain('<td>scaling events</td>');
  });

  it('leaves the last, partial second out of the charts, and gives every legend a summary', async () => {
    const r = await fixture();
    const third = { ...r.timeseries[1]!, t: 2, offeredRps: 3, achievedRps: 9, rps: 18 };
    // The run ended 0.3 s into its third second: that second is not drawn as a whole one.
    const cut = embedded(renderRunHtml({ ...r, durationSec: 2.3, timeseries: [...r.timeseries, third] }));
    expect(cut.charts.rate!.x).toEqual([0, 1]);
    // A whole third second stays, and a run shorter than a second keeps its one point.
    expect(embedded(renderRunHtml({ ...r, durationSec: 3, timeseries: [...r.timeseries, third] })).charts.rate!.x).toEqual([0, 1, 2]);
    expect(embedded(renderRunHtml({ ...r, durationSec: 0.4, timeseries: r.timeseries.slice(0, 1) })).charts.rate!.x).toEqual([0]);
    // Legends: the run's own percentiles (never a mean of per-second ones), the mean and max of a rate, a constant's value.
    expect(cut.charts.latency!.series.map((x) => x.summary)).toEqual((['p50', 'p95', 'p99'] as const).map((k) => `${formatDuration(r.totals.latencyMs[k])} over the run`));
    expect(cut.charts.rate!.series.map((x) => x.summary)).toEqual(['10', '10', '20']);
    const varied = embedded(renderRunHtml({ ...r, timeseries: r.timeseries.map((p, i) => ({ ...p, rps: [12, 30.25][i]! })) }));
    expect(varied.charts.rate!.series[2]!.summary).toBe('mean 21.1, max 30.3');
  });

  it('says what a reader would otherwise guess: think time in flow durations, the stack settings, why a threshold has no value', async () => {
    const r = await fixture();
    r.flows[0]!.thinkMs = 1500;
    r.stack = { workers: 2, backends: 'embedded', cache: false, cacheTtl: '30s' };
    (r.telemetry as TelemetrySummary).cacheHitRatio = null;
    (r.telemetry as TelemetrySummary).cacheLookups = 0;
    r.thresholds.push({ expression: 'cache_hit_ratio > 0.8', scope: undefined, metric: 'cache_hit_ratio', actual: null, limit: 0.8, ok: false, reason: 'no cache lookups during the run' });
    const html = renderRunHtml(r);
    const text = renderSummary(r, new Chalk({ level: 0 }));
    expect(html).toContain('including think time');
    expect(html).toMatch(/<td>buy<\/td>(<td class="num">[^<]*<\/td>){5}<td class="num">1\.5s<\/td>/);
    expect(text).toContain('flow durations are whole iterations, including think time (buy: 1.5s)');
    expect(html).toContain('<td>reference stack</td><td>workers 2, backends embedded, cache off, cacheTtl 30s</td>');
    expect(text).toContain('reference stack: workers 2, backends embedded, cache off, cacheTtl 30s');
    // The autoscaling bounds and timings only with autoscale on; the consumers always.
    r.stack = { workers: 2, consumers: 1, autoscale: false, maxWorkers: 4, pollingInterval: '30s', podStartup: '0s' };
    expect(renderSummary(r, new Chalk({ level: 0 }))).toContain('reference stack: workers 2, consumers 1, autoscale off, podStartup 0s\n');
    expect(renderRunHtml(r)).toContain('<td>reference stack</td><td>workers 2, consumers 1, autoscale off, podStartup 0s</td>');
    r.stack = { ...r.stack, autoscale: true };
    expect(renderSummary(r, new Chalk({ level: 0 }))).toContain('reference stack: workers 2, consumers 1, autoscale on, maxWorkers 4, pollingInterval 30s, podStartup 0s\n');
    expect(html).toContain('<td>cache hit ratio</td><td>none: no cache lookups during the run</td>');
    expect(text).toMatch(/cache hit ratio\s+│ none: no cache lookups during the run/);
    expect(html).toContain('<code>cache_hit_ratio &gt; 0.8</code></td><td class="num">no cache lookups during the run</td>');
    expect(text).toMatch(/cache_hit_ratio > 0\.8\s+│ no cache lookups during the run/);
    expect(renderSummaryMarkdown(r)).toContain('| no cache lookups during the run | **FAIL** |');
    expect(renderJunit([runSuite(r)])).toContain('cache_hit_ratio &gt; 0.8: actual no cache lookups during the run, limit &gt; 80');
    expect(html).not.toContain('no data');
  });

  it('cannot be broken out of by what the file holds: markup in names, kinds and counts stays text', async () => {
    const r = await fixture();
    r.scenario.name = 'evil </script><script>alert(1)</script> & co';
    r.phases = r.phases.map((p) => ({ ...p, name: '</script><img src=x>', kind: '<img src=y>' }));
    r.endpoints[0]!.statusCodes = { '200': '<script>alert(2)</script>' as unknown as number };
    (r.flows[0] as unknown as { offered: string }).offered = '<b>3</b>';
    const html = renderRunHtml(r);
    expect(html).not.toContain('<script>alert(');
    expect(html).not.toMatch(/<img src=[xy]>/);
    expect(html).not.toContain('<b>3</b>');
    expect(html).toContain('evil &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; co');
    expect(embedded(html).phases).toEqual(r.phases);
  });

  it('stays under 1 MB for a 10-minute run with telemetry', async () => {
    const r = await fixture();
    const base = r.timeseries[0]!;
    r.timeseries = Array.from({ length: 600 }, (_, t) => ({
      ...base, t, p50: 12.345 + t / 7, p95: 45.678 + t / 3, p99: 98.765 + t / 2, offeredRps: 100, achievedRps: 99.5, rps: 283.33,
      cacheHitRatio: 0.61234, queueDepth: t % 17, jobsPerSec: 12.5, cpuPercent: 87.65, cpuMaxWorkerPercent: 45.67, eventLoopLagMs: 3.21,
    }));
    const size = Buffer.byteLength(renderRunHtml(r));
    expect(size).toBeLessThan(1_000_000);
  });

  it('run --html and report --html write it; report takes aborted runs and refuses broken files', async () => {
    const dir = await tempFiles({ 'r.json': JSON.stringify({ ...(await fixture()), aborted: true }), 'cap.json': JSON.stringify({ schemaVersion: 1, kind: 'capacity' }) });
    const r = await runCli(['report', 'r.json', '--html', 'out.html'], { cwd: dir });
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    expect(await readFile(join(dir, 'out.html'), 'utf8')).toContain('ABORTED: stopped before its end');
    const cap = await runCli(['report', 'cap.json', '--html', 'c.html'], { cwd: dir });
    expect(cap.code).toBe(ExitCode.invalidInput);
    expect(cap.stderr).toMatch(/cap\.json: not a scalectl capacity result/);
  });
});
