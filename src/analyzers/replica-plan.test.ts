import { describe, expect, it } from 'vitest';
import { planReplicas, scalingModel } from './replica-plan.js';
import { uslThroughput } from './usl.js';

const exact = (p: { sigma: number; kappa: number; lambda: number }, ns: number[]): { n: number; x: number }[] => ns.map((n) => ({ n, x: uslThroughput(p, n) }));

describe('scalingModel', () => {
  it('fits the USL with 3 or more replica counts', () => {
    const m = scalingModel(exact({ sigma: 0.05, kappa: 0.002, lambda: 100 }, [1, 2, 3, 4, 6, 8]));
    expect(m.kind).toBe('usl');
    expect(m.fit.sigma).toBeCloseTo(0.05, 3);
    expect(m.fit.kappa).toBeCloseTo(0.002, 4);
    expect(m.warnings).toEqual([]);
  });

  it("goes through both points with Amdahl's law when there are two counts", () => {
    const m = scalingModel(exact({ sigma: 0.1, kappa: 0, lambda: 200 }, [1, 3]));
    expect(m.kind).toBe('amdahl');
    expect(m.fit.sigma).toBeCloseTo(0.1, 10);
    expect(m.fit.lambda).toBeCloseTo(200, 8);
    expect(m.fit.kappa).toBe(0);
    expect(m.fit.peakConcurrency).toBe(Infinity);
    expect(m.fit.peakThroughput).toBeCloseTo(2000, 6);
    expect(m.warnings[0]).toMatch(/kappa/);
  });

  it('clamps superlinear pairs to sigma 0 and fits lambda by least squares', () => {
    const m = scalingModel([{ n: 1, x: 100 }, { n: 2, x: 210 }]);
    expect(m.fit.sigma).toBe(0);
    expect(m.fit.lambda).toBeCloseTo((100 + 420) / 5, 8);
  });

  it('assumes linear scaling from one count, and says so', () => {
    const m = scalingModel([{ n: 2, x: 300 }]);
    expect(m).toMatchObject({ kind: 'linear', fit: { sigma: 0, kappa: 0, lambda: 150 } });
    expect(m.warnings[0]).toMatch(/linear/);
  });
});

describe('planReplicas', () => {
  const model = scalingModel(exact({ sigma: 0.05, kappa: 0.001, lambda: 100 }, [1, 2, 4, 8]));

  it('takes the fewest replicas covering peak × (1 + headroom), and min for the base', () => {
    // X(4) = 400 / (1 + 0.15 + 0.012) = 344.2; X(5) = 500 / (1 + 0.2 + 0.02) = 409.8.
    const p = planReplicas({ model, peakRate: 320, baseRate: 64, headroom: 0.25 });
    expect(p).toMatchObject({ feasible: true, replicas: 5, minReplicas: 1, maxReplicas: 5, requiredRate: 400 });
    expect(p.modelledRate).toBeCloseTo(409.8, 0);
    expect(p.arithmetic.join('\n')).toMatch(/X\(5\) = 410\/s >= 400\/s, X\(4\) = 344\/s is not/);
  });

  it('refuses a peak beyond what the model can reach before N*', () => {
    // N* = sqrt(0.95 / 0.001) = 30.8, X(N*) = 903.8.
    const p = planReplicas({ model, peakRate: 2000, baseRate: 100, headroom: 0.25 });
    expect(p.feasible).toBe(false);
    expect(p.reason).toMatch(/peak is 904\/s at 30\.8 replicas/);
  });

  it('warns when the answer is beyond twice the largest measured count', () => {
    const p = planReplicas({ model, peakRate: 650, baseRate: 100, headroom: 0.25 });
    expect(p.feasible).toBe(true);
    // 650 × 1.25 = 812.5: X(16) = 804.0, X(17) = 820.5.
    expect(p.replicas).toBe(17);
    expect(p.warnings.join()).toMatch(/twice the largest measured count/);
  });
});
