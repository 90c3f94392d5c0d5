import { describe, expect, it } from 'vitest';
import type { RunResult } from './run-result.js';
import { achievedRatio, judgeStep } from './step-verdict.js';

/** The parts of a RunResult a step verdict reads. */
function result(opts: { achieved: number[]; p50Ms?: number; thresholds?: RunResult['thresholds']; dropped?: number; aborted?: boolean }): RunResult {
  return {
    loadDurationSec: opts.achieved.length,
    aborted: opts.aborted ?? false,
    flows: [{ durationMs: { p50: opts.p50Ms ?? 300 } }],
    timeseries: opts.achieved.map((a, t) => ({ t, achievedRps: a })),
    thresholds: opts.thresholds ?? [],
    totals: { droppedIterations: opts.dropped ?? 0, requests: 300, rps: 100, errorRate: 0, latencyMs: { p50: 5, p95: 9, p99: 12 }, iterations: { iterations: 100 } },
    generator: { saturated: false },
    telemetry: {},
  } as unknown as RunResult;
}

describe('achievedRatio', () => {
  it('skips the first seconds, as long as the median iteration, where completions still ramp up', () => {
    // Offered 100/s; second 0 finishes only 60 (iterations last ~0.3 s), then 100/s.
    expect(achievedRatio(result({ achieved: [60, 100, 100, 100, 100] }), 100)).toBe(1);
    // A 2.4 s median iteration: the first 3 seconds are skipped.
    expect(achievedRatio(result({ achieved: [0, 20, 60, 100, 100], p50Ms: 2400 }), 100)).toBe(1);
  });

  it('leaves at least one second to measure', () => {
    expect(achievedRatio(result({ achieved: [10, 50, 80], p50Ms: 10_000 }), 100)).toBe(0.8);
  });

  it('is low when the target falls behind', () => {
    expect(achievedRatio(result({ achieved: [60, 70, 70, 70] }), 100)).toBeCloseTo(0.7, 10);
  });
});

describe('judgeStep', () => {
  it('passes when thresholds hold, 95% was achieved and nothing was dropped', () => {
    expect(judgeStep(result({ achieved: [90, 96, 96, 96] }), 100, 1)).toMatchObject({ passed: true, reasons: [] });
  });

  it('lists every reason a step failed, with actual values in their units', () => {
    const v = judgeStep(result({
      achieved: [50, 90, 90, 90], dropped: 12,
      thresholds: [{ expression: 'p99<100ms', scope: undefined, metric: 'p99', actual: 1234.5, limit: 100, ok: false }, { expression: 'error_rate<1%', scope: undefined, metric: 'error_rate', actual: 0.034, limit: 0.01, ok: false }],
    }), 100, 1);
    expect(v.passed).toBe(false);
    expect(v.reasons).toEqual([
      'p99<100ms (actual 1.23s)',
      'error_rate<1% (actual 3.40%)',
      'achieved 90% of the offered rate (< 95%)',
      '12 iterations dropped (in-flight cap reached)',
    ]);
  });
});
