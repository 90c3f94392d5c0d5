import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TelemetrySummary } from '../src/analyzers/telemetry.js';
import type { ChartSpec } from '../src/reporters/chart-spec.js';
import { runScenario, tempFiles } from './helpers/cli.js';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('replicas from a scripted exporter', () => {
  it('records replicas per role as they change: in the timeseries, the summary with each event (also during the drain), the terminal and the HTML chart', async () => {
    // The exporter is the target too, so it knows when the load's last request (the 20th) has come: from then on,
    // 6 scrapes later (at least 5 intervals of 200 ms, well after the load's end), the queue is empty and both roles are back at 1.
    let requests = 0;
    let scrapes = 0;
    let lastRequestSeenAt: number | undefined;
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        // The load's requests; not the probe of the target before the run.
        if (req.url === '/work') requests++;
        return res.end('ok');
      }
      const n = scrapes++;
      if (requests >= 20) lastRequestSeenAt ??= n;
      const drained = lastRequestSeenAt !== undefined && n >= lastRequestSeenAt + 6;
      const web = drained ? 1 : n >= 2 ? 2 : 1;
      const consumer = drained ? 1 : n >= 3 ? 3 : 1;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end([
        `shop_queue_jobs{state="waiting"} ${drained ? 0 : 5}`,
        `shop_replicas{role="web",state="ready"} ${web}`,
        `shop_replicas{role="consumer",state="ready"} ${consumer}`,
        `shop_replicas{role="web",state="starting"} ${web === 2 ? 0 : 1}`,
      ].join('\n') + '\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); });
    const dir = await tempFiles({});
    const r = await runScenario(`
name: replicas
target: ${base}
phases: [{ duration: 2s, arrivalRate: 10 }]
flows: [{ name: f, steps: [{ get: /work }] }]
telemetry:
  prometheus: ${base}/metrics
  interval: 200ms
  timeout: 5s
  drainTimeout: 30s
  metrics:
    queueWaiting: { name: shop_queue_jobs, labels: { state: waiting } }
    replicas: { name: shop_replicas, labels: { state: ready }, by: role }
`, { args: ['--html', join(dir, 'r.html')] });
    expect(r.code, r.stderr).toBe(0);
    expect(requests).toBe(20);
    const t = r.result.telemetry as TelemetrySummary;
    expect(t.warnings).toEqual([]);
    expect(t.replicas?.roles).toEqual({ web: { min: 1, max: 2, final: 1 }, consumer: { min: 1, max: 3, final: 1 } });
    const events = t.replicas!.events;
    expect(events.map((e) => [e.role, e.from, e.to])).toEqual([['web', 1, 2], ['consumer', 1, 3], ['web', 2, 1], ['consumer', 3, 1]]);
    // Scaled up during the load, down in the drain after it (the scrape that saw it is timed from the load's start).
    for (const e of events.slice(0, 2)) expect(e.t).toBeLessThan(r.result.loadDurationSec);
    for (const e of events.slice(2)) expect(e.t).toBeGreaterThan(r.result.loadDurationSec);
    expect(events[2]!.t).toBe(events[3]!.t);
    // Per second: each point holds the last scrape of its second, both roles, never the starting ones.
    const perSecond = r.result.timeseries.map((p) => p.replicas).filter(Boolean);
    expect(perSecond.length).toBeGreaterThan(0);
    expect(perSecond).toContainEqual({ web: 2, consumer: 3 });
    for (const p of perSecond) expect(Object.keys(p!)).toEqual(['web', 'consumer']);
    expect(r.stdout).toMatch(/replicas\s+│ web 1 → 2 → 1 \(max 2, 2 changes\) · consumer 1 → 3 → 1 \(max 3, 2 changes\)/);
    const html = await readFile(join(dir, 'r.html'), 'utf8');
    const data = JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!) as { charts: Record<string, ChartSpec> };
    const chart = data.charts.replicas!;
    expect(chart.series.map((s) => s.label)).toEqual(['web', 'consumer', 'achieved iterations/s']);
    expect(chart.markers?.map((m) => m.label)).toEqual(events.map((e) => `${e.role} ${e.from} → ${e.to} at ${e.t} s`));
    // The chart runs on past the load to the scale-down, where both roles read 1 again.
    expect(chart.x.at(-1)).toBeGreaterThanOrEqual(events[3]!.t);
    expect(chart.series.slice(0, 2).map((s) => s.values.at(-1))).toEqual([1, 1]);
  });
});
