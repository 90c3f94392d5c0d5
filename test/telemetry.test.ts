import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { TelemetrySummary } from '../src/analyzers/telemetry.js';
import { runCli, runScenario, tempFiles } from './helpers/cli.js';
import { useTestServer } from './helpers/test-server.js';

const target = useTestServer();

/** A fake exporter on 127.0.0.1, port 0: the n-th scrape (from 0) gets `answer(n)`. */
interface Exporter { url: string; scrapes: () => number; close: () => Promise<void> }
let exporter: Exporter | undefined;
afterEach(async () => {
  await exporter?.close();
  exporter = undefined;
});

async function startExporter(answer: (n: number) => { status?: number; body: string; hang?: boolean }): Promise<Exporter> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    const a = answer(n++);
    if (a.hang) return; // never answers; the scrape times out
    res.writeHead(a.status ?? 200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(a.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    scrapes: () => n,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/** The reference stack's series, as a scripted exporter writes them. */
function exposition(v: { hits: number; misses: number; waiting: number; active: number; cpu1: number; cpu2: number; orders: number }): string {
  return [
    '# TYPE shop_cache_requests_total counter',
    `shop_cache_requests_total{result="hit"} ${v.hits}`,
    `shop_cache_requests_total{result="miss"} ${v.misses}`,
    'shop_cache_requests_total{result="error"} 0',
    `shop_queue_jobs{state="waiting"} ${v.waiting}`,
    `shop_queue_jobs{state="active"} ${v.active}`,
    'shop_queue_jobs{state="delayed"} 0',
    'shop_outbox_pending 0',
    `shop_orders{status="done"} ${v.orders}`,
    `shop_worker_cpu_seconds_total{role="web",worker="1"} ${v.cpu1}`,
    `shop_worker_cpu_seconds_total{role="web",worker="2"} ${v.cpu2}`,
    // An order consumer's process: busy, and not a web worker (CPU per worker is the web tier's).
    `shop_worker_cpu_seconds_total{role="consumer",worker="3"} ${4 * v.cpu2}`,
    'shop_replicas{role="web",state="ready"} 2',
    'shop_replicas{role="web",state="starting"} 1',
    'shop_replicas{role="consumer",state="ready"} 1',
    `shop_worker_event_loop_lag_seconds{role="web",worker="1",quantile="0.99"} 0.002`,
    `shop_worker_event_loop_lag_seconds{role="web",worker="2",quantile="0.99"} 0.004`,
    // A consumer blocked by its jobs: not a web worker's lag.
    `shop_worker_event_loop_lag_seconds{role="consumer",worker="3",quantile="0.99"} 0.9`,
  ].join('\n') + '\n';
}

const scenario = (telemetry: string, thresholds = '[]', duration = '2s') => `
name: telemetry
target: ${target.url}
phases: [{ duration: ${duration}, arrivalRate: 20 }]
flows: [{ name: f, steps: [{ get: /delay/1 }] }]
telemetry:
${telemetry}
thresholds: ${thresholds}
`;

const telemetryOf = (r: { result: { telemetry: unknown } }) => r.result.telemetry as TelemetrySummary;

describe('telemetry from a scripted exporter', () => {
  it('derives the hit ratio (across a counter reset), queue depth, drain time and CPU, and gates on them', async () => {
    // Each scrape: 9 hits and 1 miss more (the counters restart from 0 at scrape 6); 7 jobs queued until scrape 20, then none;
    // worker 1 uses half a core and worker 2 three quarters (CPU seconds grow with the clock); one more order done per scrape.
    let t0 = 0;
    exporter = await startExporter((n) => {
      const k = n < 6 ? n : n - 6;
      t0 ||= Date.now();
      const sec = (Date.now() - t0) / 1000;
      return { body: exposition({ hits: 9 * k, misses: k, waiting: n <= 20 ? 5 : 0, active: n <= 20 ? 2 : 0, cpu1: 0.5 * sec, cpu2: 0.75 * sec, orders: n }) };
    });
    const r = await runScenario(scenario(`  prometheus: ${exporter.url}\n  interval: 200ms\n  drainTimeout: 20s\n  custom:\n    orders: { signal: { name: shop_orders, labels: { status: done } }, type: counter }`,
      '[cache_hit_ratio > 0.85, "queue_depth.max < 10", queue_drain_time < 30s, cpu.max < 120%, orders.increase > 5]'));
    expect(r.stderr).not.toContain('internal error');
    const t = telemetryOf(r);
    expect(t.cacheHitRatio).toBe(0.9);
    expect(t.queueDepth?.max).toBe(7);
    // The queue empties at the 22nd scrape, about 4.2 s after the first (0.2 s apart): some 2 s after a 2 s load.
    expect(t.queueDrainTimeSec).toBeGreaterThan(0.5);
    expect(t.queueDrainTimeSec).toBeLessThan(8);
    expect(t.drain?.series.at(-1)?.queueDepth).toBe(0);
    // 50% of a core; scrapes are timed when sent and the exporter reads its clock on arrival, so close but not exact.
    expect(t.cpu?.workers['1']?.meanPercent).toBeGreaterThan(35);
    expect(t.cpu?.workers['1']?.meanPercent).toBeLessThan(65);
    expect(t.cpu!.workers['2']!.meanPercent).toBeGreaterThan(t.cpu!.workers['1']!.meanPercent);
    expect(Object.keys(t.cpu!.workers)).toEqual(['1', '2']);
    // Ready replicas only (not those starting), steady through the run.
    expect(t.replicas).toEqual({ roles: { web: { min: 2, max: 2, final: 2 }, consumer: { min: 1, max: 1, final: 1 } }, events: [] });
    expect(r.stdout).toMatch(/replicas\s+│ web 2 \(steady\) · consumer 1 \(steady\)/);
    expect(t.eventLoopLagMs?.max).toBe(4);
    expect(t.custom.orders?.increase).toBeGreaterThan(5); // one per scrape, some 10 scrapes during the load
    expect(t.scrapes.failed).toBe(0);
    expect(r.result.thresholds.filter((x) => !x.default).map((x) => [x.expression, x.ok]), JSON.stringify(r.result.thresholds)).toEqual([
      ['cache_hit_ratio > 0.85', true], ['queue_depth.max < 10', true], ['queue_drain_time < 30s', true], ['cpu.max < 120%', true], ['orders.increase > 5', true],
    ]);
    expect(r.code).toBe(0);
    // Per second, in the timeseries too.
    expect(r.result.timeseries.filter((p) => p.cacheHitRatio === 0.9).length).toBeGreaterThan(0);
    expect(r.result.timeseries.some((p) => p.queueDepth === 7)).toBe(true);
    expect(r.stdout).toMatch(/cache hit ratio\s+│ 90\.0% of \d+ lookups/);
    expect(r.stdout).toMatch(/queue drain time\s+│ \d+\.\d s after the load/);
  });

  it('fails a telemetry threshold with exit 4, and one with no data as well', async () => {
    exporter = await startExporter((n) => ({ body: exposition({ hits: n, misses: n, waiting: 0, active: 0, cpu1: 0, cpu2: 0, orders: 0 }) }));
    const r = await runScenario(scenario(`  prometheus: ${exporter.url}\n  interval: 200ms\n  metrics:\n    cacheHits: { name: shop_cache_requests_total, labels: { result: hit } }\n` +
      '    cacheMisses: { name: shop_cache_requests_total, labels: { result: miss } }\n    eventLoopLag: { name: no_such_metric }',
      '[cache_hit_ratio > 80%, event_loop_lag.max < 1s]', '1s'));
    expect(r.code).toBe(4);
    expect(r.result.thresholds.filter((x) => !x.default).map((x) => [x.expression, x.actual, x.ok])).toEqual([['cache_hit_ratio > 80%', 0.5, false], ['event_loop_lag.max < 1s', null, false]]);
    expect(telemetryOf(r).warnings).toContain(`no series found for eventLoopLag at ${exporter.url}; its figures are missing`);
    expect(r.stdout).toContain('warning: telemetry: no series found for eventLoopLag');
  });

  it('counts failed scrapes (500, timeout, not the format) and goes on', async () => {
    exporter = await startExporter((n) => (n % 4 === 1 ? { status: 500, body: 'oops' } : n % 4 === 2 ? { hang: true, body: '' }
      : n % 4 === 3 ? { body: '<html>hello</html>' } : { body: exposition({ hits: 9 * n, misses: n, waiting: 0, active: 0, cpu1: 0, cpu2: 0, orders: 0 }) }));
    const r = await runScenario(scenario(`  prometheus: ${exporter.url}\n  interval: 100ms\n  timeout: 150ms`, '[]', '2s'));
    expect(r.code).toBe(0);
    const t = telemetryOf(r);
    expect(t.scrapes.failed).toBeGreaterThanOrEqual(3);
    expect(t.scrapes.ok).toBeGreaterThanOrEqual(2);
    expect(t.scrapes.firstFailure).toMatch(/HTTP 500: oops$/); // with what the exporter said
    const failures = t.warnings.find((w) => w.includes('scrapes failed'));
    expect(failures).toBeDefined();
    expect(t.cacheHitRatio).toBe(0.9);
    expect(r.result.totals.requests).toBe(40);
  });

  it('queries a Prometheus server with PromQL instead of scraping, with HTTP Basic auth from the environment', async () => {
    const seen = new Set<string>();
    const counts = new Map<string, number>();
    let n = 0;
    const server = createServer((req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('scalectl:pr0m-pass').toString('base64')}`) {
        res.writeHead(401);
        return res.end('unauthorized');
      }
      const u = new URL(req.url ?? '/', 'http://x');
      const q = u.searchParams.get('query') ?? '';
      seen.add(`${u.pathname} ${q}`);
      // Each query has its own count of how often it was asked, so the order the queries arrive in does not matter.
      const asked = (counts.get(q) ?? 0) + 1;
      counts.set(q, asked);
      if (q.includes('result="hit"')) n = asked;
      const vector = (value: number, metric: Record<string, string> = {}) => ({ metric, value: [Date.now() / 1000, String(value)] });
      const result = q.includes('result="hit"') ? [vector(3 * asked)] : q.includes('result="miss"') ? [vector(asked)]
        : q.includes('cpu') ? [vector(0.02 * asked, { pod: 'a' }), vector(0.04 * asked, { pod: 'b' })]
          // kube-state-metrics: the web deployment scales from 1 to 2 at the second query (the first is before the load, the end of the load brings another).
          : q.includes('kube_deployment') ? [vector(asked < 2 ? 1 : 2, { deployment: 'shop-web' }), vector(1, { deployment: 'shop-orders' })] : [vector(2)];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    exporter = { url: '', scrapes: () => n, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
    const prom = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await runScenario(scenario([
      `  promql: { url: "${prom}", auth: { username: scalectl, passwordEnv: PROM_PASSWORD } }`,
      '  interval: 100ms',
      '  drainTimeout: 0s',
      '  metrics:',
      '    cacheHits: { query: \'sum(shop_cache_requests_total{result="hit"})\' }',
      '    cacheMisses: { query: \'sum(shop_cache_requests_total{result="miss"})\' }',
      '    queueWaiting: { query: "sum(shop_queue_jobs)" }',
      '    cpuSeconds: { query: "sum by (pod) (container_cpu_usage_seconds_total)", by: pod }',
      '    replicas: { query: \'sum by (deployment) (kube_deployment_status_replicas_available{namespace="shop"})\', by: deployment }',
    ].join('\n'), '[cache_hit_ratio >= 0.75]', '1s'), { env: { PROM_PASSWORD: 'pr0m-pass' } });
    expect(r.code).toBe(0);
    const t = telemetryOf(r);
    expect(t.scrapes.failed).toBe(0);
    expect(t.cacheHitRatio).toBe(0.75);
    expect(t.queueDepth?.max).toBe(2);
    expect(Object.keys(t.cpu?.workers ?? {}).sort()).toEqual(['a', 'b']);
    expect(t.queueDrainTimeSec).toBeNull(); // drainTimeout 0s: no drain wait
    expect(t.replicas?.roles).toEqual({ 'shop-web': { min: 1, max: 2, final: 2 }, 'shop-orders': { min: 1, max: 1, final: 1 } });
    expect(t.replicas?.events.map((e) => [e.role, e.from, e.to])).toEqual([['shop-web', 1, 2]]);
    expect([...seen].every((s) => s.startsWith('/api/v1/query '))).toBe(true);
    expect(JSON.stringify(r.result) + r.stdout + r.stderr).not.toContain('pr0m-pass');
  });

  it('fails only the signal whose PromQL query Prometheus refuses, says why in the results, and sends a bearer token from the environment', async () => {
    const asked = new Map<string, number>();
    const server = createServer((req, res) => {
      if (req.headers.authorization !== 'Bearer pr0m-t0ken') {
        res.writeHead(401);
        return res.end('unauthorized');
      }
      const q = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
      const n = (asked.get(q) ?? 0) + 1;
      asked.set(q, n);
      res.writeHead(q.includes('((') ? 400 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(q.includes('((') ? { status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:5: parse error: unclosed left parenthesis' }
        : { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, String(q.includes('hit') ? 9 * n : n)] }] } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    exporter = { url: '', scrapes: () => 0, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
    const r = await runScenario(scenario([
      `  promql: { url: "http://127.0.0.1:${(server.address() as AddressInfo).port}", auth: { bearerTokenEnv: PROM_TOKEN } }`,
      '  interval: 200ms',
      '  drainTimeout: 0s',
      '  metrics:',
      '    cacheHits: { query: "sum(hits)" }',
      '    cacheMisses: { query: "sum(misses)" }',
      '    queueWaiting: { query: "sum((jobs)" }',
    ].join('\n'), '[]', '1s'), { env: { PROM_TOKEN: 'pr0m-t0ken' } });
    expect(r.code).toBe(0);
    const t = telemetryOf(r);
    expect(t.scrapes.failed).toBe(0);
    expect(t.cacheHitRatio).toBe(0.9); // the good queries kept working
    expect(t.queueDepth).toBeNull();
    const error = 'query failed: bad_data: invalid parameter "query": 1:5: parse error: unclosed left parenthesis (HTTP 400)';
    expect(t.failedSignals).toEqual({ queueWaiting: { failed: t.scrapes.ok, error } });
    expect(t.warnings).toEqual([`the query for queueWaiting failed in ${t.scrapes.ok} of ${t.scrapes.ok} scrapes (first: ${error}); its figures are missing`]);
    expect(r.stdout + r.stderr).toContain('unclosed left parenthesis');
    expect(JSON.stringify(r.result) + r.stdout + r.stderr).not.toContain('pr0m-t0ken');
  });

  it('maps only what is given for another service: no drain without queue series, and no warnings about shop_* series', async () => {
    exporter = await startExporter((n) => ({ body: `app_cache_total{outcome="hit"} ${4 * n}\napp_cache_total{outcome="miss"} ${n}\n` }));
    const r = await runScenario(scenario([
      `  prometheus: ${exporter.url}`,
      '  interval: 5s', // longer than the load: the figures come from the scrape taken when the load ends
      '  metrics:',
      '    cacheHits: { name: app_cache_total, labels: { outcome: hit } }',
      '    cacheMisses: { name: app_cache_total, labels: { outcome: miss } }',
    ].join('\n'), '[cache_hit_ratio > 0.75, queue_drain_time < 30s]', '1s'));
    const t = telemetryOf(r);
    expect(t.cacheHitRatio).toBe(0.8);
    expect(t.warnings).toEqual([]);
    expect(t.queueDepth).toBeNull();
    expect(t.drain).toBeNull();
    expect(r.result.thresholds.filter((x) => !x.default).map((x) => [x.expression, x.actual, x.ok])).toEqual([['cache_hit_ratio > 0.75', 0.8, true], ['queue_drain_time < 30s', null, false]]);
    expect(r.code).toBe(4);
    expect(r.stderr).not.toContain('waiting for the target\'s queue');
  });

  it('validates the section and telemetry thresholds before running', async () => {
    const dir = await tempFiles({
      'a.yaml': scenario('  interval: 1s', '[cache_hit_ratio > 0.8, "f: cpu.max < 50%", nope.rate > 1]').replace('telemetry:\n  interval: 1s\n', ''),
      'b.yaml': scenario('  prometheus: ftp://x/metrics\n  interval: 10ms\n  metrics:\n    cacheHits: { query: "sum(x)" }'),
      'c.yaml': scenario('  custom:\n    orders: { signal: { name: o_total }, type: counter }', '[orders.max > 1, orders.rate > 1, cache_hit_ratio > -1]'),
      'd.yaml': scenario('  custom:\n    cpu: { signal: { name: c }, type: gauge }'),
      'e.yaml': scenario('  promql: { url: "http://u:p@127.0.0.1:9090", auth: { username: u } }\n  metrics:\n    cacheHits: { query: "sum(x)" }'),
    });
    const r = await runCli(['validate', 'a.yaml', 'b.yaml', 'c.yaml', 'd.yaml', 'e.yaml'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toEqual([
      'a.yaml:6:14 thresholds[0]: cache_hit_ratio comes from the target\'s metrics: add a telemetry: section (docs/telemetry.md)',
      'a.yaml:6:37 thresholds[1]: cpu.max is measured on the target as a whole; it takes no scope ("f:")',
      'a.yaml:6:57 thresholds[2]: nope.rate comes from the target\'s metrics: add a telemetry: section (docs/telemetry.md)',
      expect.stringMatching(/^b\.yaml:7:\d+ telemetry\.prometheus: expected an http\(s\) URL/),
      expect.stringMatching(/^b\.yaml:8:\d+ telemetry\.interval: at least 100ms/),
      expect.stringMatching(/^b\.yaml:10:\d+ telemetry\.metrics\.cacheHits: a query needs promql/),
      expect.stringMatching(/^c\.yaml:\d+:\d+ thresholds\[0\]: orders is a counter: use orders\.rate, orders\.increase$/),
      expect.stringMatching(/^c\.yaml:\d+:\d+ thresholds\[2\]: expected a percentage such as 80% or a fraction such as 0\.8, got "-1"$/),
      expect.stringMatching(/^d\.yaml:\d+:\d+ telemetry\.custom\.cpu: cpu is a built-in telemetry metric; pick another name$/),
      expect.stringMatching(/^e\.yaml:\d+:\d+ telemetry\.promql\.url: credentials in the URL would sit in the scenario file: remove them and give auth: \{ username, passwordEnv \}/),
      expect.stringMatching(/^e\.yaml:\d+:\d+ telemetry\.promql\.auth: HTTP Basic needs both username and passwordEnv$/),
      '5 of 5 scenario files invalid',
    ]);
  });
});
