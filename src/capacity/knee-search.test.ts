import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KneeSearch, type KneeSearchOptions, type StepFinding, type StepPurpose } from './knee-search.js';

type Target = (rate: number, step: number, purpose: StepPurpose) => StepFinding;
// Past its capacity a queue's tail grows with the rate.
const clean = (capacity: number): Target => (rate) => ({ passed: rate <= capacity, decided: true, severity: rate <= capacity ? 0.5 : 1 + 50 * (rate / capacity - 1) });

/** Runs the search against `target`; steps are numbered from 0 in the order measured. */
function search(target: Target, opts: KneeSearchOptions): ReturnType<KneeSearch['result']> & { steps: { rate: number; purpose: StepPurpose }[] } {
  const s = new KneeSearch(opts);
  const steps: { rate: number; purpose: StepPurpose }[] = [];
  for (let next = s.next(); next; next = s.next()) {
    steps.push(next);
    if (steps.length > 100) throw new Error('no end');
    s.record(next.rate, target(next.rate, steps.length - 1, next.purpose));
  }
  return { ...s.result(), steps };
}

describe('KneeSearch', () => {
  it('probes up by doubling, then bisects to the precision; settled failures are believed', () => {
    const r = search(clean(300), { startRate: 50, maxRate: 10_000 });
    expect(r.steps.slice(0, 5)).toEqual([
      { rate: 50, purpose: 'probe' }, { rate: 100, purpose: 'probe' }, { rate: 200, purpose: 'probe' }, { rate: 400, purpose: 'probe' }, { rate: 300, purpose: 'bisect' },
    ]);
    expect(r).toMatchObject({ outcome: 'converged', knee: 300, kneeDecided: true });
    expect(r.steps.some((x) => x.purpose === 'confirm')).toBe(false);
  });

  it('confirms a failure that only leaned to fail before it bounds the search', () => {
    const r = search((rate) => ({ passed: rate <= 300, decided: rate <= 300, severity: null }), { startRate: 100, maxRate: 1000 });
    expect(r.steps.slice(0, 4)).toEqual([
      { rate: 100, purpose: 'probe' }, { rate: 200, purpose: 'probe' }, { rate: 400, purpose: 'probe' }, { rate: 400, purpose: 'confirm' },
    ]);
    expect(r.knee).toBeGreaterThanOrEqual(300 / 1.05);
  });

  it('does not believe a failure the confirmation does not reproduce (a transient)', () => {
    // The first measurement of 400 fails by noise; every other measurement is the truth (capacity 600).
    const r = search((rate, step) => ({ passed: step === 2 ? false : rate <= 600, decided: step !== 2, severity: null }), { startRate: 100, maxRate: 10_000 });
    expect(r.steps[3]).toEqual({ rate: 400, purpose: 'confirm' });
    expect(r.knee).toBeGreaterThanOrEqual(600 / 1.05);
    expect(r.knee).toBeLessThanOrEqual(600);
  });

  it('measures again, once warm, the failures of a cold start', () => {
    // The first 3 steps fail whatever the rate (cold); the target sustains 160.
    const r = search((rate, step) => ({ passed: step >= 3 && rate <= 160, decided: true, severity: step < 3 ? 3 : rate <= 160 ? 0 : 4 }), { startRate: 40, maxRate: 10_000 });
    // Going down, the cold failures look like stalls; the lowest is confirmed before that is believed, and passes.
    expect(r.steps.slice(0, 6)).toEqual([
      { rate: 40, purpose: 'probe' }, { rate: 20, purpose: 'probe' }, { rate: 10, purpose: 'probe' }, { rate: 10, purpose: 'confirm' },
      { rate: 20, purpose: 'recheck' }, { rate: 40, purpose: 'recheck' },
    ]);
    expect(r.outcome).toBe('converged');
    expect(r.knee).toBeGreaterThanOrEqual(160 / 1.05);
  });

  it('stops going down when the failures do not shrink with the rate (stalls), after confirming the lowest', () => {
    const r = search(() => ({ passed: false, decided: true, severity: 4 }), { startRate: 40, maxRate: 1000 });
    expect(r.steps.map((x) => x.rate)).toEqual([40, 20, 10, 10]);
    expect(r.steps[3]!.purpose).toBe('confirm');
    expect(r).toMatchObject({ outcome: 'loadIndependent', knee: undefined });
  });

  it('goes on down when the failures shrink with the rate, and gives up at minRate', () => {
    const r = search((rate) => ({ passed: false, decided: true, severity: rate / 2 }), { startRate: 64, maxRate: 1000, minRate: 4 });
    expect(r.outcome).toBe('nothingPassed');
    expect(Math.min(...r.steps.map((x) => x.rate))).toBe(4);
  });

  it('stops at maxRate when everything passes', () => {
    const r = search(clean(Infinity), { startRate: 10, maxRate: 100 });
    expect(r.steps.map((x) => x.rate)).toEqual([10, 20, 40, 80, 100]);
    expect(r).toMatchObject({ knee: 100, outcome: 'maxRate' });
  });

  it('measures again a pass above a failure, and keeps the lower rate when they still disagree', () => {
    const s = new KneeSearch({ startRate: 100, maxRate: 1000 });
    const settled = (passed: boolean): StepFinding => ({ passed, decided: true, severity: null });
    s.record(100, settled(true));
    s.record(200, settled(false));
    s.record(150, settled(true));
    s.record(175, settled(false));
    expect(s.bracket).toEqual({ low: 150, high: 175 });
    s.record(180, settled(true));
    // 180 passed above the failure at 175: the less-measured of the two is measured again, up to 3 times each.
    const again: number[] = [];
    for (let next = s.next(); next?.purpose === 'recheck'; next = s.next()) {
      again.push(next.rate);
      s.record(next.rate, settled(next.rate === 180));
    }
    expect(again.sort()).toEqual([175, 175, 180, 180]);
    expect(s.bracket).toEqual({ low: 150, high: 175 });
    expect(s.result().contradictions).toEqual([180]);
  });

  it('reopens a finished search to measure its bracket again, and the fresh measurements win', () => {
    const s = new KneeSearch({ startRate: 100, maxRate: 1000, precision: 0.1 });
    let capacity = 150;
    for (let next = s.next(); next; next = s.next()) s.record(next.rate, { passed: next.rate <= capacity, decided: true, severity: null });
    expect(s.result().knee).toBeLessThanOrEqual(150);
    capacity = 400;
    expect(s.reopen()).toBe(true);
    expect(s.next()!.purpose).toBe('recheck');
    for (let next = s.next(); next; next = s.next()) s.record(next.rate, { passed: next.rate <= capacity, decided: true, severity: null });
    expect(s.result()).toMatchObject({ outcome: 'converged', reopened: true });
    expect(s.result().knee).toBeGreaterThanOrEqual(400 / 1.1);
    expect(s.reopen()).toBe(false);
  });

  it('measures a knee that only leaned to pass once more before ending', () => {
    const r = search((rate) => ({ passed: rate <= 300, decided: rate < 290 || rate > 300, severity: null }), { startRate: 100, maxRate: 1000, precision: 0.1 });
    const knee = r.steps.filter((x) => x.rate === r.knee);
    expect(knee.length).toBeGreaterThanOrEqual(2);
    expect(knee.at(-1)!.purpose).toBe('confirm');
  });

  it('calls stalls even when the start rate was overloaded (its tail cannot tell)', () => {
    // 100 it/s overloads the target (severity unknown); 50, 25, 12.5 show the same flat tail.
    const r = search((rate) => ({ passed: false, decided: true, severity: rate >= 100 ? null : 4 }), { startRate: 100, maxRate: 1000 });
    expect(r.outcome).toBe('loadIndependent');
    expect(Math.min(...r.steps.map((x) => x.rate))).toBe(12.5);
  });

  it('after a reopen, measures the passing end first (it warms the resized target) and a cold failure stays provisional', () => {
    const s = new KneeSearch({ startRate: 100, maxRate: 1000, precision: 0.1 });
    const settled = (passed: boolean): StepFinding => ({ passed, decided: true, severity: null });
    for (let next = s.next(); next; next = s.next()) s.record(next.rate, settled(next.rate <= 150));
    const { low, high } = s.bracket;
    expect(s.reopen()).toBe(true);
    // The first step after the resize: the knee, not the bounding failure.
    expect(s.next()).toEqual({ rate: low, purpose: 'recheck' });
    s.record(low!, settled(true));
    expect(s.next()).toEqual({ rate: high, purpose: 'recheck' });
  });

  it('reopens a count where nothing passed from its lowest failure', () => {
    const s = new KneeSearch({ startRate: 40, maxRate: 1000, minRate: 10 });
    for (let next = s.next(); next; next = s.next()) s.record(next.rate, { passed: false, decided: true, severity: null });
    expect(s.result().outcome).toBe('nothingPassed');
    expect(s.reopen()).toBe(true);
    expect(s.next()).toEqual({ rate: 10, purpose: 'recheck' });
    for (let next = s.next(); next; next = s.next()) s.record(next.rate, { passed: next.rate <= 160, decided: true, severity: null });
    expect(s.result()).toMatchObject({ outcome: 'converged' });
    expect(s.result().knee).toBeGreaterThanOrEqual(160 / 1.05);
  });

  it('a reopen with nothing left to measure changes nothing', () => {
    const s = new KneeSearch({ startRate: 10, maxRate: 10 });
    s.record(10, { passed: true, decided: true, severity: null });
    expect(s.result().outcome).toBe('maxRate');
    // Its only rate can be rechecked: the reopen goes ahead once, and never twice.
    expect(s.reopen()).toBe(true);
    s.record(10, { passed: true, decided: true, severity: null });
    expect(s.reopen()).toBe(false);
    expect(s.result()).toMatchObject({ outcome: 'maxRate', reopened: true, knee: 10 });
  });

  it('always ends within the precision of the true capacity, in a bounded number of steps', () => {
    fc.assert(fc.property(
      fc.double({ min: 1, max: 50_000, noNaN: true }),
      fc.double({ min: 1, max: 1000, noNaN: true }),
      fc.constantFrom(0.01, 0.05, 0.1),
      (capacity, startRate, precision) => {
        const r = search(clean(capacity), { startRate, maxRate: 100_000, precision });
        if (capacity < startRate / 16) return r.outcome === 'nothingPassed';
        return r.outcome === 'converged' && r.knee! <= capacity && r.knee! >= capacity / (1 + precision) && r.steps.length < 40;
      },
    ));
  });

  it('with random noise on undecided steps, never believes a rate that failed twice, and always ends', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 30 }), fc.double({ min: 20, max: 5000, noNaN: true }), (seed, capacity) => {
      let x = seed;
      const random = (): number => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      // Near the knee (within 10%) a step is a coin toss and undecided; elsewhere it is right and settled.
      const r = search((rate) => {
        const near = Math.abs(rate - capacity) / capacity < 0.1;
        return { passed: near ? random() < 0.5 : rate <= capacity, decided: !near, severity: null };
      }, { startRate: 10, maxRate: 100_000 });
      return r.outcome !== undefined && r.steps.length <= 40 && (r.knee === undefined || r.knee <= capacity * 1.1);
    }));
  });
});
