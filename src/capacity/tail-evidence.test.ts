import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { overdispersion, tailEvidence, wilsonInterval, zForLooks } from './tail-evidence.js';

describe('wilsonInterval', () => {
  it('matches published Wilson score intervals', () => {
    // 8 of 20 at 95%: 0.2188–0.6134, worked by hand from the score formula.
    const a = wilsonInterval(8, 20);
    expect(a.low).toBeCloseTo(0.2188, 4);
    expect(a.high).toBeCloseTo(0.6134, 4);
    // 0 of 10: 0–0.2775.
    const b = wilsonInterval(0, 10);
    expect(b.low).toBe(0);
    expect(b.high).toBeCloseTo(0.2775, 4);
  });

  it('always holds the observed share and stays within [0, 1]', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, share) => {
      const k = Math.round(share * n);
      const { low, high } = wilsonInterval(k, n);
      return low >= 0 && high <= 1 && low <= k / n + 1e-12 && high >= k / n - 1e-12;
    }));
  });
});

describe('overdispersion', () => {
  it('is 1 for evenly spread exceedances and large for a burst', () => {
    expect(overdispersion(Array.from({ length: 10 }, () => ({ samples: 100, exceed: 2 })))).toBe(1);
    expect(overdispersion([{ samples: 100, exceed: 20 }, ...Array.from({ length: 9 }, () => ({ samples: 100, exceed: 0 }))])).toBeGreaterThan(15);
  });

  it('says nothing with fewer than 3 batches', () => {
    expect(overdispersion([{ samples: 100, exceed: 20 }, { samples: 100, exceed: 0 }])).toBe(1);
  });

  it('pools seconds with few expected exceedances, so a rare slow answer does not look like a burst', () => {
    // 0.3% slow, 100 answers a second for 60 s: one slow answer in a second alone would inflate chi-square.
    const seconds = Array.from({ length: 60 }, (_, i) => ({ samples: 100, exceed: i % 12 === 0 ? 1 : 0 }));
    seconds[59] = { samples: 9, exceed: 1 };
    expect(overdispersion(seconds)).toBeLessThan(2);
  });
});

describe('zForLooks', () => {
  it('spends the 2.5% each side may be wrong over the looks', () => {
    expect(zForLooks(1)).toBeCloseTo(1.96, 2);
    expect(zForLooks(3)).toBeCloseTo(2.39, 2);
  });
});

describe('tailEvidence', () => {
  it('decides only when the interval is wholly on one side of the allowance', () => {
    expect(tailEvidence('p99<1s', 0.01, 10_000, 10).verdict).toBe('pass');
    expect(tailEvidence('p99<1s', 0.01, 10_000, 300).verdict).toBe('fail');
    // p99 of 500 samples with 5 past the limit: a coin toss.
    expect(tailEvidence('p99<1s', 0.01, 500, 5).verdict).toBe('undecided');
    // No exceedance at all still needs about 3.84 / 1% = 384 samples to pass.
    expect(tailEvidence('p99<1s', 0.01, 300, 0).verdict).toBe('undecided');
    expect(tailEvidence('p99<1s', 0.01, 400, 0).verdict).toBe('pass');
    // Nothing measured must not pass.
    expect(tailEvidence('p99<1s', 0.01, 0, 0).verdict).toBe('fail');
  });

  it('is right at its stated confidence on independent samples (simulated)', () => {
    // A true share at the allowance's edge either way: a decided verdict on the wrong side
    // must be rare (each side holds at 97.5%), whatever the sample size.
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let wrong = 0;
    let trials = 0;
    for (const [share, wrongVerdict] of [[0.008, 'fail'], [0.012, 'pass']] as const) {
      for (const n of [500, 2000, 8000]) {
        for (let t = 0; t < 200; t++) {
          let k = 0;
          for (let i = 0; i < n; i++) if (random() < share) k++;
          trials++;
          if (tailEvidence('p99', 0.01, n, k).verdict === wrongVerdict) wrong++;
        }
      }
    }
    expect(wrong / trials).toBeLessThan(0.025);
  });
});
