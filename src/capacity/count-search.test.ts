import { describe, expect, it } from 'vitest';
import { CountSearch, type MeasureStep } from './count-search.js';
import type { StepPurpose } from './knee-search.js';
import type { StepTelemetry, StepVerdict } from './step-verdict.js';
import { tailEvidence } from './tail-evidence.js';

const noTelemetry: StepTelemetry = {
  cpuPerReplicaPercent: null, cacheHitRatio: null, queueDepthSlope: null, queueDepthMax: null, queueDepthFinal: null, drainTimeSec: null, jobsPerSec: null, jobsCompleted: null,
};

/** A step with `share` of 1000 answers slower than 100 ms, judged against p99 < 100ms. */
function step(rate: number, purpose: StepPurpose, share: number, opts: { achieved?: number; saturated?: boolean } = {}): StepVerdict {
  const e = tailEvidence('p99<100ms', 0.01, 1000, Math.round(share * 1000));
  const achieved = opts.achieved ?? 1;
  const fail = e.verdict === 'fail' || achieved < 0.92;
  return {
    rate, purpose, verdict: fail ? 'fail' : e.verdict, passed: !fail && e.observed <= 0.01, reasons: fail ? ['p99<100ms'] : [], evidence: [e],
    measuredSec: 10, windows: 1, elapsedSec: 12, achievedRatio: achieved, rps: rate, requestsPerIteration: 1, latencyMs: { p50: 5, p95: 20, p99: 90 },
    errorRate: 0, dropped: 0, thresholds: [], generatorSaturated: opts.saturated ?? false, telemetry: noTelemetry,
  };
}

async function measureWith(measure: MeasureStep, startRate = 40): Promise<ReturnType<CountSearch['result']>> {
  const search = new CountSearch(2, { startRate, maxRate: 10_000 });
  await search.run(measure, () => undefined, () => undefined);
  return search.result();
}

describe('CountSearch', () => {
  it('finds the knee of a queue and records every step with its purpose and the time spent', async () => {
    const r = await measureWith(async (rate, purpose) => step(rate, purpose, rate <= 300 ? 0 : Math.min(0.9, (rate - 300) / 100), { achieved: rate <= 300 ? 1 : 300 / rate }));
    expect(r.knee).toBeGreaterThanOrEqual(300 / 1.05);
    expect(r.knee).toBeLessThanOrEqual(300);
    expect(r).toMatchObject({ outcome: 'converged', kneeConfidence: 'settled', diagnosis: null, generatorLimited: false });
    expect(r.steps[r.kneeStep!]!.rate).toBe(r.knee);
    expect(r.elapsedSec).toBe(12 * r.steps.length);
  });

  it('says in words when stalls, not load, set the tail', async () => {
    const r = await measureWith(async (rate, purpose) => step(rate, purpose, 0.05));
    expect(r.outcome).toBe('loadIndependent');
    expect(r.knee).toBeNull();
    expect(r.diagnosis).toBe('p99<100ms failed at every rate from 10 to 40 it/s with 2 replicas; the slow answers do not grow with load ' +
      '(5% past the limit at 10 it/s, 5% at 40 it/s): stalls, not load, set the tail; look for pauses such as GC, cold caches or a noisy neighbour');
  });

  it('marks the knee a lower bound when the failure above it was the generator\'s', async () => {
    const r = await measureWith(async (rate, purpose) => step(rate, purpose, rate <= 320 ? 0 : 0.02, { saturated: rate > 320, achieved: rate <= 320 ? 1 : 0.5 }));
    expect(r).toMatchObject({ outcome: 'generatorLimited', generatorLimited: true });
    expect(r.warnings.join()).toMatch(/the generator, not the target, was the limit/);
  });

  it('does not blame the generator when the target failed at the same rate on its own', async () => {
    let n = 0;
    const r = await measureWith(async (rate, purpose) => step(rate, purpose, rate <= 320 ? 0 : 0.5, { saturated: rate > 320 && n++ % 2 === 0, achieved: rate <= 320 ? 1 : 0.5 }));
    const atHigh = r.steps.filter((s) => s.rate === r.firstFailure);
    if (atHigh.some((s) => !s.generatorSaturated)) expect(r.generatorLimited).toBe(false);
  });

  it('keeps the first measurement when measuring again is interrupted', async () => {
    const search = new CountSearch(2, { startRate: 40, maxRate: 10_000 });
    const queue = async (rate: number, purpose: StepPurpose): Promise<StepVerdict> => step(rate, purpose, rate <= 300 ? 0 : 0.5, { achieved: rate <= 300 ? 1 : 0.5 });
    await search.run(queue, () => undefined, () => undefined);
    const first = search.result();
    expect(search.reopen()).toBe(true);
    await search.run(async () => undefined, () => undefined, () => undefined);
    expect(search.result()).toMatchObject({ knee: first.knee, outcome: 'converged', remeasured: true });
    expect(search.result().warnings.join()).toMatch(/interrupted: the first measurement stands/);
  });

  it('keeps the first measurement when the resize for measuring again fails (nothing measured)', async () => {
    const search = new CountSearch(2, { startRate: 40, maxRate: 10_000 });
    await search.run(async (rate, purpose) => step(rate, purpose, rate <= 300 ? 0 : 0.5, { achieved: rate <= 300 ? 1 : 0.5 }), () => undefined, () => undefined);
    const first = search.result();
    expect(search.reopen()).toBe(true);
    expect(search.result()).toMatchObject({ knee: first.knee, outcome: 'converged' });
  });

  it('keeps what was measured when stopped, as interrupted', async () => {
    let n = 0;
    const r = await measureWith(async (rate, purpose) => (++n > 2 ? undefined : step(rate, purpose, 0)));
    expect(r).toMatchObject({ outcome: 'interrupted', knee: 80 });
    expect(r.steps).toHaveLength(2);
  });
});
