import { describe, expect, it } from 'vitest';
import { runScenario } from './helpers/cli.js';
import { useTestServer } from './helpers/test-server.js';

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
    expect(result.errorSamples.body_too_large).toBe('response body over 1000 bytes, kept for a capture (defaults.captureBodyLimit)');
  });
});
