import { describe, expect, it } from 'vitest';
import { measuredSecondsPerJob, planCapacity, type ReplicaCountResult } from './capacity-plan.js';
import type { StepTelemetry, StepVerdict } from './step-verdict.js';

const noTelemetry: StepTelemetry = {
  cpuPerReplicaPercent: null, cacheHitRatio: null, queueDepthSlope: null, queueDepthMax: null, queueDepthFinal: null, drainTimeSec: null, jobsPerSec: null, jobsCompleted: null,
};

function step(rate: number, passed: boolean, telemetry: Partial<StepTelemetry> = {}): StepVerdict {
  return {
    rate, passed, reasons: passed ? [] : ['p99<100ms (actual 300ms)'], achievedRatio: 1, rps: rate * 2, requestsPerIteration: 2,
    latencyMs: { p50: 5, p95: 10, p99: 20 }, errorRate: 0, dropped: 0, thresholds: [], generatorSaturated: false, telemetry: { ...noTelemetry, ...telemetry },
  };
}

function count(replicas: number, knee: number | null, steps: StepVerdict[], outcome: ReplicaCountResult['outcome'] = 'converged', atKnee: Partial<StepTelemetry> = {}): ReplicaCountResult {
  return {
    replicas, knee, kneeStep: null, kneeRps: knee === null ? null : knee * 2, firstFailure: null, outcome, generatorLimited: false,
    atKnee: { ...noTelemetry, ...atKnee }, steps, warnings: [],
  };
}

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

  it('is null when no drain was long enough to say anything', () => {
    expect(measuredSecondsPerJob([count(1, 50, [step(50, true, { queueDepthFinal: 6, drainTimeSec: 1 })])])).toBeNull();
  });
});

describe('planCapacity', () => {
  it('leaves interrupted counts out of the model', () => {
    const plan = planCapacity([count(1, 100, [step(100, true)]), count(2, 100, [step(100, true)], 'interrupted')], settings, 15);
    expect(plan.model!.kind).toBe('linear');
    expect(plan.model!.points).toEqual([{ replicas: 1, throughput: 100 }]);
  });

  it('sizes the queue consumers from jobs per iteration in steps that made jobs', () => {
    const counts = [count(1, 100, [
      step(50, true, { jobsCompleted: 75 }), // 75 jobs / (50/s × 15 s) = 0.1 per iteration
      step(100, true, { jobsCompleted: 0 }), // sold out: left out
    ], 'converged', { cpuPerReplicaPercent: 50 })];
    const plan = planCapacity(counts, { ...settings, jobTimeSec: 0.05 }, 15);
    // 100 it/s × 0.1 = 10 jobs/s × 0.05 s × 1.25 = 0.625 → 1 consumer; 30 s / 50 ms = 600 per replica.
    expect(plan.keda).toMatchObject({ jobsPerIteration: 0.1, secondsPerJob: 0.05, source: '--job-time', replicas: 1, listLengthPerReplica: 600 });
  });

  it('says the consumers were not sized when no passing step made jobs', () => {
    const plan = planCapacity([count(1, 100, [step(100, true, { jobsCompleted: 0 })])], settings, 15);
    expect(plan.keda).toBeNull();
    expect(plan.warnings.join()).toMatch(/not sized/);
  });

  it('with nothing measured, says so', () => {
    const plan = planCapacity([count(1, null, [step(10, false)], 'nothingPassed')], settings, 15);
    expect(plan).toMatchObject({ model: null, replicas: null });
    expect(plan.warnings[0]).toMatch(/nothing to model/);
  });
});
