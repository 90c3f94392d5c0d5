import { describe, expect, it } from 'vitest';
import { CpuWindows } from './cpu-windows.js';

// A 10 s window sampled every second, for workers with a 500-millicore request.
const windows = () => new CpuWindows(10, 1, 0.5);

describe('CpuWindows', () => {
  it('measures over the last window only', () => {
    const w = windows();
    // 0.2 CPU s per s for t=0..10, then 0.4 CPU s per s: counters 2 at t=10, 6 at t=20
    for (let t = 0; t <= 20; t++) w.record(t, ['a'], new Map([['a', t <= 10 ? 0.2 * t : 2 + 0.4 * (t - 10)]]));
    // window t=10..20: (6 − 2) / 10 s / 0.5 cores = 0.8 (80% of the request)
    expect(w.utilization('a', 20)).toBeCloseTo(0.8, 9);
  });

  it('measures a worker ready for less than a window since its first sample, and not before one sample interval', () => {
    const w = windows();
    w.record(5, ['a'], new Map([['a', 1]]));
    expect(w.utilization('a', 5)).toBeUndefined();
    w.record(6, ['a'], new Map([['a', 1.25]]));
    // (1.25 − 1) / 1 s / 0.5 = 0.5
    expect(w.utilization('a', 6)).toBeCloseTo(0.5, 9);
  });

  it('starts over when a counter goes back, and forgets workers no longer ready', () => {
    const w = windows();
    w.record(0, ['a', 'b'], new Map([['a', 5], ['b', 1]]));
    w.record(1, ['a', 'b'], new Map([['a', 0.1], ['b', 1.5]]));
    expect(w.utilization('a', 1)).toBeUndefined();
    expect(w.utilization('b', 1)).toBeCloseTo(1, 9);
    w.record(2, ['a'], new Map([['a', 0.2]]));
    expect(w.utilization('b', 2)).toBeUndefined();
  });

  it('keeps what it had when a sample is missing, until the window has passed it', () => {
    const w = windows();
    w.record(0, ['a'], new Map([['a', 0]]));
    w.record(1, ['a'], new Map([['a', 0.5]]));
    w.record(2, ['a'], undefined);
    expect(w.utilization('a', 2)).toBeCloseTo(1, 9);
    expect(w.utilization('a', 12)).toBeUndefined();
  });
});
