import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../src/analyzers/run-result.js';
import type { StreamSample } from '../src/streams/stream-second.js';
import { LATENCY_BUCKETS_SECONDS } from '../src/streams/remote-write-series.js';
import { runBin, runCli, tempFiles } from './helpers/cli.js';
import { startPrometheus, type PrometheusServer } from './helpers/prometheus.js';
import { closedPort, useTestServer } from './helpers/test-server.js';

const server = useTestServer();

const scenario = (url: string, seconds: number): string => `
name: live
target: ${url}
phases: [{ duration: ${seconds}s, arrivalRate: 40 }]
flows:
  - { name: ok, weight: 3, steps: [{ name: ok, get: /status/200 }] }
  - { name: e503, weight: 1, steps: [{ name: unavailable, get: /status/503 }] }
  - { name: reset, weight: 1, steps: [{ name: reset, get: /reset }] }
`;

async function run(seconds: number, streams: string[], args: string[] = []): Promise<{ code: number; stderr: string; result: RunResult; dir: string; ms: number }> {
  const dir = await tempFiles({ 's.yaml': scenario(server.url, seconds) });
  const started = Date.now();
  // Worker threads run the built engine: the built bin, in a child process.
  const exec = args.includes('--workers') ? runBin : runCli;
  const r = await exec(['run', 's.yaml', '--out', 'r.json', '--no-progress', ...args, ...streams.flatMap((s) => ['--stream', s])], { cwd: dir });
  const ms = Date.now() - started;
  if (r.stderr.includes('internal error')) throw new Error(r.stderr);
  return { ...r, ms, dir, result: JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult };
}

const runIdOf = (stderr: string): string => /run_id ([0-9a-f]{12})/.exec(stderr)![1]!;

describe('--stream to a real Prometheus and to an ndjson file', () => {
  let prom: PrometheusServer;
  let run1: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    prom = await startPrometheus();
    // Two engine threads: their seconds are merged before they are sent.
    run1 = await run(3, [`prometheus-rw=${prom.writeUrl}`, 'ndjson=live.ndjson'], ['--workers', '2']);
  });
  afterAll(async () => prom?.stop());

  it('Prometheus holds the run: requests, errors by kind and the histogram count equal the RunResult', async () => {
    const { result, stderr, code } = run1;
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/cannot send/);
    expect(stderr).toMatch(/prometheus-rw .*: \d+ s of samples sent in \d+ requests?\n/);
    const id = runIdOf(stderr);
    const one = async (q: string): Promise<number> => {
      const r = await prom.query(q);
      expect(r, q).toHaveLength(1);
      return r[0]!.value;
    };
    expect(result.totals.requests).toBeGreaterThan(80);
    expect(await one(`sum(scalectl_requests_total{run_id="${id}"})`)).toBe(result.totals.requests);
    expect(await one(`sum(scalectl_request_duration_seconds_count{run_id="${id}"})`)).toBe(result.totals.requests);
    expect(await one(`sum(scalectl_request_duration_seconds_bucket{run_id="${id}", le="+Inf"})`)).toBe(result.totals.requests);
    const kinds = await prom.query(`sum by (kind) (scalectl_errors_total{run_id="${id}"})`);
    expect(Object.fromEntries(kinds.map((k) => [k.metric.kind, k.value]))).toEqual(result.totals.errorsByKind);
    expect(Object.keys(result.totals.errorsByKind).sort()).toEqual(['http_5xx', 'reset']);
    const byEndpoint = await prom.query(`scalectl_requests_total{run_id="${id}", scenario="live", job="scalectl"}`);
    expect(Object.fromEntries(byEndpoint.map((e) => [e.metric.endpoint, e.value]))).toEqual(Object.fromEntries(result.endpoints.map((e) => [e.name, e.requests])));
    // The buckets are cumulative, up to the endpoint's count at +Inf.
    const ok = result.endpoints.find((e) => e.name === 'ok')!;
    const buckets = (await prom.query(`scalectl_request_duration_seconds_bucket{run_id="${id}", endpoint="ok"}`))
      .map((b) => ({ le: b.metric.le === '+Inf' ? Infinity : Number(b.metric.le), n: b.value })).sort((a, b) => a.le - b.le);
    expect(buckets.map((b) => b.le)).toEqual([...LATENCY_BUCKETS_SECONDS, Infinity]);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.n).toBeGreaterThanOrEqual(buckets[i - 1]!.n);
    expect(buckets.at(-1)!.n).toBe(ok.requests);
    // histogram_quantile lands in the bucket that holds the exact p50 (from the HdrHistogram).
    const p50 = await one(`histogram_quantile(0.5, sum by (le) (scalectl_request_duration_seconds_bucket{run_id="${id}"}))`);
    const exact = result.totals.latencyMs.p50 / 1000;
    const upper = LATENCY_BUCKETS_SECONDS.findIndex((le) => exact <= le * 1.001);
    expect(p50).toBeGreaterThanOrEqual((upper > 0 ? LATENCY_BUCKETS_SECONDS[upper - 1]! : 0) * 0.999);
    expect(p50).toBeLessThanOrEqual(LATENCY_BUCKETS_SECONDS[upper]! * 1.001);
    for (const gauge of ['scalectl_offered_rate', 'scalectl_achieved_rate', 'scalectl_in_flight', 'scalectl_dropped_iterations_total']) {
      expect(await prom.query(`${gauge}{run_id="${id}"}`), gauge).toHaveLength(1);
    }
    expect(await prom.query(`scalectl_latency_window_seconds{run_id="${id}"}`)).toHaveLength(5);
  });

  it("the dashboards' PromQL is valid to Prometheus, and the stream dashboard's panels show this run", async () => {
    const id = runIdOf(run1.stderr);
    const fill = (e: string): string => e.replaceAll('$run_id', id).replaceAll('$scenario', 'live').replaceAll('$__rate_interval', '10s').replaceAll('$job', '.*');
    for (const file of ['scalectl-stream.json', 'reference-stack.json']) {
      const d = JSON.parse(await readFile(new URL(`../dashboards/${file}`, import.meta.url), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
      for (const p of d.panels) {
        for (const t of p.targets) {
          const r = await prom.query(fill(t.expr));
          // Checks need a scenario with checks; the shop's metrics need the shop.
          if (file === 'scalectl-stream.json' && !t.expr.includes('scalectl_checks_total')) expect(r.length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
        }
      }
    }
  });

  it('the ndjson file has a line per second whose figures add up to the RunResult exactly', async () => {
    const { result, dir, stderr } = run1;
    const lines = (await readFile(join(dir, 'live.ndjson'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as StreamSample);
    expect(stderr).toMatch(new RegExp(`ndjson: ${lines.length} lines written to live.ndjson`));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(lines.map((l) => l.t)).toEqual(lines.map((_, i) => i));
    const id = runIdOf(stderr);
    const sum = (f: (l: StreamSample) => number): number => lines.reduce((s, l) => s + f(l), 0);
    expect(lines.every((l) => l.runId === id && l.scenario === 'live')).toBe(true);
    expect(sum((l) => l.requests)).toBe(result.totals.requests);
    expect(sum((l) => l.errors)).toBe(result.totals.errors);
    expect(sum((l) => l.latencyMs.count)).toBe(result.totals.requests);
    expect(sum((l) => l.dropped)).toBe(result.totals.droppedIterations);
    for (const kind of Object.keys(result.totals.errorsByKind) as (keyof typeof result.totals.errorsByKind)[]) {
      expect(sum((l) => l.errorsByKind[kind] ?? 0), kind).toBe(result.totals.errorsByKind[kind]);
    }
    result.endpoints.forEach((e, i) => {
      expect(lines.every((l) => l.endpoints[i]!.name === e.name)).toBe(true);
      expect(sum((l) => l.endpoints[i]!.requests), e.name).toBe(e.requests);
      expect(sum((l) => l.endpoints[i]!.errors), e.name).toBe(e.errors);
    });
    expect(sum((l) => l.statusCodes['200'] ?? 0)).toBe(result.totals.statusCodes['200']);
    // The timestamps are the seconds' ends, one second apart.
    for (let i = 1; i < lines.length - 1; i++) expect(Math.abs(lines[i]!.timestamp - lines[i - 1]!.timestamp - 1000)).toBeLessThan(5);
    expect(new Date(lines[0]!.timestamp).getTime() - new Date(result.startedAt).getTime()).toBeLessThanOrEqual(1001);
  });
});

describe('--stream on Ctrl-C', () => {
  it('the seconds up to the stop are written, and add up to the partial RunResult', async () => {
    const dir = await tempFiles({ 's.yaml': scenario(server.url, 20) });
    const stop = new AbortController();
    const running = runCli(['run', 's.yaml', '--out', 'r.json', '--no-progress', '--stream', 'ndjson=live.ndjson'], { cwd: dir, signal: stop.signal });
    // Stop once the file shows a second has gone by (bounded: the run itself lasts 20 s).
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !(await readFile(join(dir, 'live.ndjson'), 'utf8').catch(() => '')).includes('\n')) await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    const r = await running;
    expect(r.code).toBe(5);
    const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult;
    const lines = (await readFile(join(dir, 'live.ndjson'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as StreamSample);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBeLessThan(10);
    expect(lines.reduce((n, l) => n + l.requests, 0)).toBe(result.totals.requests);
  });
});

describe('--stream prometheus-rw to an endpoint that is down', () => {
  it('the run ends on time with its own exit code, one warning and a summary of what was dropped', async () => {
    const port = await closedPort();
    const r = await run(1, [`prometheus-rw=http://127.0.0.1:${port}/api/v1/write`]);
    expect(r.code).toBe(0);
    expect(r.result.totals.requests).toBeGreaterThan(20);
    expect(r.stderr.match(/cannot send/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot send \(ECONNREFUSED\); retrying in the background/);
    expect(r.stderr).toMatch(/prometheus-rw http:\/\/127\.0\.0\.1:\d+\/api\/v1\/write: 0 s of samples sent in \d+ requests; [12] s dropped \(ECONNREFUSED\)/);
    // 1 s of load; the generous rest is the noisy machine's, never a wait for the endpoint (up to 5 s at the end when it answers).
    expect(r.ms).toBeLessThan(1000 + 4000);
  });
});

describe('--stream ndjson to a file that cannot take the lines', () => {
  it('says so once, the run goes on, and its success becomes exit 8', async () => {
    const r = await run(1, ['ndjson=/dev/full']);
    expect(r.code).toBe(8);
    expect(r.result.totals.requests).toBeGreaterThan(20);
    expect(r.stderr.match(/could not write \/dev\/full: ENOSPC/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/ndjson \/dev\/full: 0 lines written, then failed \(ENOSPC no space left on device\)/);
  });
});

describe('--stream values', () => {
  it('a bad kind or destination is a usage error (exit 2) naming what is wrong', async () => {
    const dir = await tempFiles({ 's.yaml': scenario('http://127.0.0.1:1', 1) });
    for (const [value, said] of [
      ['kafka=x', /unknown kind "kafka"/],
      ['otlp=http://127.0.0.1:4318', /OpenTelemetry \(OTLP\) is not supported yet/],
      ['ndjson', /expected <kind>=<destination>/],
      ['ndjson=', /ndjson needs a file name/],
      ['prometheus-rw=localhost:9090', /expected an http\(s\) URL/],
      ['ndjson=-', /ndjson=- \(standard output\) is not supported/],
    ] as const) {
      const r = await runCli(['run', 's.yaml', '--stream', value], { cwd: dir });
      expect(r.code, value).toBe(2);
      expect(r.stderr, value).toMatch(said);
    }
    for (const twice of [['ndjson=a.ndjson', 'ndjson=./a.ndjson'], ['prometheus-rw=http://127.0.0.1:1/w', 'prometheus-rw=http://127.0.0.1:1/w']]) {
      const r = await runCli(['run', 's.yaml', ...twice.flatMap((s) => ['--stream', s])], { cwd: dir });
      expect(r.code, twice[1]).toBe(2);
      expect(r.stderr, twice[1]).toMatch(/is given twice/);
    }
    const same = await runCli(['run', 's.yaml', '--out', 'x.ndjson', '--stream', 'ndjson=x.ndjson'], { cwd: dir });
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/the same file as --out/);
    const input = await runCli(['run', 's.yaml', '--stream', 'ndjson=s.yaml'], { cwd: dir });
    expect(input.code).toBe(2);
    expect(input.stderr).toMatch(/that is the input file/);
  });
});
