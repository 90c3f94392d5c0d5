import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/exit-codes.js';
import { runScenario } from './helpers/cli.js';
import { useTestServer } from './helpers/test-server.js';

const server = useTestServer();

describe('ending and stopping runs', () => {
  it('an iteration still thinking when the run ends is interrupted, not completed', async () => {
    const { result } = await runScenario(`
name: think-past-end
target: ${server.url}
defaults: { timeout: 1s }
phases: [{ duration: 1s, arrivalRate: 3 }]
flows: [{ name: f, steps: [{ name: first, get: /delay/0 }, { think: 1h }, { name: second, get: /delay/0 }] }]
`);
    expect(result.flows[0]).toMatchObject({ started: 3, completed: 0, failed: 0, interrupted: 3 });
    expect(result.endpoints.find((e) => e.name === 'second')!.requests).toBe(0);
    expect(result.totals.errors).toBe(0);
  });

  it('a stop before the run starts (Ctrl-C while probing) ends it at once, with results', async () => {
    const ac = new AbortController();
    ac.abort();
    const started = performance.now();
    const { code, result } = await runScenario(`
name: pre-stopped
target: ${server.url}
phases: [{ duration: 30s, arrivalRate: 10 }]
flows: [{ name: f, steps: [{ get: /delay/0 }] }]
`, { signal: ac.signal });
    expect(code).toBe(ExitCode.aborted);
    expect(result.aborted).toBe(true);
    expect(result.totals.requests).toBe(0);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('a stop at a low arrival rate does not wait for the next arrival', async () => {
    const ac = new AbortController();
    const started = performance.now();
    // One arrival at t = 0, the next 5 s later: the stop at 0.5 s must not wait for it.
    setTimeout(() => ac.abort(), 500);
    const { code, result } = await runScenario(`
name: slow-rate
target: ${server.url}
phases: [{ duration: 60s, arrivalRate: 0.2 }]
flows: [{ name: f, steps: [{ get: /delay/0 }] }]
`, { signal: ac.signal });
    expect(code).toBe(ExitCode.aborted);
    expect(result.totals.requests).toBe(1);
    expect(performance.now() - started).toBeLessThan(4000);
  });

  it('a closed-model template that fails at run time fails iterations without starving the event loop', async () => {
    const { result } = await runScenario(`
name: bad-template
target: ${server.url}
variables: { lo: x }
phases: [{ duration: 2s, vus: 1 }]
flows: [{ name: f, steps: [{ get: "/a/{{ randomInt(lo, 5) }}" }] }]
`);
    // Nothing was sent, so nothing counts as a request...
    expect(result.totals.requests).toBe(0);
    expect((await server.stats()).count).toBe(0);
    expect(result.flows[0]!.failed).toBeGreaterThan(0);
    expect(result.errorSamples.template).toMatch(/randomInt min: expected a number, got "x"/);
    // ...and the per-second windows kept closing (timers ran during the loop).
    expect(result.timeseries.length).toBeGreaterThanOrEqual(2);
  });

  it('rates are per second of load, not diluted by the drain', async () => {
    const { result } = await runScenario(`
name: drain
target: ${server.url}
phases: [{ duration: 1s, arrivalRate: 10 }]
flows: [{ name: f, steps: [{ get: /delay/1500 }] }]
thresholds: ["rps >= 9"]
`);
    expect(result.durationSec).toBeGreaterThan(2.3);
    expect(result.loadDurationSec).toBeCloseTo(1, 1);
    expect(result.totals.rps).toBeGreaterThanOrEqual(9);
    expect(result.passed).toBe(true);
  });
});
