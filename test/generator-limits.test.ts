import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultMaxInFlight, runLoad } from '../src/engine/run-load.js';
import { loadScenario, type LoadedScenario } from '../src/scenarios/load-scenario.js';
import { LOAD_LIMITS } from '../src/scenarios/schema.js';
import { runCli, runScenario, tempFiles } from './helpers/cli.js';
import { useTestServer } from './helpers/test-server.js';

async function load(yaml: string): Promise<LoadedScenario> {
  const dir = await tempFiles({ 's.yaml': yaml });
  const r = await loadScenario(join(dir, 's.yaml'));
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.loaded;
}

const server = useTestServer();

describe('generator limits', () => {
  it('--connections 1: the wait for the one connection is in the latency and the connection-wait warning fires', async () => {
    // 30/s of 50 ms requests on one connection (20/s at most): the queue grows every second.
    const { result } = await runScenario(`
name: one-connection
target: ${server.url}
phases: [{ duration: 2s, arrivalRate: 30 }]
flows: [{ name: c, steps: [{ get: /delay/50 }] }]
`, { args: ['--connections', '1'] });
    expect(result.generator.connections).toBe(1);
    expect(result.totals.requests).toBe(60);
    expect(result.totals.latencyMs.p99).toBeGreaterThan(500);
    expect(result.generator.connectionWaitSeconds).toBeGreaterThanOrEqual(2);
    expect(result.generator.warnings.join('\n')).toMatch(/requests waited for a free connection in \d+ s \(1 connections per origin per worker\)/);
  });

  it('a response body kept for a capture past defaults.captureBodyLimit fails that request as body_too_large', async () => {
    // /echo returns the ~2 KB body it was sent, plus an id.
    const { result } = await runScenario(`
name: body-limit
target: ${server.url}
defaults: { captureBodyLimit: 1000 }
phases: [{ duration: 1s, arrivalRate: 5 }]
flows:
  - name: big
    steps:
      - { post: /echo, json: { pad: "${'x'.repeat(2000)}" }, capture: { id: $.id } }
      - get: /items/{{ id }}
`);
    expect(result.totals.requests).toBe(5);
    expect(result.totals.errorsByKind).toEqual({ body_too_large: 5 });
    expect(result.errorSamples.body_too_large).toBe('response body over 1000 bytes, kept for a capture or check (defaults.captureBodyLimit)');
  });

  it('a body too large to keep is judged by its status first: an unexpected status counts as such, and the status is recorded', async () => {
    // Two steps answering 500 with a 5 KB body, kept for a capture: one expects 200 (an http_5xx), one expects 500 (body_too_large).
    const loaded = await load(`
name: big-errors
target: ${server.url}
defaults: { captureBodyLimit: 1000 }
phases: [{ duration: 1s, arrivalRate: 20 }]
flows:
  - { name: unexpected, steps: [{ name: a, get: '/status/500?pad=5000', capture: { s: $.status } }] }
  - { name: expected, steps: [{ name: b, get: '/status/500?pad=5000', expect: { status: 500 }, capture: { s: $.status } }] }
`);
    const data = await runLoad(loaded, { target: server.url, workers: 1 });
    const [unexpected, expected] = data.final.endpoints.map((e) => e.counts);
    expect(unexpected!.requests + expected!.requests).toBe(20);
    expect(unexpected!.statusCodes).toEqual(unexpected!.requests ? { 500: unexpected!.requests } : {});
    expect(unexpected!.errorsByKind).toEqual(unexpected!.requests ? { http_5xx: unexpected!.requests } : {});
    expect(expected!.statusCodes).toEqual(expected!.requests ? { 500: expected!.requests } : {});
    expect(expected!.errorsByKind).toEqual(expected!.requests ? { body_too_large: expected!.requests } : {});
  });

  it('an absurd rate past the bounds still runs in bounded time and memory: arrivals it cannot start are counted, not kept', async () => {
    // The engine, below validation: 10^9 arrivals/s for 2 s, at most 10 in flight, against a 100 ms target.
    const loaded = await load(`
name: flood
target: ${server.url}
phases: [{ duration: 2s, arrivalRate: 1000 }]
flows: [{ name: a, weight: 3, steps: [{ get: /delay/100 }] }, { name: b, steps: [{ get: /delay/100 }] }]
`);
    const phase = loaded.scenario.phases[0]!;
    if (phase.kind !== 'arrivalRate') throw new Error('expected an arrivalRate phase');
    Object.assign(phase, { arrivalRate: 1e9, rampTo: 1e9 });
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 20);
    const data = await runLoad(loaded, { target: server.url, workers: 1, maxInFlight: 10 }).finally(() => clearInterval(sampler));
    const it = data.final.iterations;
    expect(it.offered).toBe(2e9);
    expect(it.started).toBeGreaterThan(0);
    expect(it.started).toBeLessThan(1000);
    expect(it.dropped).toBe(it.offered - it.started);
    // Drops are shared by flow weight (3:1) without picking each one.
    const [a, b] = data.final.flows.map((f) => f.iterations.offered);
    expect(a! / b!).toBeCloseTo(3, 2);
    // A 2 s phase plus the last requests' 100 ms: the old per-arrival loop took minutes.
    expect(data.durationSec).toBeLessThan(6);
    expect(heapPeak - heapBefore).toBeLessThan(100e6);
  });

  it('virtual users still running at a vus to arrivalRate boundary do not use up the open model\'s in-flight cap', async () => {
    // 20 VUs of 200 ms requests, then 20 arrivals/s capped at 10 in flight: the VUs' last
    // iterations overlap the first arrivals, yet only 4 arrivals (20/s x 0.2 s) are ever in flight.
    const loaded = await load(`
name: mix
target: ${server.url}
phases: [{ duration: 500ms, vus: 20 }, { duration: 1s, arrivalRate: 20 }]
flows: [{ name: c, steps: [{ get: /delay/200 }] }]
`);
    const data = await runLoad(loaded, { target: server.url, workers: 1, maxInFlight: 10 });
    expect(data.final.iterations.arrivals).toBe(20);
    expect(data.final.iterations.dropped).toBe(0);
  });

  it('arrivals dropped in bulk count in the second they were due, not the second they were processed', async () => {
    // 1,000,000 arrivals in 1.5 s (the most a scenario allows), at most 1 in flight: all but a few are
    // dropped in bulk, about every millisecond. Arrivals k < 1,000,000 are due in second 0, the rest in second 1.
    const loaded = await load(`
name: boundary
target: ${server.url}
phases: [{ duration: 1500ms, arrivalRate: 1000000 }]
flows: [{ name: a, steps: [{ get: /delay/100 }] }]
`);
    const data = await runLoad(loaded, { target: server.url, workers: 1, maxInFlight: 1 });
    expect(data.final.iterations.offered).toBe(1_500_000);
    expect(data.timeseries.map((p) => p.offeredRps).slice(0, 2)).toEqual([1_000_000, 500_000]);
  });

  it('the default in-flight cap stops at LOAD_LIMITS.maxInFlight, whatever the rate', async () => {
    const loaded = await load(`
name: wide
target: ${server.url}
phases: [{ duration: 2s, arrivalRate: 1000000 }]
flows: [{ name: a, steps: [{ get: /x }] }]
`);
    expect(defaultMaxInFlight(loaded)).toBe(LOAD_LIMITS.maxInFlight);
  });

  it('refuses load values past the bounds with the reason and what to do', async () => {
    const dir = await tempFiles({
      'v.yaml': `
name: v
target: ${server.url}
maxInFlight: 2000000
defaults: { captureBodyLimit: 536870912 }
phases: [{ duration: 2s, vus: 1e9 }, { duration: 1s, arrivalRate: 1e9 }]
flows: [{ name: a, steps: [{ get: /x }] }]
`,
    });
    const v = await runCli(['validate', 'v.yaml'], { cwd: dir });
    expect(v.code).toBe(3);
    expect(v.stderr).toContain('v.yaml:4:14 maxInFlight: at most 100000, got 2000000: each iteration in flight holds a few KB');
    expect(v.stderr).toContain('defaults.captureBodyLimit: at most 268435456, got 536870912');
    expect(v.stderr).toContain('phases[0].vus: at most 100000, got 1000000000: each virtual user holds an iteration and a connection; for more load use arrivalRate');
    expect(v.stderr).toContain('phases[1].arrivalRate: at most 1000000, got 1000000000: one generator starts tens of thousands of iterations per second; to find the highest rate the target sustains, use scalectl capacity');
    const workers = await runCli(['run', 'v.yaml', '--workers', '100000'], { cwd: dir });
    expect(workers.code).toBe(2);
    expect(workers.stderr).toMatch(/--workers takes at most \d+: 4 engine threads per core of this machine/);
    const inFlight = await runCli(['run', 'v.yaml', '--max-in-flight', '100001'], { cwd: dir });
    expect(inFlight.code).toBe(2);
    expect(inFlight.stderr).toContain('--max-in-flight takes at most 100000');
  });
});
