import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RampArrivals, RampVus, schedulePhases } from './schedule.js';

describe('RampArrivals', () => {
  it('constant rate: evenly spaced, rate × duration arrivals', () => {
    const a = new RampArrivals(100, 100, 3);
    expect(a.count).toBe(300);
    expect(a.timeOf(0)).toBe(0);
    expect(a.timeOf(1)).toBeCloseTo(0.01, 12);
    expect(a.timeOf(299)).toBeCloseTo(2.99, 12);
  });

  it('ramp from zero starts at t = 0 with no NaN', () => {
    const a = new RampArrivals(0, 100, 10);
    expect(a.count).toBe(500);
    expect(a.timeOf(0)).toBe(0);
    expect(Number.isFinite(a.timeOf(1))).toBe(true);
  });

  it('property: arrival k sits where the cumulative count A(t) equals k, inside the phase, in order', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 5000, noNaN: true }), fc.double({ min: 0, max: 5000, noNaN: true }), fc.double({ min: 0.1, max: 120, noNaN: true }), (r0, r1, d) => {
        const a = new RampArrivals(r0, r1, d);
        const A = (t: number) => r0 * t + ((r1 - r0) * t * t) / (2 * d);
        expect(Math.abs(a.count - A(d))).toBeLessThan(1 + 1e-6);
        let prev = -1;
        for (const k of [0, 1, Math.floor(a.count / 2), a.count - 1].filter((k) => k >= 0 && k < a.count)) {
          const t = a.timeOf(k);
          expect(t).toBeGreaterThanOrEqual(prev);
          expect(t).toBeLessThanOrEqual(d + 1e-6);
          expect(Math.abs(A(t) - k)).toBeLessThan(1e-6 * Math.max(1, k));
          prev = t;
        }
      }),
    );
  });
});

describe('RampArrivals.dueBy', () => {
  it('property: counts the arrivals at or before t (arrival k is due from timeOf(k) on)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 1e6, noNaN: true }), fc.double({ min: 0.1, max: 120, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (r0, r1, d, f) => {
        const a = new RampArrivals(r0, r1, d);
        fc.pre(a.count > 0);
        const k = Math.min(a.count - 1, Math.floor(f * a.count));
        // Float rounding may put an arrival's own instant one count either side.
        expect(Math.abs(a.dueBy(a.timeOf(k)) - (k + 1))).toBeLessThanOrEqual(1);
        expect(a.dueBy(d + 1)).toBe(a.count);
        expect(a.dueBy(-1)).toBe(0);
      }),
    );
  });
});

describe('schedulePhases', () => {
  it('places phases back to back and labels unnamed ones', () => {
    const s = schedulePhases([
      { kind: 'arrivalRate', name: 'warm', durationMs: 1000, arrivalRate: 1, rampTo: 1 },
      { kind: 'pause', name: undefined, durationMs: 500 },
      { kind: 'vus', name: undefined, durationMs: 2000, vus: 3, rampTo: 3 },
    ]);
    expect(s.map((p) => [p.label, p.startMs, p.endMs])).toEqual([['warm', 0, 1000], ['phase 2', 1000, 1500], ['phase 3', 1500, 3500]]);
  });
});

describe('RampVus', () => {
  it('runs round(v0 + (v1 − v0)·t/D) VUs at t, and each VU j exactly while that count is above j', () => {
    for (const [v0, v1] of [[1, 8], [8, 0], [0, 5], [5, 5], [3, 100]] as const) {
      const ramp = new RampVus(v0, v1, 2000);
      expect(ramp.peak).toBe(Math.max(v0, v1));
      for (let t = 0; t < 2000; t += 7.3) {
        const running = Array.from({ length: ramp.peak }, (_, j) => ramp.window(j)).filter((w) => w.fromMs <= t && t < w.toMs).length;
        expect(running, `${v0}→${v1} at ${t} ms`).toBe(ramp.at(t));
        expect(ramp.at(t)).toBe(Math.round(v0 + ((v1 - v0) * t) / 2000));
      }
    }
  });

  it('gives the line area in VU-seconds (a ramp 0 → 10 over 10 s: 50)', () => {
    const ramp = new RampVus(0, 10, 10_000);
    const vuMs = Array.from({ length: 10 }, (_, j) => ramp.window(j)).reduce((s, w) => s + (w.toMs - w.fromMs), 0);
    expect(vuMs).toBeCloseTo(50_000, 6);
  });
});
