import { describe, expect, it } from 'vitest';
import type { SecondCounts, TailCriterion } from './step-verdict.js';
import { mulberry32 as rng } from '../../test/helpers/seeded-random.js';
import { compareScaling, sloBreaches, verifySurge, type ObservedRun, type PredictionView } from './verification.js';
import { roleNamer } from './verify-run.js';

const p99 = (limitMs: number): TailCriterion => ({ expression: `p99 < ${limitMs}ms`, scope: undefined, kind: 'latency', limitMs, allowed: 0.01, strict: true });
const errors: TailCriterion = { expression: 'error_rate < 1%', scope: undefined, kind: 'errors', limitMs: 0, allowed: 0.01, strict: true };

/** `n` seconds of `perSec` answers, each slower than 500 ms with probability share(t). */
function seconds(n: number, perSec: number, share: (t: number) => number, random: () => number): SecondCounts[] {
  return Array.from({ length: n }, (_, t) => {
    let slow = 0;
    for (let i = 0; i < perSec; i++) if (random() < share(t)) slow++;
    return { samples: perSec, errors: 0, timed: perSec, slower: { 500: slow } };
  });
}

const prediction: PredictionView = {
  scaleEvents: [{ role: 'web', t: 30, from: 1, to: 2, readyAt: 32 }, { role: 'consumer', t: 20, from: 1, to: 3, readyAt: 22 }],
  breaches: [],
  syncSec: 15,
  maxBacklog: 40,
};

const observed = (over: Partial<ObservedRun> = {}): ObservedRun => ({
  aborted: false,
  timeline: [{ t: 0, achievedRps: 40, p99: 12, replicas: { web: 1 } }],
  seconds: seconds(60, 200, () => 0.002, rng(1)),
  replicaEvents: [{ role: 'web', t: 35, from: 1, to: 2 }, { role: 'consumer', t: 23, from: 1, to: 2 }, { role: 'web', t: 58, from: 2, to: 1 }],
  sawReplicas: true,
  thresholds: [{ expression: 'p99 < 500ms', scope: undefined, metric: 'p99', actual: 120, limit: 500, ok: true }],
  queue: { maxDepth: 35, drainSec: 4 },
  ...over,
});

describe('sloBreaches', () => {
  it('finds no breach in noise under the allowance, over many seeds (the confidence is split across windows)', () => {
    // 0.8% slower against 1% allowed: close to the line, 120 s of 300 answers a second, 40 seeds.
    const found = Array.from({ length: 40 }, (_, seed) => sloBreaches(seconds(120, 300, () => 0.008, rng(seed + 10)), [p99(500)]).breaches).filter((b) => b.length > 0);
    expect(found).toEqual([]);
  });

  it('finds a burst of slow answers, and only around it', () => {
    // Seconds 20..29 have 10% slower than 500 ms; the rest 0.2%.
    const s = seconds(60, 300, (t) => (t >= 20 && t < 30 ? 0.1 : 0.002), rng(7));
    const b = sloBreaches(s, [p99(500)]).breaches;
    expect(b).toHaveLength(1);
    // A window overlapping the burst by a second or two may already fail: the interval can start up to 4 s early.
    expect(b[0]!.fromSec).toBeGreaterThanOrEqual(16);
    expect(b[0]!.fromSec).toBeLessThanOrEqual(21);
    expect(b[0]!.toSec).toBeGreaterThanOrEqual(29);
    expect(b[0]!.toSec).toBeLessThanOrEqual(34);
    expect(b[0]!.worstShare).toBeGreaterThan(0.05);
  });

  it('judges errors on requests, and leaves scoped criteria to the whole run', () => {
    const s: SecondCounts[] = Array.from({ length: 20 }, (_, t) => ({ samples: 400, errors: t >= 10 ? 80 : 0, timed: 400, slower: {} }));
    expect(sloBreaches(s, [errors]).breaches[0]).toMatchObject({ expression: 'error_rate < 1%', toSec: 20 });
    expect(sloBreaches(s, [{ ...errors, scope: 'checkout' }]).breaches).toEqual([]);
  });
});

describe('sloBreaches, edge cases', () => {
  it('a stall (load offered, nothing answered) breaks the SLO; a pause (nothing offered) says nothing', () => {
    const ok = { samples: 300, errors: 0, timed: 300, slower: { 500: 0 } };
    const stalled = [...Array.from({ length: 10 }, () => ({ ...ok, offered: 300 })), ...Array.from({ length: 6 }, () => ({ offered: 300, samples: 0, errors: 0, timed: 0, slower: {} })), ...Array.from({ length: 10 }, () => ({ ...ok, offered: 300 }))];
    expect(sloBreaches(stalled, [p99(500)]).breaches).toEqual([expect.objectContaining({ fromSec: 10, toSec: 16, worstShare: 1 })]);
    const paused = stalled.map((x) => (x.samples === 0 ? { ...x, offered: 0 } : x));
    expect(sloBreaches(paused, [p99(500)]).breaches).toEqual([]);
  });

  it('few samples leaning past the allowance are doubtful, not a breach and not a pass', () => {
    // 20 answers a second, one slower every other second from 20 s to 30 s: 2-3 of a window's 100 (2.5%, past 1%),
    // which cannot settle it at 95% across 56 windows (the interval reaches down to about 0.4%).
    const s: SecondCounts[] = Array.from({ length: 60 }, (_, t) => ({ samples: 20, errors: 0, timed: 20, slower: { 500: t >= 20 && t < 30 && t % 2 === 0 ? 1 : 0 } }));
    const r = sloBreaches(s, [p99(500)]);
    expect(r.breaches).toEqual([]);
    expect(r.doubtful.length).toBeGreaterThan(0);
    const v = verifySurge(prediction, observed({ seconds: s }), [p99(500)]);
    expect(v.verdict).toBe('unsure');
    expect(v.held).toBe(false);
    expect(v.summary).toMatch(/^not settled: p99 < 500ms from \d+ s to \d+ s/);
  });
});

describe('compareScaling', () => {
  it('pairs each count reached on the way up, predicted ready time against observed', () => {
    const rows = compareScaling(prediction.scaleEvents, observed().replicaEvents);
    expect(rows).toEqual([
      { role: 'consumer', replicas: 2, predictedSec: 22, observedSec: 23, differenceSec: 1 },
      { role: 'consumer', replicas: 3, predictedSec: 22, observedSec: null, differenceSec: null },
      { role: 'web', replicas: 2, predictedSec: 32, observedSec: 35, differenceSec: 3 },
    ]);
  });
});

describe('verifySurge', () => {
  it('holds when no window breaks the SLO, with the first scale-up within one sync period', () => {
    const v = verifySurge(prediction, observed(), [p99(500)]);
    expect(v.held).toBe(true);
    expect(v.firstScaleUp).toEqual({ predictedSec: 32, observedSec: 35, syncSec: 15, withinSyncPeriod: true });
    expect(v.scaleDowns).toEqual([{ role: 'web', t: 58, from: 2, to: 1 }]);
    expect(v.queue).toEqual({ predictedMaxBacklog: 40, observedMaxDepth: 35, observedDrainSec: 4 });
    expect(v.summary).toContain('held');
    expect(v.summary).toContain('2nd web replica was ready at 35 s (predicted at 32 s, within one 15s sync period)');
  });

  it('breaks on a burst during the surge, and says when', () => {
    const v = verifySurge(prediction, observed({ seconds: seconds(60, 300, (t) => (t >= 20 && t < 30 ? 0.1 : 0.002), rng(3)) }), [p99(500)]);
    expect(v.held).toBe(false);
    expect(v.breaches).toHaveLength(1);
    expect(v.summary).toMatch(/broke during the surge: p99 < 500ms from \d+ s to \d+ s/);
  });

  it('breaks when the whole replay fails an SLO, and when it was interrupted', () => {
    const failing = observed({ thresholds: [{ expression: 'checkout: p95 < 300ms', scope: 'checkout', metric: 'p95', actual: 420, limit: 300, ok: false }] });
    expect(verifySurge(prediction, failing, [p99(500)]).held).toBe(false);
    const aborted = verifySurge(prediction, observed({ aborted: true }), [p99(500)]);
    expect(aborted.held).toBe(false);
    expect(aborted.verdict).toBe('interrupted');
    expect(aborted.summary).toMatch(/^the replay was interrupted: not judged/);
  });

  it('says so when the target showed no replicas, and does not claim a timing', () => {
    const v = verifySurge(prediction, observed({ sawReplicas: false, replicaEvents: [] }), [p99(500)]);
    expect(v.firstScaleUp).toMatchObject({ observedSec: null, withinSyncPeriod: null });
    expect(v.warnings[0]).toMatch(/no replica counts/);
  });

  it('a scale-up seen more than a sync period after the prediction, or on one side only, is flagged', () => {
    const late = observed({ replicaEvents: [{ role: 'web', t: 50, from: 1, to: 2 }] });
    expect(verifySurge(prediction, late, [p99(500)]).firstScaleUp?.withinSyncPeriod).toBe(false);
    const never = observed({ replicaEvents: [] });
    expect(verifySurge(prediction, never, [p99(500)]).firstScaleUp).toMatchObject({ observedSec: null, withinSyncPeriod: false });
  });

  it("says when the consumers' prediction missed the backlog by more than twice", () => {
    const v = verifySurge({ ...prediction, maxBacklog: 1528 }, observed({ queue: { maxDepth: 13, drainSec: 0.1 } }), [p99(500)]);
    expect(v.warnings.join('\n')).toMatch(/the consumers' prediction missed: a largest backlog of 1528 predicted, 13 observed/);
    expect(verifySurge(prediction, observed(), [p99(500)]).warnings.join('\n')).not.toMatch(/missed/);
  });

  it('nothing to judge by is not a pass; a start above minReplicas is said; the breach agreement is given', () => {
    expect(verifySurge(prediction, observed({ thresholds: [] }), []).verdict).toBe('unsure');
    const v = verifySurge({ ...prediction, webMinReplicas: 1, breaches: [{ role: 'web', fromSec: 20, toSec: 30 }] },
      observed({ timeline: [{ t: 0, achievedRps: 40, p99: 12, replicas: { web: 3 } }] }), [p99(500)]);
    expect(v.warnings.join('\n')).toMatch(/started with 3 web replicas, the prediction with 1/);
    expect(v.breachAgreement).toBe('predicted only');
  });
});

describe('roles of a Kubernetes target', () => {
  it('reads the Deployments named for web and consumer as those roles', () => {
    const role = roleNamer({ web: 'shop', consumer: 'shop-order-worker' });
    expect(['shop', 'shop-order-worker', 'web', 'redis'].map(role)).toEqual(['web', 'consumer', 'web', 'redis']);
  });

  it('warns when the replicas seen name neither role, instead of reporting the scale-up as never seen in silence', () => {
    const v = verifySurge(prediction, observed({ timeline: [{ t: 0, achievedRps: 40, p99: 12, replicas: { 'shop-web': 1 } }], replicaEvents: [{ role: 'shop-web', t: 33, from: 1, to: 2 }] }), [p99(500)]);
    expect(v.warnings.join('\n')).toMatch(/none of them the web or consumer role the prediction has: give --deployment and --consumer-deployment/);
  });
});
