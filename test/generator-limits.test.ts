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
});
