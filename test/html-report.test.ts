import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../src/analyzers/run-result.js';
import { ExitCode } from '../src/exit-codes.js';
import { renderRunHtml } from '../src/reporters/html.js';
import { runCli, tempFiles } from './helpers/cli.js';

const fixture = async (): Promise<RunResult> => JSON.parse(await readFile(new URL('./fixtures/run-result.json', import.meta.url), 'utf8')) as RunResult;

/** The embedded data the page's script reads. */
function embedded(html: string): { charts: Record<string, { x: number[]; yLabel: string; series: { label: string; values: (number | null)[] }[] }>; phases: unknown[] } {
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
    for (const id of Object.keys(data.charts)) expect(html).toContain(`data-chart="${id}"`);
    expect(html).toContain('GET GET /files/*');
  });

  it('adds the target telemetry charts when the run collected them', async () => {
    const r = await fixture();
    r.timeseries = r.timeseries.map((p, i) => ({ ...p, cacheHitRatio: 0.5 + i / 100, queueDepth: i, jobsPerSec: 1, cpuPercent: 40, cpuMaxWorkerPercent: 25 }));
    const data = embedded(renderRunHtml(r));
    expect(Object.keys(data.charts)).toEqual(['latency', 'rate', 'errors', 'cache', 'queue', 'cpu']);
    expect(data.charts.cache!.series[0]!.values[0]).toBe(50);
    expect(data.charts.cpu!.yLabel).toBe('% of one core');
  });

  it('cannot be broken out of by names: </script> and markup in a scenario name stay text', async () => {
    const r = await fixture();
    r.scenario.name = 'evil </script><script>alert(1)</script> & co';
    r.phases = r.phases.map((p) => ({ ...p, name: '</script><img src=x>' }));
    const html = renderRunHtml(r);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<img src=x>');
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
