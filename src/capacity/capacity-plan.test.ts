import { describe, expect, it } from 'vitest';
import { checkAgainstMeasured, measuredSecondsPerJob, planCapacity, type ReplicaCountResult } from './capacity-plan.js';
import type { StepTelemetry, StepVerdict } from './step-verdict.js';

const noTelemetry: StepTelemetry = {
  cpuPerReplicaPercent: null, cacheHitRatio: null, queueDepthSlope: null, queueDepthMax: null, queueDepthFinal: null, drainTimeSec: null, jobsPerSec: null, jobsCompleted: null,
};

function step(rate: number, passed: boolean, telemetry: Partial<StepTelemetry> = {}): StepVerdict {
  return {
    rate, passed, purpose: 'probe', verdict: passed ? 'pass' : 'fail', evidence: [], measuredSec: 15, windows: 1, elapsedSec: 20,
    reasons: passed ? [] : ['p99<100ms (actual 300ms)'], achievedRatio: 1, rps: rate * 2, requestsPerIteration: 2,
    latencyMs: { p50: 5, p95: 10, p99: 20 }, errorRate: 0, dropped: 0, thresholds: [], generatorSaturated: false, telemetry: { ...noTelemetry, ...telemetry },
  };
}

function count(replicas: number, knee: number | null, steps: StepVerdict[], outcome: ReplicaCountResult['outcome'] = 'converged', atKnee: Partial<StepTelemetry> = {}, firstFailure: number | null = null): ReplicaCountResult {
  return {
    replicas, knee, kneeStep: null, kneeRps: knee === null ? null : knee * 2, firstFailure, kneeConfidence: 'settled', outcome, generatorLimited: false,
    contradictions: [], remeasured: false, diagnosis: outcome === 'loadIndependent' ? 'p99<100ms failed at every rate from 5 to 40 it/s; stalls' : null,
    atKnee: { ...noTelemetry, ...atKnee }, steps, elapsedSec: 100, warnings: [],
  };
}
/** A count whose knee lies in [knee, 1.05 knee). */
const at = (replicas: number, knee: number, cpu = 50): ReplicaCountResult => count(replicas, knee, [step(knee, true), step(knee * 1.05, false)], 'converged', { cpuPerReplicaPercent: cpu }, knee * 1.05);

const settings = { baseRate: 20, peakRate: 100, headroom: 0.25, rampSec: 60, podStartupSec: 30, queueWaitSec: 30 };

describe('measuredSecondsPerJob', () => {
  it('takes replicas × drain ÷ backlog from long drains only, median over steps', () => {
    const counts = [
      count(1, 50, [step(50, true, { queueDepthFinal: 100, drainTimeSec: 10 }), step(100, false, { queueDepthFinal: 10, drainTimeSec: 1 })]),
      count(2, 90, [step(90, true, { queueDepthFinal: 200, drainTimeSec: 6 }), step(180, false, { queueDepthFinal: 400, drainTimeSec: 16 })]),
    ];
    // 1 × 10 / 100 = 0.1; 2 × 6 / 200 = 0.06; 2 × 16 / 400 = 0.08; the short drain of 10 jobs is left out.
    expect(measuredSecondsPerJob(counts)).toBeCloseTo(0.08, 10);
  });

  it('counts the consumer replicas that ran, not the web replicas, when they are given', () => {
    // 2 web replicas, 1 consumer process: 1 × 6 / 200 = 0.03 s per job (2 × 6 / 200 = 0.06 would double it).
    const counts = [count(2, 90, [step(90, true, { queueDepthFinal: 200, drainTimeSec: 6 })])];
    expect(measuredSecondsPerJob(counts, 1)).toBeCloseTo(0.03, 10);
    expect(measuredSecondsPerJob(counts)).toBeCloseTo(0.06, 10);
  });

  it('is null when no drain was long enough to say anything', () => {
    expect(measuredSecondsPerJob([count(1, 50, [step(50, true, { queueDepthFinal: 6, drainTimeSec: 1 })])])).toBeNull();
  });
});

describe('planCapacity', () => {
  it('leaves interrupted counts out of the model', () => {
    const plan = planCapacity([count(1, 100, [step(100, true)]), count(2, 100, [step(100, true)], 'interrupted')], settings);
    expect(plan.model!.kind).toBe('linear');
    expect(plan.model!.points).toEqual([{ replicas: 1, throughput: 100 }]);
  });

  it('sizes the queue consumers from jobs per iteration in steps that made jobs', () => {
    const counts = [count(1, 100, [
      step(50, true, { jobsCompleted: 75 }), // 75 jobs / (50/s × 15 s measured) = 0.1 per iteration
      step(100, true, { jobsCompleted: 0 }), // sold out: left out
    ], 'converged', { cpuPerReplicaPercent: 50 })];
    const plan = planCapacity(counts, { ...settings, jobTimeSec: 0.05 });
    // 100 it/s × 0.1 = 10 jobs/s × 0.05 s × 1.25 = 0.625 → 1 consumer; 30 s / 50 ms = 600 per replica.
    expect(plan.keda).toMatchObject({ jobsPerIteration: 0.1, secondsPerJob: 0.05, source: '--job-time', replicas: 1, listLengthPerReplica: 600 });
  });

  it('says the consumers were not sized when no passing step made jobs', () => {
    const plan = planCapacity([count(1, 100, [step(100, true, { jobsCompleted: 0 })])], settings);
    expect(plan.keda).toBeNull();
    expect(plan.warnings.join()).toMatch(/not sized/);
  });

  it('with nothing passing anywhere, is infeasible and says what failed', () => {
    const plan = planCapacity([count(1, null, [step(10, false)], 'nothingPassed')], settings);
    expect(plan).toMatchObject({ verdict: 'infeasible', model: null, replicas: null, hpa: null });
    expect(plan.reasons[0]).toMatch(/nothing passed with 1 replica/);
  });

  it('when stalls set the tail at any count, is infeasible with the diagnosis, even if another count passed', () => {
    const plan = planCapacity([count(1, null, [step(5, false)], 'loadIndependent'), at(2, 200)], settings);
    expect(plan).toMatchObject({ verdict: 'infeasible', replicas: null, hpa: null, keda: null });
    expect(plan.reasons[0]).toMatch(/stalls/);
  });

  it('recommends from knees that agree with the model, with the evidence in words', () => {
    const plan = planCapacity([at(1, 60), at(2, 115), at(3, 165)], settings);
    expect(plan.verdict).toBe('recommended');
    expect(plan.replicas!.replicas).toBe(3);
    expect(plan.reasons[0]).toMatch(/^3 replicas for a peak of 100 it\/s with 25% headroom \(125 it\/s; measured: 165 it\/s with 3 replicas\)/);
    expect(plan.hpa).not.toBeNull();
  });

  it('is inconclusive, with no autoscaler settings, when knees are super-linear (the issue\'s 19.4 and 465 it/s)', () => {
    const plan = planCapacity([at(1, 19.4), at(2, 465)], settings);
    expect(plan.verdict).toBe('inconclusive');
    expect(plan.reasons.join()).toMatch(/super-linear/);
    expect(plan.reasons.join()).toMatch(/the model gives .* at 1 replica, where 19.4–20.4 it\/s was measured/);
    expect(plan.remeasure[0]).toMatch(/--replicas 1,2/);
    expect(plan).toMatchObject({ hpa: null, keda: null });
  });

  it('is inconclusive when the fitted model misses a measured knee beyond its bracket and the noise allowance', () => {
    // 4 counts; the third knee is far off any smooth curve through the others.
    const plan = planCapacity([at(1, 100), at(2, 190), at(3, 150), at(4, 340)], settings);
    expect(plan.verdict).toBe('inconclusive');
    expect(plan.reasons.join()).toMatch(/the model gives/);
  });

  it('never recommends a count at or below one where nothing passed', () => {
    const plan = planCapacity([count(1, null, [step(10, false)], 'nothingPassed'), at(2, 200), at(3, 300)], { ...settings, peakRate: 40 });
    expect(plan.verdict).toBe('recommended');
    expect(plan.replicas!.replicas).toBe(2);
    expect(plan.warnings.join()).toMatch(/nothing passed with 1 replica/);
  });

  it('lets a measured knee stand where the model tops out below the peak', () => {
    // The USL fit peaks at about 177.5 it/s (X(3) = 176), within 10% of the 190 it/s 3 replicas sustained; 185 it/s required.
    const plan = planCapacity([at(1, 100), at(2, 170), at(3, 190), at(4, 150)], { ...settings, peakRate: 185 / 1.25 });
    expect(plan.model!.peakThroughput!).toBeLessThan(185);
    expect(plan.verdict).toBe('recommended');
    expect(plan.replicas!.replicas).toBe(3);
    expect(plan.replicas!.arithmetic.join()).toMatch(/3 replicas sustained 190 it\/s \(measured\), though the model tops out below 185 it\/s/);
  });

  it('never takes a generator-bound knee below the required rate as support, nor as a refusal', () => {
    const limited = { ...at(2, 100), generatorLimited: true };
    expect(checkAgainstMeasured(2, 125, [at(1, 60), limited], [])).toMatchObject({ contradiction: expect.stringMatching(/the generator could not load 2 replicas past 100 it\/s/) as unknown });
    expect(checkAgainstMeasured(2, 125, [at(1, 60), at(2, 100), at(3, 150)], [])).toMatchObject({ n: 3, note: expect.stringMatching(/raised from 2 to 3/) as unknown });
    expect(checkAgainstMeasured(2, 125, [at(1, 60), at(2, 100)], [])).toMatchObject({ contradiction: expect.stringMatching(/2 sustained only 100 it\/s/) as unknown });
  });

  it('is inconclusive when nothing passes with more replicas than a count that had a knee', () => {
    const plan = planCapacity([at(1, 100), at(2, 190), { ...count(4, null, [step(10, false)], 'nothingPassed'), firstFailure: 10 }], settings);
    expect(plan.verdict).toBe('inconclusive');
    expect(plan.reasons.join()).toMatch(/more replicas did worse: nothing passed with 4 replicas/);
  });

  it('is inconclusive when a search ran out of steps without a knee', () => {
    const plan = planCapacity([at(1, 100), count(2, null, [step(10, false)], 'stepLimit')], settings);
    expect(plan.verdict).toBe('inconclusive');
    expect(plan.reasons[0]).toMatch(/2 replicas ended without a knee \(stepLimit\)/);
  });

  it('predicts the surge with the recommended settings, the plan\'s own surge by default', () => {
    const plan = planCapacity([at(1, 60), at(2, 115), at(3, 165)], settings);
    const surge = plan.surge!;
    expect(surge.applies).toBe(true);
    expect(surge.profile).toBe('plan');
    // Built from the plan: 30 s at the base 20 it/s, 60 s of ramp to 100, then the peak for 2 × (15 + 30) = 90 s.
    expect(surge.seconds).toHaveLength(30 + 60 + 90);
    expect(surge.settings.web).toMatchObject({ minReplicas: plan.hpa!.minReplicas, maxReplicas: 3, targetUtilization: plan.hpa!.targetUtilizationPercent! / 100 });
    // CPU 50% of a core at the knee: request 500m, so at most 1000 / 500 = 200% of it.
    expect(surge.settings.web.utilizationCap).toBe(2);
    expect(surge.settings.autoscaler).toMatchObject({ syncSec: 15, podStartupSec: 30, source: 'kubernetes defaults' });
    expect(surge.sentence.length).toBeGreaterThan(0);
    expect(plan.surge!.seconds.every((x) => x.web.ready >= plan.hpa!.minReplicas)).toBe(true);
  });

  it('simulates the scenario\'s phases when given, and says when CPU was not measured', () => {
    const phases = [{ kind: 'open' as const, durationSec: 10, fromRate: 20, toRate: 20 }, { kind: 'open' as const, durationSec: 20, fromRate: 20, toRate: 100 }];
    const plan = planCapacity([at(1, 60, 0), at(2, 115, 0), at(3, 165, 0)], { ...settings, surge: { profile: 'scenario', phases } });
    expect(plan.hpa!.targetUtilizationPercent).toBeNull();
    expect(plan.surge!.seconds).toHaveLength(30);
    expect(plan.surge!.settings.web.targetUtilization).toBe(plan.hpa!.kneeTargetPercent! / 100);
    expect(plan.surge!.notes.join()).toMatch(/CPU was not measured: simulated with the plan's target of \d+% of what a replica uses at its knee/);
  });

  it('has no surge prediction without a recommendation', () => {
    expect(planCapacity([at(1, 100), at(2, 100)], { ...settings, peakRate: 500 }).surge).toBeNull();
  });

  it('is infeasible when the model cannot reach the peak', () => {
    // Flat: 100 it/s at 1 and at 2 replicas.
    const plan = planCapacity([at(1, 100), at(2, 100)], { ...settings, peakRate: 500 });
    expect(plan.verdict).toBe('infeasible');
    expect(plan.reasons[0]).toMatch(/no replica count serves the peak/);
  });
});
