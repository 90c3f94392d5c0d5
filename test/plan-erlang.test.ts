import { describe, expect, it } from 'vitest';
import { planErlangCommand, type PlanErlangOptions } from '../src/commands/plan-erlang.js';
import { ExitCode, UserError } from '../src/exit-codes.js';

async function plan(opts: PlanErlangOptions): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await planErlangCommand(opts, {
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    env: {},
    cwd: process.cwd(),
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

/** The usage error a call throws (exit 2), or fails the test. */
async function usage(opts: PlanErlangOptions): Promise<string> {
  const err = await plan(opts).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(UserError);
  expect((err as UserError).exitCode).toBe(ExitCode.usage);
  expect((err as UserError).message).not.toContain('\n');
  return (err as UserError).message;
}

// Call Centre Helper's worked example (https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm):
// 100 calls per 30 minutes (0.0556/s), 180 s handling, 80% answered within 20 s → 14 agents.
// Exact figures as published by rodrigo-arenas/pyworkforce docs/guide/erlangc.md for the same
// example: service_level 0.8883500191794669, waiting_probability 0.1741319335950498, occupancy 0.714.
const published = { arrivalRate: '0.0556', serviceTime: '180s', targetWait: '20s', serviceLevel: '80%' };

describe('scalectl plan erlang', () => {
  it('sizes the published call-centre example: 14 servers', async () => {
    const r = await plan(published);
    expect(r.code).toBe(ExitCode.ok);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^servers needed: +14$/m);
    expect(r.stdout).toMatch(/^offered load: +10\.008 Erlangs$/m);
    expect(r.stdout).toMatch(/^utilization: +71\.5%$/m);
    expect(r.stdout).toMatch(/^service level: +88\.\d% wait at most 20s \(target 80%\)$/m);
    expect(r.stdout).toMatch(/^mean wait: +7\.\d+s$/m);
  });

  it('--json: one object with the published numbers', async () => {
    const r = await plan({ ...published, arrivalRate: String(100 / 1800), serviceTime: '3m', json: true });
    expect(r.code).toBe(ExitCode.ok);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ feasible: true, mode: 'serviceLevel', servers: 14 });
    expect(out.probabilityOfWaiting).toBeCloseTo(0.1741319335950498, 9);
    expect(out.serviceLevel).toBeCloseTo(0.8883500191794669, 9);
    expect(out.utilization).toBeCloseTo(0.714, 3);
    expect(out.offeredLoad).toBeCloseTo(10, 9);
    expect(out.meanWaitSec).toBeCloseTo(0.1741319335950498 * 180 / 4, 9);
    expect(out.inputs).toEqual({ arrivalRate: 100 / 1800, serviceTimeSec: 180, targetWaitSec: 20, serviceLevel: 0.8 });
  });

  it('accepts the spellings of fractions and durations', async () => {
    const json = async (o: PlanErlangOptions) => JSON.parse((await plan({ ...o, json: true })).stdout) as { servers: number; inputs: Record<string, number> };
    const a = await json({ arrivalRate: '0.0556', serviceTime: '180', targetWait: '20000ms', serviceLevel: '0.8' });
    const b = await json(published);
    expect(a).toEqual(b);
    for (const p of ['p99', '99%', '0.99', 'P99']) {
      const r = await json({ arrivalRate: '100', serviceTime: '20ms', latencySlo: '100ms', percentile: p });
      expect(r.inputs).toEqual({ arrivalRate: 100, serviceTimeSec: 0.02, latencySloSec: 0.1, percentile: 0.99 });
    }
    expect((await json({ arrivalRate: '100', serviceTime: '20ms', latencySlo: '200ms', percentile: 'p99.9' })).inputs.percentile).toBeCloseTo(0.999, 12);
  });

  it('latency mode: the fewest servers for p99 response time', async () => {
    const r = await plan({ arrivalRate: '200', serviceTime: '50ms', latencySlo: '300ms', percentile: 'p99' });
    expect(r.code).toBe(ExitCode.ok);
    expect(r.stdout).toMatch(/^servers needed: +1\d$/m);
    expect(r.stdout).toMatch(/^service level: +99\.\d+% respond within 300ms \(target p99 <= 300ms\)$/m);
    const j = JSON.parse((await plan({ arrivalRate: '200', serviceTime: '50ms', latencySlo: '300ms', percentile: 'p99', json: true })).stdout) as Record<string, number>;
    expect(j.serviceLevel).toBeGreaterThanOrEqual(0.99);
    expect(j.offeredLoad).toBeCloseTo(10, 12);
    expect(j.servers).toBeGreaterThan(10);
  });

  it('an unreachable latency SLO exits 4 and says why', async () => {
    const r = await plan({ arrivalRate: '1', serviceTime: '10s', latencySlo: '2s', percentile: 'p99' });
    expect(r.code).toBe(ExitCode.thresholdsFailed);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^scalectl: no number of servers can meet p99 <= 2s: the service time alone has p99 = 46\.05s > 2s.*\n$/);
    expect(r.stderr.split('\n')).toHaveLength(2);

    const j = await plan({ arrivalRate: '1', serviceTime: '10s', latencySlo: '2s', percentile: 'p99', json: true });
    expect(j.code).toBe(ExitCode.thresholdsFailed);
    expect(JSON.parse(j.stdout)).toMatchObject({ feasible: false, reason: expect.stringContaining('service time alone has p99 = 46.05s') as unknown });
    expect(j.stderr).toMatch(/^scalectl: no number of servers/);
  });

  it('bad, missing or mixed flags are usage errors (exit 2) that say what is expected', async () => {
    expect(await usage({ arrivalRate: '1', serviceTime: '1s' })).toMatch(/--target-wait .*--latency-slo/);
    expect(await usage({ ...published, latencySlo: '2s', percentile: 'p99' })).toMatch(/not both/);
    expect(await usage({ arrivalRate: '1', serviceTime: '1s', targetWait: '20s' })).toMatch(/--target-wait needs --service-level/);
    expect(await usage({ arrivalRate: '1', serviceTime: '1s', percentile: 'p99' })).toMatch(/--percentile needs --latency-slo/);
    expect(await usage({ ...published, arrivalRate: undefined })).toMatch(/--arrival-rate is required/);
    expect(await usage({ ...published, arrivalRate: 'ten' })).toMatch(/--arrival-rate: expected .* got "ten"/);
    expect(await usage({ ...published, arrivalRate: '0' })).toMatch(/--arrival-rate/);
    expect(await usage({ ...published, serviceTime: undefined })).toMatch(/--service-time is required/);
    expect(await usage({ ...published, serviceTime: '0s' })).toMatch(/--service-time: expected a duration > 0/);
    expect(await usage({ ...published, targetWait: 'soon' })).toMatch(/--target-wait: expected a duration .* got "soon"/);
    expect(await usage({ ...published, serviceLevel: '100%' })).toMatch(/--service-level: expected a fraction strictly between 0 and 100%/);
    expect(await usage({ ...published, serviceLevel: '80' })).toMatch(/--service-level: "80" is ambiguous; write 80% \(or 0\.8\)/);
    expect(await usage({ ...published, serviceLevel: 'p80' })).toMatch(/--service-level: expected/);
    expect(await usage({ arrivalRate: '1', serviceTime: '1s', latencySlo: '2s', percentile: '99' })).toMatch(/"99" is ambiguous; write p99 or 99%/);
    expect(await usage({ arrivalRate: '1', serviceTime: '1s', latencySlo: '0', percentile: 'p99' })).toMatch(/--latency-slo: expected a duration > 0/);
    expect(await usage({ arrivalRate: '1e9', serviceTime: '1m', targetWait: '1s', serviceLevel: '80%' })).toMatch(/at most 10000000 are supported/);
  });

  it('target wait 0 means "answered at once": the service level is 1 − P(wait)', async () => {
    const j = JSON.parse((await plan({ arrivalRate: '0.0556', serviceTime: '180s', targetWait: '0', serviceLevel: '80%', json: true })).stdout) as Record<string, number>;
    expect(j.serviceLevel).toBeCloseTo(1 - j.probabilityOfWaiting!, 12);
    expect(j.probabilityOfWaiting).toBeLessThanOrEqual(0.2);
  });
});
