import { describe, expect, it } from 'vitest';
import type { ReplicaCountResult } from './count-search.js';
import { crossCheck, modelMisses } from './cross-check.js';

const count = (replicas: number, knee: number | null, firstFailure: number | null = knee === null ? null : knee * 1.05): ReplicaCountResult => ({
  replicas, knee, kneeStep: null, kneeRps: null, firstFailure, kneeConfidence: 'settled', outcome: 'converged', generatorLimited: false,
  contradictions: [], remeasured: false, diagnosis: null, atKnee: null, steps: [], elapsedSec: 0, warnings: [],
});

describe('crossCheck', () => {
  it('accepts linear and sub-linear scaling and small falls', () => {
    expect(crossCheck([count(1, 100), count(2, 200), count(4, 350), count(8, 330)])).toEqual([]);
  });

  it('calls more than 2.2x per doubling super-linear, allowing for the brackets', () => {
    const d = crossCheck([count(1, 19.4, 20), count(2, 465)]);
    expect(d).toEqual([{ kind: 'superlinear', replicas: [1, 2], text: expect.stringMatching(/2 replicas sustained 465 it\/s, 23.3x the 20 it\/s that failed with 1/) as unknown }]);
    // 2.3x the knee but within 2.2x of the first failure: not called.
    expect(crossCheck([count(1, 100, 110), count(2, 230)])).toEqual([]);
  });

  it('calls a fall beyond the noise allowance', () => {
    expect(crossCheck([count(1, 31), count(2, 18), count(4, 6)]).map((d) => [d.kind, d.replicas])).toEqual([['falls', [1, 2]], ['falls', [2, 4]]]);
  });

  it('calls a knee far above a count where nothing passed super-linear', () => {
    const d = crossCheck([{ ...count(1, null), firstFailure: 5, outcome: 'nothingPassed' }, count(2, 320)]);
    expect(d.map((x) => x.kind)).toEqual(['superlinear']);
    expect(d[0]!.text).toMatch(/the 5 it\/s that failed with 1 \(where nothing passed\)/);
  });

  it('leaves out counts with neither a knee nor a failure', () => {
    expect(crossCheck([count(1, null), count(2, 400)])).toEqual([]);
  });

  it('calls nothing passing with more replicas a fall', () => {
    const d = crossCheck([count(1, 100), { ...count(2, null), firstFailure: 6.25, outcome: 'nothingPassed' }]);
    expect(d).toEqual([{ kind: 'falls', replicas: [1, 2], text: 'nothing passed with 2 replicas (down to 6.3 it/s), while 1 sustained 100 it/s' }]);
  });
});

describe('modelMisses', () => {
  it('names counts whose bracket, widened by 10%, the model misses', () => {
    const linear = { sigma: 0, kappa: 0, lambda: 100 };
    expect(modelMisses([count(1, 100), count(2, 195)], linear)).toEqual([]);
    expect(modelMisses([count(1, 100), count(2, 150)], linear)).toEqual(['the model gives 200 it/s at 2 replicas, where 150–157.5 it/s was measured']);
  });
});
