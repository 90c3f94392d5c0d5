import { describe, expect, it } from 'vitest';
import { TEMPLATE_HELPERS } from './template-helpers.js';

const zipf = (n: number, s: number): number => TEMPLATE_HELPERS.zipf!.fn([n, s]) as number;

describe('zipf(n, s)', () => {
  it.each([[10, 1], [10, 0], [10, 2.5], [7, 0.5], [1000, 1.2], [2, 8]])('n = %d, s = %d: each of the first 10 values is drawn at its share 1/k^s within 5 sigma', (n, s) => {
    const draws = 40_000;
    const counts = new Map<number, number>();
    let outside = 0;
    for (let i = 0; i < draws; i++) {
      const k = zipf(n, s);
      if (!Number.isInteger(k) || k < 1 || k > n) outside++;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect(outside).toBe(0);
    let norm = 0;
    for (let k = 1; k <= n; k++) norm += k ** -s;
    for (let k = 1; k <= Math.min(n, 10); k++) {
      const p = k ** -s / norm;
      const sigma = Math.sqrt((p * (1 - p)) / draws);
      expect(Math.abs((counts.get(k) ?? 0) / draws - p)).toBeLessThanOrEqual(5 * sigma + 1e-9);
    }
  });

  it('keeps no table: new (n, s) pairs, even with n = 10^7, take no memory', () => {
    const before = process.memoryUsage();
    // Each pair once needed an 80 MB table, kept for the rest of the run.
    for (let i = 0; i < 8; i++) for (let j = 0; j < 100; j++) zipf(10_000_000, 1 + i / 100);
    const after = process.memoryUsage();
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(10e6);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(50e6);
  });

  it('rejects an n past 10^7 and a bad exponent', () => {
    expect(() => zipf(20_000_000, 1)).toThrow(/n must be 1..10000000/);
    expect(() => zipf(10, -1)).toThrow(/s must be a number >= 0/);
    expect(() => zipf(10, Infinity)).toThrow(/s must be a number >= 0/);
  });
});
