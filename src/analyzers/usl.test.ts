import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitUsl, forecastUsl, uslThroughput, type UslPoint } from './usl.js';

function fixture(name: string): UslPoint[] {
  const text = readFileSync(new URL(`../../test/fixtures/usl/${name}`, import.meta.url), 'utf8');
  const rows = text.split('\n').filter((l) => l.trim() && !l.startsWith('#')).slice(1);
  return rows.map((l) => {
    const [n, x] = l.split(',').map(Number);
    return { n: n!, x: x! };
  });
}

const relErr = (actual: number, expected: number): number => Math.abs(actual - expected) / Math.abs(expected);

/*
 * Published fits from the R package `usl` (Stefan Möding, CRAN; github.com/smoeding/usl).
 *
 * Like with like: usl 2.x fits the same three-parameter model as we do, by
 * nonlinear least squares with lambda free, but names the coefficients
 * alpha (= our sigma), beta (= our kappa) and gamma (= our lambda, the
 * throughput at N = 1, in the data's unit). usl 1.x (and the README) called
 * them sigma and kappa and by default divided the throughput by the measured
 * X(1), fixing lambda = X(1), and fitted Gunther's polynomial transform: its
 * specsdm91 result (sigma 1.705e-02, kappa 7.892e-05) answers a different
 * question and is not compared here.
 *
 * The data sets ship only as binary .rda files. Their values are those of
 * Gunther, Guerrilla Capacity Planning (Springer 2007), the source the package
 * names, and are pinned by the package's own saved test output:
 * - specsdm91: fitted + residuals in tests/t03.Rout.save (commit 1706c2d0) add up
 *   to every throughput to the 0.1 printed; efficiency and residuals in
 *   tests/efficiency.Rout.save and tests/residuals.Rout.save (commit 0c22191b) agree.
 * - raytracer: reproduces the published fits below to their printed digits, and
 *   (checked by hand when the fixture was made) usl 1.x's polynomial fit in
 *   tests/t05.Rout.save, commit 237258f7, sigma 0.05002394 and kappa 0.00000471.
 */
describe('fitUsl against published fits (R package usl)', () => {
  it('specsdm91: sigma, kappa, lambda, standard errors and R² of usl 2.x', () => {
    // tests/usl-nlxb.Rout.save and tests/summary.Rout.save, commit 0c22191b922e23377433cefc71a4ee1fc1d39e9a:
    //   alpha 0.0277285 (SE 0.0091217), beta 0.0001044 (SE 0.0000199), gamma 89.9952330 (SE 14.2134894),
    //   residual standard error 82.85 on 4 degrees of freedom, multiple R-squared 0.9896.
    const fit = fitUsl(fixture('specsdm91.csv'));
    expect(relErr(fit.sigma, 0.0277285)).toBeLessThan(0.01);
    expect(relErr(fit.kappa, 0.0001044)).toBeLessThan(0.01);
    expect(relErr(fit.lambda, 89.995233)).toBeLessThan(0.01);
    expect(relErr(fit.stdErrors.sigma!, 0.0091217)).toBeLessThan(0.01);
    expect(relErr(fit.stdErrors.kappa!, 0.0000199)).toBeLessThan(0.01);
    expect(relErr(fit.stdErrors.lambda!, 14.2134894)).toBeLessThan(0.01);
    expect(fit.dof).toBe(4);
    expect(Math.sqrt(fit.sse / fit.dof)).toBeCloseTo(82.85, 1);
    expect(fit.r2).toBeCloseTo(0.9896, 4);
    // Where the package's peak.scalability() puts it: signif(..., 2) = 97 (tests/peak-scalability.Rout.save).
    expect(Number(fit.peakConcurrency.toPrecision(2))).toBe(97);
    expect(fit.peakThroughput).toBeCloseTo(uslThroughput(fit, fit.peakConcurrency), 9);
    // The 95% interval uses t(0.975, 4) = 2.7764451052.
    expect(relErr(fit.ci95.kappa![1] - fit.kappa, 2.7764451052 * fit.stdErrors.kappa!)).toBeLessThan(1e-9);
  });

  it('raytracer: kappa on its bound is exactly 0, so there is no peak', () => {
    // tests/confint.Rout.save, commit 0c22191b922e23377433cefc71a4ee1fc1d39e9a: alpha 0.0578, beta 0.0000,
    // gamma 21.8488; beta's interval is symmetric about 0 (±0.000214): the port algorithm left it on its bound.
    // (That file's intervals are not compared: its confint() multiplies by qt(level, df), a one-sided 95%
    // quantile, and 8 points are not enough for its bounds either way.)
    const fit = fitUsl(fixture('raytracer.csv'));
    expect(relErr(fit.sigma, 0.0578)).toBeLessThan(0.01);
    expect(fit.kappa).toBe(0);
    expect(relErr(fit.lambda, 21.8488)).toBeLessThan(0.01);
    expect(fit.peakConcurrency).toBe(Infinity);
    expect(fit.peakThroughput).toBeCloseTo(fit.lambda / fit.sigma, 9);
    expect(forecastUsl(fit, 128)).toEqual({ ok: true, n: 128, throughput: expect.any(Number) });
    expect(forecastUsl(fit, 129)).toMatchObject({ ok: true, warning: expect.stringContaining('(64)') });
  });

  it('raytracer, first 5 rows: matches to the digits printed', () => {
    // tests/warn-accuracy.Rout.save, commit 0c22191b: alpha 0.028, beta 0.001, gamma 21.059 (printed to 3
    // decimals, so compared to within half of the last digit rather than 1%).
    const fit = fitUsl(fixture('raytracer.csv').slice(0, 5));
    expect(Math.abs(fit.sigma - 0.028)).toBeLessThanOrEqual(0.0005);
    expect(Math.abs(fit.kappa - 0.001)).toBeLessThanOrEqual(0.0005);
    expect(Math.abs(fit.lambda - 21.059)).toBeLessThanOrEqual(0.0005);
  });

  it('data with no measurement at one client: lambda is fitted, not read off X(1)', () => {
    // Data and result both printed in tests/fail-normalization.Rout.save, commit 215936c5f62ea6f6002f842f0c7f2cc999621bd2:
    // alpha 0.0418302, beta 0.0004091, scale factor (gamma) 12.67, multiple R-squared 0.9683.
    const fit = fitUsl(fixture('no-single-client.csv'));
    expect(relErr(fit.sigma, 0.0418302)).toBeLessThan(0.01);
    expect(relErr(fit.kappa, 0.0004091)).toBeLessThan(0.01);
    expect(relErr(fit.lambda, 12.67)).toBeLessThan(0.01);
    expect(fit.r2).toBeCloseTo(0.9683, 4);
  });
});

describe('fitUsl', () => {
  const ns = Array.from({ length: 16 }, (_, i) => i + 1);

  it('exact Amdahl data (kappa = 0): kappa is exactly 0 and the peak is Infinity, not NaN', () => {
    const fit = fitUsl(ns.map((n) => ({ n, x: uslThroughput({ sigma: 0.05, kappa: 0, lambda: 50 }, n) })));
    expect(fit.kappa).toBe(0);
    expect(fit.peakConcurrency).toBe(Infinity);
    expect(fit.sigma).toBeCloseTo(0.05, 9);
    expect(fit.peakThroughput).toBeCloseTo(1000, 6);
    expect(fit.r2).toBe(1);
  });

  it('linear data: sigma and kappa are 0, peak concurrency and throughput are Infinity', () => {
    const fit = fitUsl(ns.slice(0, 8).map((n) => ({ n, x: 7 * n })));
    expect(fit).toMatchObject({ sigma: 0, kappa: 0, peakConcurrency: Infinity, peakThroughput: Infinity });
    expect(fit.lambda).toBeCloseTo(7, 9);
    expect(forecastUsl(fit, 100)).toMatchObject({ ok: true, throughput: expect.closeTo(700, 6), warning: expect.any(String) });
  });

  it('recovers the modelled throughput of exact data', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.double({ min: 0, max: 0.01, noNaN: true }),
        fc.double({ min: 1, max: 1000, noNaN: true }),
        (sigma, kappa, lambda) => {
          const truth = { sigma, kappa, lambda };
          const fit = fitUsl(ns.map((n) => ({ n, x: uslThroughput(truth, n) })));
          for (const n of ns) expect(relErr(uslThroughput(fit, n), uslThroughput(truth, n))).toBeLessThan(1e-3);
          expect(Number.isNaN(fit.peakConcurrency)).toBe(false);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('repeated concurrency values count as separate points', () => {
    const fit = fitUsl([1, 1, 2, 2, 4, 4].map((n, i) => ({ n, x: 10 * n + (i % 2 ? 0.5 : -0.5) })));
    expect(fit.pointCount).toBe(6);
    expect(fit.dof).toBe(3);
  });

  it('three points fit exactly with no standard errors or intervals', () => {
    const fit = fitUsl([1, 8, 32].map((n) => ({ n, x: uslThroughput({ sigma: 0.1, kappa: 0.002, lambda: 30 }, n) })));
    expect(fit.dof).toBe(0);
    expect(fit.stdErrors).toEqual({ sigma: null, kappa: null, lambda: null });
    expect(fit.ci95).toEqual({ sigma: null, kappa: null, lambda: null });
    expect(fit.kappa).toBeCloseTo(0.002, 8);
  });

  it('rejects too few distinct concurrency values and values out of range', () => {
    expect(() => fitUsl([{ n: 1, x: 1 }, { n: 2, x: 2 }, { n: 2, x: 2.1 }])).toThrow(/at least 3 distinct concurrency values, got 2/);
    expect(() => fitUsl([{ n: 1, x: 1 }, { n: -2, x: 2 }, { n: 3, x: 3 }])).toThrow(/point 2: concurrency/);
    expect(() => fitUsl([{ n: 1, x: 1 }, { n: 2, x: NaN }, { n: 3, x: 3 }])).toThrow(/point 2: throughput/);
    expect(() => fitUsl([{ n: 1, x: Infinity }, { n: 2, x: 2 }, { n: 3, x: 3 }])).toThrow(/point 1: throughput/);
    expect(() => fitUsl([1, 2, 3].map((n) => ({ n, x: 0 })))).toThrow(/every throughput is 0/);
  });
});

describe('forecastUsl', () => {
  // Peak at N* = sqrt(0.99 / 0.0001) ≈ 99.5; largest measured count 40.
  const fit = fitUsl([1, 5, 10, 20, 40].map((n) => ({ n, x: uslThroughput({ sigma: 0.01, kappa: 0.0001, lambda: 100 }, n) })));

  it('forecasts within the measured range without a warning', () => {
    const f = forecastUsl(fit, 30);
    expect(f).toEqual({ ok: true, n: 30, throughput: expect.closeTo(uslThroughput(fit, 30), 9) });
  });

  it('warns beyond twice the largest measured count', () => {
    expect(forecastUsl(fit, 80)).not.toHaveProperty('warning');
    expect(forecastUsl(fit, 81)).toMatchObject({ ok: true, warning: 'extrapolating beyond twice the largest measured count (40)' });
  });

  it('refuses past the peak N*', () => {
    expect(fit.peakConcurrency).toBeCloseTo(99.5, 1);
    const f = forecastUsl(fit, 150);
    expect(f.ok).toBe(false);
    expect(!f.ok && f.reason).toMatch(/^the model's throughput falls beyond N\*=99\.5/);
    expect(forecastUsl(fit, 0)).toMatchObject({ ok: false, reason: expect.stringContaining('positive') });
  });
});
