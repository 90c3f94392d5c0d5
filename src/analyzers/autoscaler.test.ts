import { describe, expect, it } from 'vitest';
import { planHpa, planKeda } from './autoscaler.js';
import { HPA_DEFAULTS } from '../stack/contract.js';

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
    expect(h.feasible).toBe(true);
    expect(h.advice).toBe('set the CPU request to 800m and the HPA\'s target averageUtilization to 36% (minReplicas 2, maxReplicas 10): scale-up then starts in time for the surge');
  });

  it('takes the sync period and the tolerance it is given (the reference stack\'s knobs)', () => {
    const h = planHpa({ ...base, syncSec: 5, tolerance: 0.2 });
    // reaction = 5 + 45 = 50 s; per replica 2 × 50 / 2 = 50/s; trigger = 100 − 50 = 50/s; target = 0.5 / 1.2 = 41.7%.
    expect(h.targetUtilizationPercent).toBe(41);
    expect(h.kneeTargetPercent).toBe(41);
    expect(h.arithmetic.join('\n')).toContain('reaction = HPA sync 5 s + pod start-up 45 s = 50 s');
    expect(h.arithmetic.join('\n')).toContain('(1 + tolerance 0.2)');
  });

  it('with no ramp the target is the knee less the tolerance', () => {
    const h = planHpa({ ...base, peakRate: 100 });
    expect(h.targetUtilizationPercent).toBe(Math.floor(100 / (1 + HPA_DEFAULTS.tolerance)));
  });

  it('raises minReplicas when the target at the floor is under 30%, and says to pre-scale', () => {
    const h = planHpa({ ...base, rampSec: 100 });
    // slope 4/s per s × 60 s = 240/s: at 2 replicas 120/s > the knee; at 4, 60/s leaves (100 − 60) / 100 / 1.1 = 36.4%.
    expect(h.minReplicas).toBe(4);
    expect(h.feasible).toBe(true);
    expect(h.pinned).toBe(false);
    expect(h.targetUtilizationPercent).toBe(36);
    expect(h.warnings.join()).toMatch(/too steep.*from 2 replicas: raise minReplicas to 4 before the sale \(pre-scale to 4 replicas\)/);
    expect(h.advice).toMatch(/averageUtilization to 36%/);
  });

  it('never shows a negative load or target in the arithmetic, however steep the surge', () => {
    // A minus sign glued to a digit ("= -30/s", "-150%"); subtraction is written " − " with spaces.
    const negative = /[-−]\d|=\s*[-−]/;
    for (const rampSec of [1, 5, 20, 60, 100, 200]) {
      for (const minReplicas of [1, 2, 10]) {
        const h = planHpa({ ...base, rampSec, minReplicas });
        for (const line of [...h.arithmetic, ...h.warnings, h.advice]) expect(line).not.toMatch(negative);
      }
    }
    // The case the issue quotes: a 20/s knee, 50/s gained per replica during a 45 s reaction.
    const steep = planHpa({ kneePerReplica: () => 20, cpuAtKneePercent: 50, minReplicas: 1, maxReplicas: 1, baseRate: 0, peakRate: 100, rampSec: 90, podStartupSec: 30 });
    expect(steep.arithmetic.join('\n')).not.toMatch(negative);
    expect(steep.arithmetic.join('\n')).toMatch(/gain 50\/s is at or past the knee 20\/s/);
  });

  it('gives no target when even maxReplicas cannot react in time, and says to pre-scale', () => {
    const h = planHpa({ ...base, rampSec: 20 });
    // slope 20/s per s × 60 s = 1200/s: at 10 replicas 120/s each, past the 100/s knee.
    expect(h.feasible).toBe(false);
    expect(h.targetUtilizationPercent).toBeNull();
    expect(h.kneeTargetPercent).toBeNull();
    expect(h.cpuRequestMillicores).toBe(800);
    expect(h.minReplicas).toBe(10);
    expect(h.advice).toMatch(/adds 120\/s per replica during the HPA's 60 s reaction \(sync 15 s \+ pod start-up 45 s\), more than a replica's knee \(100\/s\)/);
    expect(h.advice).toMatch(/pre-scale to 10 replicas before the sale \(pin minReplicas = maxReplicas = 10\)/);
    // (1 − 0.33) × 100/s × 10 / 20 = 33.5 s of reaction, less the 15 s sync.
    expect(h.advice).toMatch(/shorten pod start-up to under 18 s/);
    expect(h.warnings).toContain(h.advice);
    expect(h.warnings.join()).not.toMatch(/30%|maxReplicas from the start/);
  });

  it('gives no target when it would be under 30% even at maxReplicas', () => {
    // slope 10/s per s × 60 s / 10 = 60/s... at 10 replicas; (100 − 75) / 100 / 1.1 = 22.7% with a 75/s gain.
    const h = planHpa({ ...base, rampSec: 32 });
    expect(h.feasible).toBe(false);
    expect(h.targetUtilizationPercent).toBeNull();
    expect(h.arithmetic.join('\n')).toMatch(/= 22\.7% of the knee's CPU, under the 30%/);
    expect(h.advice).toMatch(/the CPU target would have to be 22\.7%.*pre-scale to 10 replicas/);
  });

  it('says when minReplicas = maxReplicas pins the count', () => {
    const h = planHpa({ ...base, minReplicas: 3, maxReplicas: 3 });
    expect(h.pinned).toBe(true);
    expect(h.feasible).toBe(true);
    expect(h.warnings).toContain('minReplicas = maxReplicas = 3: this HPA never scales, it pins the Deployment at 3 replicas');
    expect(planHpa(base).pinned).toBe(false);
    expect(planHpa(base).warnings.join()).not.toMatch(/pins/);
  });

  it('warns when only one replica count was measured, and suggests counts around maxReplicas', () => {
    const one = planHpa({ ...base, measuredCounts: [4, 4] });
    expect(one.warnings).toContain("only one replica count was measured (4): the knee per replica at other counts is extrapolated, so the HPA's settings are a guess; measure 2 or more counts around the recommendation (e.g. --replicas 5,10,15)");
    expect(planHpa({ ...base, maxReplicas: 1, minReplicas: 1, measuredCounts: [1] }).warnings.join()).toMatch(/--replicas 1,2,3\)/);
    expect(planHpa({ ...base, measuredCounts: [2, 4] }).warnings.join()).not.toMatch(/extrapolated/);
    expect(planHpa(base).warnings.join()).not.toMatch(/extrapolated/);
  });

  it('takes the per-replica knee the model gives at the replicas running', () => {
    // With 4 replicas each sustains 80/s (contention), not 100/s: the same ramp leaves less room.
    const h = planHpa({ ...base, minReplicas: 4, kneePerReplica: (m) => (m >= 4 ? 80 : 100) });
    // 2 × 60 / 4 = 30/s; (80 − 30) / 80 / 1.1 = 56.8%.
    expect(h.targetUtilizationPercent).toBe(56);
  });

  it('sets no CPU figures without a CPU measurement, but keeps the target as a share of the knee', () => {
    const h = planHpa({ ...base, cpuAtKneePercent: null });
    expect(h.targetUtilizationPercent).toBeNull();
    // The same 36.4% as with CPU measured (first case), as a share of what a replica uses at its knee.
    expect(h.kneeTargetPercent).toBe(36);
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
