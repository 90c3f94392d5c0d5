import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/exit-codes.js';
import { runScenario } from './helpers/cli.js';
import { useTestServer } from './helpers/test-server.js';

const server = useTestServer();
const run = runScenario;

describe('open-model accuracy against a real server', () => {
  it('/delay/50 at 100 arrivals/s for 3 s: p50 in [50, 55] ms and every request counted', async () => {
    const { result } = await run(`
name: delay50
target: ${server.url}
phases: [{ duration: 3s, arrivalRate: 100 }]
flows: [{ name: d, steps: [{ get: /delay/50 }] }]
`);
    const seen = await server.stats();
    expect(result.totals.requests).toBe(300);
    expect(result.totals.requests).toBe(seen.count);
    expect(result.totals.errors).toBe(0);
    expect(result.totals.latencyMs.p50).toBeGreaterThanOrEqual(50);
    expect(result.totals.latencyMs.p50).toBeLessThanOrEqual(55);
  });

  it('a 1 s server stall at 100 arrivals/s shows up in p99 (no coordinated omission)', async () => {
    // Arrivals are every 10 ms for 3 s. Those scheduled during the stall
    // [~1 s, ~2 s) all complete when it ends, so their latencies spread
    // evenly over 0..1000 ms: about 100 of 300 requests. p99 is then the 297th
    // of 300, about 970 ms. A closed loop would have sent one request and waited.
    await server.armStall(1000, 1000);
    const { result } = await run(`
name: stall
target: ${server.url}
phases: [{ duration: 3s, arrivalRate: 100 }]
flows: [{ name: s, steps: [{ get: /delay/0 }] }]
`);
    expect(result.totals.requests).toBe(300);
    expect(result.totals.latencyMs.p99).toBeGreaterThan(850);
    expect(result.totals.latencyMs.p99).toBeLessThan(1150);
    // About a third of the requests were caught by the stall.
    const slow = result.totals.latencyMs.p50;
    expect(slow).toBeLessThan(50);
    expect(result.totals.latencyMs.p90).toBeGreaterThan(500);
  });

  it('the closed model, by contrast, reports the stall as one slow request (few-ms p99)', async () => {
    await server.armStall(1000, 1000);
    const { result } = await run(`
name: stall-closed
target: ${server.url}
phases: [{ duration: 3s, vus: 1 }]
flows: [{ name: s, steps: [{ get: /delay/1 }] }]
`);
    expect(result.totals.requests).toBeGreaterThan(200);
    expect(result.totals.latencyMs.max).toBeGreaterThan(900);
    expect(result.totals.latencyMs.p99).toBeLessThan(50);
  });

  it('achieved arrivals follow a ramp schedule within 1%', async () => {
    // 50/s rising to 250/s over 4 s: A(4) = 50*4 + (250-50)*4/2 = 600 arrivals.
    const { result } = await run(`
name: ramp
target: ${server.url}
phases: [{ duration: 4s, arrivalRate: 50, rampTo: 250 }]
flows: [{ name: r, steps: [{ get: /delay/1 }] }]
`);
    const it = result.totals.iterations;
    expect(it.dropped).toBe(0);
    expect(Math.abs(it.started - 600) / 600).toBeLessThanOrEqual(0.01);
    expect((await server.stats()).count).toBe(it.started);
    // Offered per second rises with the ramp: 75, 125, 175, 225 at the midpoints.
    const offered = result.timeseries.slice(0, 4).map((p) => p.offeredRps);
    for (let i = 0; i < 4; i++) expect(Math.abs(offered[i]! - (75 + 50 * i))).toBeLessThanOrEqual(10);
  });

  it('drops (and counts) iterations over the in-flight cap instead of delaying them', async () => {
    const { result, code } = await run(`
name: cap
target: ${server.url}
maxInFlight: 5
phases: [{ duration: 2s, arrivalRate: 50 }]
flows: [{ name: slow, steps: [{ get: /delay/500 }] }]
`);
    // More than 1% of the arrivals dropped fails the run (the default dropped_rate threshold).
    expect(code).toBe(ExitCode.thresholdsFailed);
    const it = result.totals.iterations;
    // 5 in flight, each 500 ms: about 10 per second start; the other ~40/s drop.
    expect(it.offered).toBe(100);
    expect(it.started + it.dropped).toBe(100);
    expect(it.dropped).toBeGreaterThan(60);
    expect(result.totals.droppedIterations).toBe(it.dropped);
    expect(result.generator.warnings.join('\n')).toMatch(/iterations dropped/);
  });

  it('keeps to the connection cap; requests that wait for a connection have the wait in their latency, and it is reported', async () => {
    // 50/s of 100 ms requests need ~5 connections; with 2, requests queue.
    const { result } = await run(`
name: conn-cap
target: ${server.url}
defaults: { connections: 2 }
phases: [{ duration: 2s, arrivalRate: 50 }]
flows: [{ name: c, steps: [{ get: /delay/100 }] }]
`);
    const seen = await server.stats();
    // The probe before the run opens one connection of its own.
    expect(seen.connections).toBeLessThanOrEqual(3);
    expect(result.generator.connections).toBe(2);
    expect(result.generator.connectionWaitSeconds).toBeGreaterThanOrEqual(1);
    // 2 connections serve ~20/s of the 50/s: the queue grows, and so does latency, from the schedule.
    expect(result.totals.latencyMs.p99).toBeGreaterThan(500);
    expect(result.timeseries.some((p) => p.generator.connectionQueue > 0)).toBe(true);
  });

  it('opens as many connections as the load needs by default (far below the cap of 256)', async () => {
    const { result } = await run(`
name: conn-default
target: ${server.url}
phases: [{ duration: 2s, arrivalRate: 50 }]
flows: [{ name: c, steps: [{ get: /delay/100 }] }]
`);
    const seen = await server.stats();
    expect(result.generator.connections).toBe(256);
    expect(result.generator.connectionWaitSeconds).toBe(0);
    expect(seen.connections).toBeGreaterThanOrEqual(5);
    expect(seen.connections).toBeLessThan(40);
    expect(result.totals.latencyMs.p99).toBeLessThan(200);
  });
});
