import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHistogram, encodeHistogram, mergeEncoded, newHistogram, recordMs, summarizeHistogram } from './latency-histogram.js';

describe('latency histograms', () => {
  it('keep microseconds: 50.4 ms is not rounded to 50 ms', () => {
    const h = newHistogram();
    recordMs(h, 50.4);
    expect(summarizeHistogram(h).p50).toBeCloseTo(50.4, 1);
  });

  it('property: merging encoded shards gives exactly the percentiles of recording everything in one', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.double({ min: 0.001, max: 60_000, noNaN: true }), { minLength: 1, maxLength: 200 }), { minLength: 1, maxLength: 4 }), (shards) => {
        const all = newHistogram();
        const encoded = shards.map((values) => {
          const h = newHistogram();
          for (const v of values) {
            recordMs(h, v);
            recordMs(all, v);
          }
          return encodeHistogram(h);
        });
        const merged = mergeEncoded(encoded);
        expect(merged.totalCount).toBe(all.totalCount);
        expect(summarizeHistogram(merged)).toEqual(summarizeHistogram(all));
      }),
      { numRuns: 50 },
    );
  });

  it('property: percentiles are within 0.1% (3 significant digits) of the exact sorted value', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 10_000_000 }), { minLength: 1, maxLength: 500 }), fc.constantFrom(50, 90, 99), (us, p) => {
        const h = newHistogram();
        for (const v of us) h.recordValue(v);
        const sorted = [...us].sort((a, b) => a - b);
        const exact = sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
        expect(Math.abs(h.getValueAtPercentile(p) - exact)).toBeLessThanOrEqual(exact * 0.001 + 1);
      }),
    );
  });

  it('round-trips through the standard compressed base64 encoding', () => {
    const h = newHistogram();
    for (let i = 1; i <= 1000; i++) recordMs(h, i / 10);
    expect(summarizeHistogram(decodeHistogram(encodeHistogram(h)))).toEqual(summarizeHistogram(h));
  });
});
