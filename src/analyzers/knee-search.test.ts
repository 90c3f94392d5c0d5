import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KneeSearch } from './knee-search.js';

/** Runs the search against a target that passes every rate up to `capacity`. */
function search(capacity: number, opts: { startRate: number; maxRate: number; precision?: number }): { knee?: number; outcome?: string; steps: number[] } {
  const s = new KneeSearch(opts);
  const steps: number[] = [];
  for (let rate = s.next(); rate !== undefined; rate = s.next()) {
    steps.push(rate);
    if (steps.length > 100) throw new Error('no end');
    s.record(rate, rate <= capacity);
  }
  return { ...s.result(), steps };
}

describe('KneeSearch', () => {
  it('probes up by doubling, then bisects to the precision', () => {
    const r = search(300, { startRate: 50, maxRate: 10_000 });
    expect(r.steps.slice(0, 5)).toEqual([50, 100, 200, 400, 300]);
    expect(r.outcome).toBe('converged');
    expect(r.knee).toBe(300);
  });

  it('goes down when the first step fails', () => {
    const r = search(30, { startRate: 100, maxRate: 1000 });
    expect(r.steps.slice(0, 3)).toEqual([100, 50, 25]);
    expect(r.knee).toBeLessThanOrEqual(30);
    expect(r.knee).toBeGreaterThanOrEqual(30 / 1.05);
  });

  it('stops at maxRate when everything passes', () => {
    const r = search(Infinity, { startRate: 10, maxRate: 100 });
    expect(r.steps).toEqual([10, 20, 40, 80, 100]);
    expect(r).toMatchObject({ knee: 100, outcome: 'maxRate' });
  });

  it('gives up when nothing passes', () => {
    const r = search(0, { startRate: 64, maxRate: 100 });
    expect(r.outcome).toBe('nothingPassed');
    expect(r.knee).toBeUndefined();
  });

  it('ignores a pass above a known failure (noise)', () => {
    const s = new KneeSearch({ startRate: 100, maxRate: 1000 });
    s.record(100, true);
    s.record(200, false);
    s.record(150, true);
    s.record(175, false);
    expect(s.bracket).toEqual({ low: 150, high: 175 });
    s.record(180, true);
    expect(s.bracket).toEqual({ low: 150, high: 175 });
    s.record(140, false);
    expect(s.bracket).toEqual({ low: undefined, high: 140 });
    expect(s.next()).toBe(70);
  });

  it('always ends within the precision of the true capacity', () => {
    fc.assert(fc.property(
      fc.double({ min: 1, max: 50_000, noNaN: true }),
      fc.double({ min: 1, max: 1000, noNaN: true }),
      fc.constantFrom(0.01, 0.05, 0.1),
      (capacity, startRate, precision) => {
        const r = search(capacity, { startRate, maxRate: 100_000, precision, });
        if (capacity < startRate / 64) return r.outcome === 'nothingPassed';
        return r.outcome === 'converged' && r.knee! <= capacity && r.knee! >= capacity / (1 + precision) && r.steps.length < 40;
      },
    ));
  });
});
