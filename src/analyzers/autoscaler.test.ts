import { describe, expect, it } from 'vitest';
import { HPA, planHpa, planKeda } from './autoscaler.js';

describe('planHpa', () => {
  const base = { kneePerReplica: () => 100, cpuAtKneePercent: 80, minReplicas: 2, maxReplicas: 10, baseRate: 100, peakRate: 500, rampSec: 200, podStartupSec: 45 };

  it('lowers the target for the ramp during the reaction and for the tolerance', () => {
    const h = planHpa(base);
    // slope = 400 / 200 = 2/s per s; reaction = 15 + 45 = 60 s; per replica 2 × 60 / 2 = 60/s;
    // trigger = 100 − 60 = 40/s = 40% of the knee; target = 0.40 / 1.1 = 36.4%.
    expect(h.targetUtilizationPercent).toBe(36);
    expect(h.cpuRequestMillicores).toBe(800);
    expect(h.minReplicas).toBe(2);
    expect(h.arithmetic.join('\n')).toContain('= 60 s');
    // 2/s per s × 15 s / (100/s × 36.4%) = 0.82 → 1 pod per 15 s.
    expect(h.scaleUpPodsPer15s).toBe(1);
  });

  it('with no ramp the target is the knee less the tolerance', () => {
    const h = planHpa({ ...base, peakRate: 100 });
    expect(h.targetUtilizationPercent).toBe(Math.floor(100 / (1 + HPA.tolerance)));
  });

  it('raises minReplicas when the surge is too steep to chase', () => {
    const h = planHpa({ ...base, rampSec: 20 });
    // slope 20/s per s × 60 s = 1200/s spread over m replicas must leave >= 30% × 1.1 of 100/s: m >= 18 > max, so it stops at max.
    expect(h.minReplicas).toBe(10);
    expect(h.warnings.join()).toMatch(/too steep/);
    expect(h.warnings.join()).toMatch(/maxReplicas from the start/);
  });

  it('takes the per-replica knee the model gives at the replicas running', () => {
    // With 4 replicas each sustains 80/s (contention), not 100/s: the same ramp leaves less room.
    const h = planHpa({ ...base, minReplicas: 4, kneePerReplica: (m) => (m >= 4 ? 80 : 100) });
    // 2 × 60 / 4 = 30/s; (80 − 30) / 80 / 1.1 = 56.8%.
    expect(h.targetUtilizationPercent).toBe(56);
  });

  it('sets no CPU figures without a CPU measurement', () => {
    const h = planHpa({ ...base, cpuAtKneePercent: null });
    expect(h.targetUtilizationPercent).toBeNull();
    expect(h.warnings.join()).toMatch(/no CPU/);
  });
});

describe('planKeda', () => {
  it('backlog per replica = acceptable wait / time per job', () => {
    const k = planKeda({ secondsPerJob: 0.05, acceptableWaitSec: 30, peakJobRate: 90, headroom: 0.25 });
    expect(k.listLengthPerReplica).toBe(600);
    // 90 jobs/s × 0.05 s × 1.25 = 5.6 → 6 consumers.
    expect(k.replicas).toBe(6);
  });

  it('says the time per job is unknown instead of guessing', () => {
    const k = planKeda({ secondsPerJob: null, acceptableWaitSec: 30, peakJobRate: 90, headroom: 0.25 });
    expect(k.listLengthPerReplica).toBeNull();
    expect(k.warnings[0]).toMatch(/--job-time/);
  });
});
