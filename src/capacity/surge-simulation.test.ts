import { describe, expect, it } from 'vitest';
import type { AutoscalerSettings } from './autoscaler-settings.js';
import { ratesPerSecond, simulateSurge, type SurgeInput, type SurgePhase } from './surge-simulation.js';
import { ordinal } from './surge-words.js';

/*
 * Every expectation below is worked by hand in the comments. Conventions:
 * second t is [t, t + 1) and carries the mean rate over it (a ramp's value
 * at t + 0.5); syncs (polls) happen at the start of seconds syncSec,
 * 2·syncSec, …; a sync averages each ready replica's CPU over the seconds
 * since the previous one that it was ready for (none: no metric, counted as
 * starting), and the rules take the mean in whole percent, truncated, as
 * Kubernetes does. The knee is 100 it/s per replica at any count and the
 * CPU request is the knee's CPU, so utilization = load per replica / 100.
 */

const autoscaler: AutoscalerSettings = {
  syncSec: 15, tolerance: 0.1, scaleDownWindowSec: 300, scaleUpPods: 4, scaleUpPercent: 100, scaleUpPeriodSec: 15,
  podStartupSec: 20, pollingSec: 30, cooldownSec: 300, source: 'kubernetes defaults',
};

const open = (durationSec: number, fromRate: number, toRate = fromRate): SurgePhase => ({ kind: 'open', durationSec, fromRate, toRate });

function input(phases: SurgePhase[], over: { web?: Partial<SurgeInput['web']>; autoscaler?: Partial<AutoscalerSettings>; consumer?: SurgeInput['consumer'] } = {}): SurgeInput {
  return {
    phases, profile: 'scenario',
    autoscaler: { ...autoscaler, ...over.autoscaler },
    web: { minReplicas: 1, maxReplicas: 4, targetUtilization: 0.8, cpuAtKneeOverRequest: 1, utilizationCap: null, cpuRequestMillicores: 500, ...over.web },
    kneePerReplica: () => 100,
    consumer: over.consumer ?? null,
  };
}

describe('ratesPerSecond', () => {
  it('takes each second at its middle: a ramp 0 → 120 over 120 s offers t + 0.5 in second t; a pause offers nothing', () => {
    const r = ratesPerSecond([open(120, 0, 120), { kind: 'open', durationSec: 2, fromRate: 0, toRate: 0 }, open(1, 7)]);
    expect(r).toHaveLength(123);
    expect(r[0]).toBeCloseTo(0.5, 10);
    expect(r[75]).toBeCloseTo(75.5, 10);
    expect(r.slice(120)).toEqual([0, 0, 7]);
  });
});

describe('simulateSurge', () => {
  it('flat load within the target: no scaling, no breach', () => {
    // 150 it/s over 2 replicas: 75 per replica = 75% CPU against 80%: ratio 0.94, within 1 ± 0.1. 
    const p = simulateSurge(input([open(120, 150)], { web: { minReplicas: 2 } }));
    expect(p.applies).toBe(true);
    expect(p.scaleEvents).toEqual([]);
    expect(p.breaches).toEqual([]);
    expect(p.seconds).toHaveLength(120);
    expect(p.seconds.every((s) => s.web.ready === 2 && s.web.starting === 0 && s.utilization === 0.75)).toBe(true);
    expect(p.advice).toBeNull();
    expect(p.sentence).toBe('no breach expected: the HPA does not scale up (2 replicas throughout), and each replica stays at or under 75% of its knee');
  });

  it('a ramp: the first scale-up at the first sync whose window is past the target, ready after the start-up', () => {
    // rate(t) = t + 0.5 on one replica, target 50%, tolerance 10%: it acts past 55% of the CPU.
    // Second 55 is the first past 55%, but a sync averages its window: sync 60 sees seconds 45..59,
    // mean (52 + 0.5) / 100 = 52.5% → 52%, ratio 1.04: within the tolerance; sync 75 sees 60..74,
    // 67.5% → 67%: ratio 1.34 → ceil(1.34 × 1) = 2, started at 75, ready at 75 + 20 = 95.
    // Sync 90: 1 ready at 82%, 1 starting (counted at 0%): 82.5 / 2 = 41% of the 50% target, under 1: no change.
    // Sync 105 (seconds 90..104): the old replica carries (t + 0.5)/100 for 90..94 and (t + 0.5)/200 for
    // 95..104: (462.5/100 + 1000/200) / 15 = 64.17%; the new one, ready for 95..104: 5.0 / 10 = 50%;
    // mean 57.08% → 57%, ratio 1.14 → ceil(1.14 × 2) = 3, ready at 125 (after the load: 120 s).
    // The load never passes a replica's knee: at most 94.5 on 1 (second 94), then 119.5 / 2.
    const p = simulateSurge(input([open(120, 0, 120)], { web: { targetUtilization: 0.5 } }));
    expect(p.scaleEvents).toEqual([{ role: 'web', t: 75, from: 1, to: 2, readyAt: 95 }, { role: 'web', t: 105, from: 2, to: 3, readyAt: 125 }]);
    expect(p.seconds[94]!.web).toEqual({ ready: 1, starting: 1, desired: 2 });
    expect(p.seconds[95]!.web).toEqual({ ready: 2, starting: 0, desired: 2 });
    expect(p.seconds[95]!.loadPerReplica).toBeCloseTo(95.5 / 2, 3);
    expect(p.breaches).toEqual([]);
    expect(p.sentence).toBe('no breach expected: the HPA adds the 2nd replica at 75 s (ready at 95 s) and reaches 3 at 105 s (ready at 125 s), and each replica stays at or under 95% of its knee');
  });

  it('keeps still inside the tolerance and acts just past it', () => {
    // Target 50%: 54 it/s is 54%, ratio 1.08 ≤ 1.1: nothing. 56 it/s: ratio 1.12 → ceil(1.12) = 2 at the first sync (15 s).
    expect(simulateSurge(input([open(60, 54)], { web: { targetUtilization: 0.5 } })).scaleEvents).toEqual([]);
    expect(simulateSurge(input([open(60, 56)], { web: { targetUtilization: 0.5 } })).scaleEvents).toEqual([{ role: 'web', t: 15, from: 1, to: 2, readyAt: 35 }]);
  });

  it('adds at most max(4 pods, 100%) per 15 s, and a replica shows at most one core', () => {
    // 1000 it/s on 1 replica (knee 100): 1000% CPU, ratio 20 → 20 wanted; from 1: max(1 + 4, 2 × 1) = 5.
    // Ready at once (start-up 0). Sync 30: 200% on 5 → 20 wanted; the event at 15 is outside (15, 30], from 5: max(9, 10) = 10.
    // Sync 45: 100% on 10 → 20, from 10: max(14, 20) = 20.
    const p = simulateSurge(input([open(60, 1000)], { web: { maxReplicas: 20, targetUtilization: 0.5 }, autoscaler: { podStartupSec: 0 } }));
    expect(p.scaleEvents.map((e) => [e.t, e.from, e.to])).toEqual([[15, 1, 5], [30, 5, 10], [45, 10, 20]]);
    // With a 800m request a process can show at most 1000 / 800 = 125%: ratio 1.25 / 0.5 = 2.5 → ceil(2.5) = 3 at 15 s.
    const capped = simulateSurge(input([open(30, 1000)], { web: { maxReplicas: 20, targetUtilization: 0.5, utilizationCap: 1.25, cpuRequestMillicores: 800 }, autoscaler: { podStartupSec: 0 } }));
    expect(capped.seconds[0]!.utilization).toBe(1.25);
    expect(capped.scaleEvents[0]).toMatchObject({ t: 15, from: 1, to: 3 });
  });

  it('finds the breach interval and the settings that avoid it', () => {
    // 80 it/s for 60 s, then 160 it/s for 60 s; target 80%, start-up 30 s.
    // 0..59: 80% on 1 replica, ratio 1: no change. From 60: 160 per replica, past the 100 knee: breach.
    // Sync 75 (seconds 60..74, 160%): ratio 2 → 2 replicas, ready at 105. Sync 90: 1 ready at 160%,
    // 1 starting: 160 / 2 / 80 = 1.0, no change. From 105: 80 each: the breach is [60, 105), worst 160%.
    // Advice: minReplicas 2 carries 80 and 160 at 40% and 80% each (the floor holds it at 2): no breach.
    // Target 75%: 80% at the base is ratio 1.07, within the tolerance: same breach. Target 70%: ratio
    // 1.14 → 2 replicas at sync 15, ready at 45; sync 30 (1 starting): 80 / 2 = 40% of 70%, no change;
    // sync 45: the new one was not ready in 30..44, so it has no metric and counts as starting: the same.
    // At 60 the 160 it/s meets 2 replicas: 80 each, no breach.
    const p = simulateSurge(input([open(60, 80), open(60, 160)], { autoscaler: { podStartupSec: 30 } }));
    expect(p.scaleEvents).toEqual([{ role: 'web', t: 75, from: 1, to: 2, readyAt: 105 }]);
    expect(p.breaches).toEqual([{ role: 'web', fromSec: 60, toSec: 105, worst: 1.6 }]);
    expect(p.advice).toEqual({ minReplicas: 2, targetUtilizationPercent: 70 });
    expect(p.sentence).toBe('the HPA adds the 2nd replica at 75 s (ready at 105 s); from 60 s to 105 s each replica carries more than its knee ' +
      '(up to 160% of it): expect p99 above the SLO; raise minReplicas to 2 or lower the target to 70%');
  });

  it('says when neither setting avoids the breach', () => {
    // 500 it/s against maxReplicas 2 (knee 100 each): 250 per replica at best.
    const p = simulateSurge(input([open(60, 500)], { web: { maxReplicas: 2 } }));
    expect(p.advice).toEqual({ minReplicas: null, targetUtilizationPercent: null });
    expect(p.sentence).toMatch(/neither a higher minReplicas \(up to maxReplicas 2\) nor a lower target \(down to 30%\) avoids it/);
  });

  it('follows the backlog: KEDA scales consumers on a poll, and scales down only after the cooldown', () => {
    // 0.5 jobs per iteration; a consumer does 1 / 0.1 s = 10 jobs/s; listLength 5; polls every 10 s; cooldown 30 s; start-up 0.
    // 0..19 s at 30 it/s = 15 jobs/s on 1 consumer: the backlog grows 5 a second, 5 (t + 1) after second t.
    // The expected wait backlog × 0.1 / 1 passes 2 s at t = 4 (2.5 s) and reaches 5 s at t = 9 (backlog 50).
    // Poll 10: ceil(50 / 5) = 10, bounded to 4: 1 → 4. Second 10: 50 + 15 − 40 = 25 (wait 0.625 s); 11: 0.
    // 20..59 s at 2 it/s = 1 job/s: no backlog. Polls 20 and 30 want 1 but the 4 of poll 10 is within the
    // 30 s cooldown; poll 40: (10, 40] holds only 1s: 4 → 1.
    const consumer = { minReplicas: 1, maxReplicas: 4, listLength: 5, secondsPerJob: 0.1, jobsPerIteration: 0.5, acceptableWaitSec: 2 };
    const p = simulateSurge(input([open(20, 30), open(40, 2)], { web: { maxReplicas: 1 }, autoscaler: { pollingSec: 10, cooldownSec: 30, podStartupSec: 0 }, consumer }));
    expect(p.scaleEvents.filter((e) => e.role === 'consumer')).toEqual([
      { role: 'consumer', t: 10, from: 1, to: 4, readyAt: 10 },
      { role: 'consumer', t: 40, from: 4, to: 1, readyAt: 40 },
    ]);
    expect(p.seconds.slice(8, 13).map((s) => s.consumer!.backlog)).toEqual([45, 50, 25, 0, 0]);
    expect(p.breaches).toEqual([{ role: 'consumer', fromSec: 4, toSec: 10, worst: 5 }]);
    expect(p.advice).toBeNull();
    expect(p.sentence).toMatch(/KEDA scales from 1 to 4 consumers at 10 s; from 4 s to 10 s orders wait longer than the acceptable 2 s in the queue \(up to 5 s\)$/);
  });

  it('says a closed-model phase leaves nothing to predict', () => {
    const p = simulateSurge(input([open(10, 5), { kind: 'closed', durationSec: 30 }]));
    expect(p).toMatchObject({ applies: false, seconds: [], breaches: [], advice: null });
    expect(p.sentence).toMatch(/does not apply: phase 2 is closed-model/);
  });

  it('words ordinals', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].map(ordinal)).toEqual(['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '101st', '111th']);
  });
});

describe('the sentence near the knee', () => {
  it('says a load a few percent past the knee may break the SLO, and one well past it will', () => {
    // One replica pinned (min = max = 1), knee 100 it/s: 105 it/s is 105% of it, 150 it/s is 150%.
    const near = simulateSurge(input([open(10, 105)], { web: { maxReplicas: 1 } }));
    expect(near.sentence).toContain('(up to 105% of it): p99 may exceed the SLO (within 10% of the knee, as close as the knee is known)');
    const far = simulateSurge(input([open(10, 150)], { web: { maxReplicas: 1 } }));
    expect(far.sentence).toContain('(up to 150% of it): expect p99 above the SLO');
  });
});
