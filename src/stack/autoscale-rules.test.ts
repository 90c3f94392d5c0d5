import { describe, expect, it } from 'vitest';
import { emptyMemory, hpaRawReplicas, hpaSync, kedaPoll, type HpaRules, type KedaRules, type ScalerMemory } from './autoscale-rules.js';

/*
 * Hand-worked sequences: the expected numbers are worked out in the comments
 * from the rules below (not from the defaults, so that the arithmetic stays
 * true if a default changes). Kubernetes computes utilization in whole
 * percent, truncated; the ratio is that over the target percent.
 */
const hpa: HpaRules = {
  minReplicas: 1, maxReplicas: 10, targetUtilization: 0.5, tolerance: 0.1, scaleDownWindowSec: 300,
  scaleUpPods: 4, scaleUpPercent: 100, scaleUpPeriodSec: 15, scaleDownPercent: 100, scaleDownPeriodSec: 15,
};
const keda: KedaRules = { minReplicas: 1, maxReplicas: 10, listLength: 5, cooldownSec: 300 };
const pods = (n: number, utilization: number): number[] => Array.from({ length: n }, () => utilization);
/** Memory whose first sync happened long ago: no recommendation or event is still in any window. */
const settled = (): ScalerMemory => ({ recommendations: [{ at: -10_000, replicas: 1 }], events: [] });

describe('hpaRawReplicas (the replica calculator)', () => {
  it('takes no action while the ratio is within 1 ± tolerance, on both boundaries', () => {
    // mean (52 + 56) / 2 = 54%; 54 / 50 = 1.08, inside [0.9, 1.1]
    expect(hpaRawReplicas(hpa, { now: 0, readyUtilization: [0.52, 0.56], starting: 0 }).raw).toBe(2);
    // 55 / 50 = 1.1 and 45 / 50 = 0.9: on the boundaries, still no action
    expect(hpaRawReplicas(hpa, { now: 0, readyUtilization: pods(2, 0.55), starting: 0 }).raw).toBe(2);
    expect(hpaRawReplicas(hpa, { now: 0, readyUtilization: pods(2, 0.45), starting: 0 }).raw).toBe(2);
    // 56 / 50 = 1.12 > 1.1: ceil(2 × 1.12) = ceil(2.24) = 3
    expect(hpaRawReplicas(hpa, { now: 0, readyUtilization: pods(2, 0.56), starting: 0 }).raw).toBe(3);
    // 44 / 50 = 0.88 < 0.9: ceil(2 × 0.88) = ceil(1.76) = 2 (no change, but not by the tolerance)
    expect(hpaRawReplicas(hpa, { now: 0, readyUtilization: pods(2, 0.44), starting: 0 }).why).toBe('ceil(2 × 44% / 50%) = 2');
  });

  it('scales on whole percents, truncated, as the metrics client does', () => {
    // 0.929 → 92% (not 93%): ceil(1 × 92 / 50) = ceil(1.84) = 2
    const r = hpaRawReplicas(hpa, { now: 0, readyUtilization: [0.929], starting: 0 });
    expect(r).toEqual({ raw: 2, utilization: 0.92, why: 'ceil(1 × 92% / 50%) = 2' });
    // 0.29 × 100 is 28.999… in binary; it is still 29%
    expect(hpaRawReplicas(hpa, { now: 0, readyUtilization: [0.29], starting: 0 }).utilization).toBe(0.29);
  });

  it('counts starting pods at 0% when the ready ones ask to scale up', () => {
    // ready 90% → 1.8 asks to scale up; with 1 starting at 0%: floor(180 / 3) = 60%,
    // 60 / 50 = 1.2 > 1.1: ceil(3 × 1.2) = ceil(3.6) = 4 (counted at the ready pods' 90% it would be ceil(3 × 1.8) = 6)
    const up = hpaRawReplicas(hpa, { now: 0, readyUtilization: pods(2, 0.9), starting: 1 });
    expect(up.raw).toBe(4);
    expect(up.why).toContain('ceil(3 × 60% / 50%) = 4');
    // ready 70% → 1.4; with 1 starting: floor(140 / 3) = 46%, 0.92 < 1: the starting pod will absorb it
    expect(hpaRawReplicas(hpa, { now: 0, readyUtilization: pods(2, 0.7), starting: 1 }).raw).toBe(3);
    // ready 60% → 1.2; with 2 starting: floor(120 / 4) = 30%, 0.6 < 1 would flip the direction: no change
    // (on the ready pods alone it would be ceil(2 × 1.2) = 3, a scale-down from 4 while the ready ones run hot)
    expect(hpaRawReplicas(hpa, { now: 0, readyUtilization: pods(2, 0.6), starting: 2 }).raw).toBe(4);
  });

  it('leaves starting pods out when scaling down', () => {
    // ready 30% → 0.6: ceil(2 ready × 0.6) = ceil(1.2) = 2; counting the 2 starting pods would give ceil(4 × 0.6) = 3
    const down = hpaRawReplicas(hpa, { now: 0, readyUtilization: pods(2, 0.3), starting: 2 });
    expect(down.raw).toBe(2);
    expect(down.why).toBe('ceil(2 × 30% / 50%) = 2 (2 starting left out)');
  });
});

describe('hpaSync (calculator, behavior, bounds)', () => {
  it('scales up at the first sync above target, then follows the pods or percent policy per period', () => {
    const r = { ...hpa, targetUtilization: 0.2, maxReplicas: 40 };
    // t=0: 2 ready at 100% of a 20% target: ratio 5, raw ceil(2 × 5) = 10;
    // limit from 2: max(2 + 4 pods, ceil(2 × 200%) = 4) = 6
    const s0 = hpaSync(r, emptyMemory(), { now: 0, readyUtilization: pods(2, 1), starting: 0 });
    expect([s0.raw, s0.desired]).toEqual([10, 6]);
    expect(s0.reason).toContain('scale-up limited to 6 (4 pods or 100% per 15 s from 2)');
    // t=5 (same period): 2 ready at 100% + 4 starting: floor(200 / 6) = 33%, 1.65 → ceil(6 × 1.65) = ceil(9.9) = 10;
    // the period started at 6 − 4 added = 2, so the limit is still 6: no change
    const s1 = hpaSync(r, s0.memory, { now: 5, readyUtilization: pods(2, 1), starting: 4 });
    expect([s1.raw, s1.desired]).toEqual([10, 6]);
    // t=15: the t=0 event is out of (0, 15]; 6 ready at 60%: ratio 3, raw 18;
    // limit from 6: max(6 + 4, ceil(6 × 2) = 12) = 12 (the percent policy now adds more)
    const s2 = hpaSync(r, s1.memory, { now: 15, readyUtilization: pods(6, 0.6), starting: 0 });
    expect([s2.raw, s2.desired]).toEqual([18, 12]);
  });

  it('counts the period from its start replicas: current − added + removed', () => {
    const r = { ...hpa, targetUtilization: 0.2, maxReplicas: 40 };
    // at t=0 the count went 4 → 2 (2 removed). t=5: 2 ready at 100% of 20%: raw 10;
    // the period started at 2 − 0 + 2 = 4: limit max(4 + 4, ceil(4 × 2)) = 8
    const memory: ScalerMemory = { recommendations: [{ at: 0, replicas: 2 }], events: [{ at: 0, change: -2 }] };
    expect(hpaSync(r, memory, { now: 5, readyUtilization: pods(2, 1), starting: 0 }).desired).toBe(8);
  });

  it('holds a scale-down for the stabilisation window (highest recommendation), then releases it', () => {
    // t=0: 4 ready at 50%: within tolerance, raw 4 (and the first sync records the 4 it found)
    const s0 = hpaSync(hpa, emptyMemory(), { now: 0, readyUtilization: pods(4, 0.5), starting: 0 });
    expect(s0.desired).toBe(4);
    // t=15: 10% → 0.2: ceil(4 × 0.2) = 1, but the window holds 4 (t=0)
    const s1 = hpaSync(hpa, s0.memory, { now: 15, readyUtilization: pods(4, 0.1), starting: 0 });
    expect([s1.raw, s1.desired]).toEqual([1, 4]);
    expect(s1.reason).toContain('held at 4 by the 300 s scale-down stabilisation window (highest recommendation 4)');
    // t=150: 30% → 0.6: ceil(2.4) = 3, still held at 4
    const s2 = hpaSync(hpa, s1.memory, { now: 150, readyUtilization: pods(4, 0.3), starting: 0 });
    expect([s2.raw, s2.desired]).toEqual([3, 4]);
    // t=299: raw 1; the t=0 recommendation is still inside (299 − 300 < 0): held at 4
    const s3 = hpaSync(hpa, s2.memory, { now: 299, readyUtilization: pods(4, 0.1), starting: 0 });
    expect(s3.desired).toBe(4);
    // t=300: t=0 leaves the window; highest of (15: 1, 150: 3, 299: 1, 300: 1) = 3: down to 3
    const s4 = hpaSync(hpa, s3.memory, { now: 300, readyUtilization: pods(4, 0.1), starting: 0 });
    expect(s4.desired).toBe(3);
    // t=450: t=150 leaves (150 is not > 450 − 300); every recommendation left is 1: down to 1
    // (the 100% per 15 s scale-down policy does not bind: floor(3 × 0) = 0)
    const s5 = hpaSync(hpa, s4.memory, { now: 450, readyUtilization: pods(3, 0.1), starting: 0 });
    expect(s5.desired).toBe(1);
  });

  it('bounds the result by min and max', () => {
    // 2 ready at 100% of 50%: ceil(2 × 2) = 4, within the rate limit (6), bounded to max 3
    const up = hpaSync({ ...hpa, maxReplicas: 3 }, emptyMemory(), { now: 0, readyUtilization: pods(2, 1), starting: 0 });
    expect([up.raw, up.desired]).toEqual([4, 3]);
    expect(up.reason).toContain('bounded to 3 by maxReplicas 3');
    // 3 ready at 10%: ceil(3 × 0.2) = ceil(0.6) = 1, window long past, bounded to min 2
    const down = hpaSync({ ...hpa, minReplicas: 2 }, settled(), { now: 0, readyUtilization: pods(3, 0.1), starting: 0 });
    expect([down.raw, down.desired]).toEqual([1, 2]);
    expect(down.reason).toContain('bounded to 2 by minReplicas 2');
  });

  it('scales down on the ready pods only when some are starting', () => {
    // 2 ready at 30% + 2 starting: raw ceil(2 × 0.6) = 2 (window long past): 4 → 2
    const s = hpaSync(hpa, settled(), { now: 0, readyUtilization: pods(2, 0.3), starting: 2 });
    expect([s.current, s.desired]).toEqual([4, 2]);
  });

  it('does nothing without a ready pod, and records no recommendation', () => {
    const s = hpaSync(hpa, settled(), { now: 0, readyUtilization: [], starting: 2 });
    expect(s.desired).toBe(2);
    expect(s.memory).toEqual(settled());
  });
});

describe('kedaPoll', () => {
  it('asks for ceil(backlog / listLength), bounded by min and max', () => {
    // 11 / 5 = 2.2 → 3; 10 / 5 → 2; 0 → 0, bounded to 1; 100 / 5 = 20, bounded to 10
    const at = (backlog: number, current = 1) => kedaPoll(keda, settled(), { now: 0, backlog, current });
    expect(at(11).desired).toBe(3);
    expect(at(10).desired).toBe(2);
    expect(at(0).desired).toBe(1);
    expect(at(0).reason).toBe('ceil(backlog 0 / 5 per replica) = 0, bounded to 1');
    expect(at(100).desired).toBe(10);
  });

  it('scales up at once (no rate limit), and down only after the cooldown', () => {
    // t=0: backlog 50 → 10, from 1 straight to 10
    const p0 = kedaPoll(keda, emptyMemory(), { now: 0, backlog: 50, current: 1 });
    expect(p0.desired).toBe(10);
    // t=30: empty queue → 1, held at 10 by t=0
    const p1 = kedaPoll(keda, p0.memory, { now: 30, backlog: 0, current: 10 });
    expect([p1.raw, p1.desired]).toEqual([1, 10]);
    expect(p1.reason).toContain('held at 10 by the 300 s cooldown (highest recent 10)');
    // t=100: backlog 20 → 4, still held at 10
    const p2 = kedaPoll(keda, p1.memory, { now: 100, backlog: 20, current: 10 });
    expect(p2.desired).toBe(10);
    // t=300: t=0 leaves; highest of (30: 1, 100: 4, 300: 1) = 4
    const p3 = kedaPoll(keda, p2.memory, { now: 300, backlog: 0, current: 10 });
    expect(p3.desired).toBe(4);
    // t=400: t=100 leaves (100 is not > 400 − 300): 1
    const p4 = kedaPoll(keda, p3.memory, { now: 400, backlog: 0, current: 4 });
    expect(p4.desired).toBe(1);
  });

  it('holds the count found at the first poll for one cooldown, within the bounds', () => {
    // 3 consumers at start and an empty queue: held at 3 until t=300
    const p0 = kedaPoll(keda, emptyMemory(), { now: 0, backlog: 0, current: 3 });
    expect(p0.desired).toBe(3);
    expect(kedaPoll(keda, p0.memory, { now: 300, backlog: 0, current: 3 }).desired).toBe(1);
    // more than max at start: down to max at once
    expect(kedaPoll({ ...keda, maxReplicas: 2 }, emptyMemory(), { now: 0, backlog: 0, current: 3 }).desired).toBe(2);
  });
});
