import { describe, expect, it } from 'vitest';
import type { RunResult } from '../analyzers/run-result.js';
import { achievedRatio, judgeStep, tailCriteria, type MeasuredWindow, type SecondCounts } from './step-verdict.js';

/** The parts of a RunResult a step verdict reads. */
function result(opts: { achieved: number[]; p50Ms?: number; thresholds?: RunResult['thresholds']; dropped?: number; aborted?: boolean }): RunResult {
  return {
    loadDurationSec: opts.achieved.length,
    aborted: opts.aborted ?? false,
    flows: [{ durationMs: { p50: opts.p50Ms ?? 300 } }],
    timeseries: opts.achieved.map((a, t) => ({ t, achievedRps: a })),
    thresholds: opts.thresholds ?? [],
    totals: { droppedIterations: opts.dropped ?? 0, requests: 300, errors: 0, rps: 100, errorRate: 0, latencyMs: { p50: 5, p95: 9, p99: 12 }, iterations: { iterations: 100 } },
    generator: { saturated: false },
    telemetry: {},
    histograms: {},
    endpoints: [],
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

/** A window whose thresholds hold, with per-second counts of answers slower than 100 ms. */
const window = (achieved: number[], slower: number[], perSecond = 100, extra: Parameters<typeof result>[0] = { achieved }): MeasuredWindow => ({
  result: result({ ...extra, achieved }),
  seconds: slower.map((k): SecondCounts => ({ samples: perSecond, errors: 0, timed: perSecond, slower: { '100': k } })),
});
const p99 = tailCriteria(['p99<100ms']);

describe('judgeStep', () => {
  it('passes when the tail is settled within the allowance, 95% was achieved and nothing was dropped', () => {
    // 2000 answers, 2 slower than 100 ms: 0.1%, 95% interval about 0.03–0.36%, under the 1% a p99 allows.
    const v = judgeStep([window(Array(20).fill(100), Array(20).fill(0).map((_, i) => (i % 10 === 0 ? 1 : 0)))], 100, 1, 'bisect', p99);
    expect(v).toMatchObject({ verdict: 'pass', passed: true, reasons: [], measuredSec: 20, windows: 1 });
    expect(v.evidence[0]).toMatchObject({ samples: 2000, exceed: 2, verdict: 'pass' });
    expect(v.evidence[0]!.high).toBeLessThan(0.01);
  });

  it('is undecided with too few samples to tell, leaning to the side the share falls on', () => {
    // 300 answers, 2 slow (0.67%): the interval (0.2–2.4%) straddles 1%.
    const v = judgeStep([window([100, 100, 100], [1, 0, 1])], 100, 1, 'bisect', p99);
    expect(v).toMatchObject({ verdict: 'undecided', passed: true });
    expect(v.reasons[0]).toMatch(/^undecided p99<100ms: 0.67% of 300 slower than 100ms \(95% CI 0\.\d+%–2\.\d+%, 1% allowed\)/);
  });

  it('pools the windows of an extended step', () => {
    const one = window(Array(3).fill(100), [1, 0, 1]);
    const v = judgeStep([one, window(Array(20).fill(100), Array(20).fill(0))], 100, 1, 'bisect', p99);
    expect(v).toMatchObject({ verdict: 'pass', windows: 2, measuredSec: 23 });
    expect(v.evidence[0]).toMatchObject({ samples: 2300, exceed: 2 });
  });

  it('widens the interval when slow answers come in bursts (a stall), so one burst does not decide', () => {
    // 3% slow either way; spread evenly it is a settled failure, all in one second it is not.
    const even = judgeStep([window(Array(20).fill(100), Array(20).fill(3))], 100, 1, 'bisect', p99);
    const burst = judgeStep([window(Array(20).fill(100), [60, ...Array(19).fill(0)])], 100, 1, 'bisect', p99);
    expect(even.verdict).toBe('fail');
    expect(burst.evidence[0]!.effectiveSamples).toBeLessThan(even.evidence[0]!.effectiveSamples / 10);
    expect(burst.verdict).toBe('undecided');
    expect(burst.passed).toBe(false);
  });

  it('fails outright on value criteria, listing every reason with actual values in their units', () => {
    const v = judgeStep([window([50, 90, 90, 90], [0, 0, 0, 0], 100, {
      achieved: [], dropped: 12,
      thresholds: [{ expression: 'cpu.max<80%', scope: undefined, metric: 'cpu.max', actual: 91.5, limit: 80, ok: false }],
    })], 100, 1, 'bisect', p99);
    expect(v.verdict).toBe('fail');
    expect(v.passed).toBe(false);
    expect(v.reasons).toEqual([
      'cpu.max<80% (actual 91.5%)',
      'achieved 90% of the offered rate (< 95%)',
      '12 iterations dropped (in-flight cap reached)',
    ]);
  });

  it('fails a tail criterion with no samples: an endpoint never reached does not pass', () => {
    const v = judgeStep([window([100, 100, 100], [0, 0, 0])], 100, 1, 'bisect', tailCriteria(['nowhere: p99<100ms']));
    expect(v).toMatchObject({ verdict: 'fail', passed: false, reasons: ['nowhere: p99<100ms: no samples (nothing was measured for it)'] });
  });

  it('marks a tail threshold ok by its pooled evidence, not by one window\'s percentile', () => {
    const thresholds = [{ expression: 'p99<100ms', scope: undefined, metric: 'p99' as const, actual: 130, limit: 100, ok: false }];
    const v = judgeStep([window(Array(20).fill(100), Array(20).fill(0), 100, { achieved: [], thresholds })], 100, 1, 'bisect', p99);
    expect(v.verdict).toBe('pass');
    expect(v.thresholds).toEqual([{ ...thresholds[0], ok: true }]);
  });

  it('leaves a step just short of the achieved line undecided, leaning to fail', () => {
    const v = judgeStep([window([93, 93, 93, 93], Array(4).fill(0), 1000)], 100, 1, 'bisect', []);
    expect(v).toMatchObject({ verdict: 'undecided', passed: false });
    expect(v.reasons[0]).toMatch(/close to the line: achieved 93%/);
  });
});

describe('tailCriteria', () => {
  it('counts percentiles below a limit and error rates; other thresholds are judged on their value', () => {
    expect(tailCriteria(['p99 < 200ms', 'checkout: p95 <= 1s', 'error_rate < 1%', 'max < 1s', 'p99 > 1ms', 'cache_hit_ratio > 80%', 'rps > 10'])).toEqual([
      { expression: 'p99 < 200ms', scope: undefined, kind: 'latency', limitMs: 200, allowed: 0.01, strict: true },
      { expression: 'checkout: p95 <= 1s', scope: 'checkout', kind: 'latency', limitMs: 1000, allowed: 0.05, strict: false },
      { expression: 'error_rate < 1%', scope: undefined, kind: 'errors', limitMs: 0, allowed: 0.01, strict: true },
    ]);
  });

  it('any percentile allows its own share (k6 spellings too); iterations of every flow, checks and counts are judged on their value', () => {
    expect(tailCriteria(['p(99.99)<500', 'p75 < 1s', 'checkout: p(97.5) <= 80', 'http_req_failed: rate<0.01', 'iteration_duration{flow:buy}: p(90)<2000',
      'iteration_duration: p(95)<1000', 'p(100)<1000', 'checks > 99%', 'count < 10', 'p95 == 1s'])).toEqual([
      { expression: 'p(99.99)<500', scope: undefined, kind: 'latency', limitMs: 500, allowed: 0.0001, strict: true },
      { expression: 'p75 < 1s', scope: undefined, kind: 'latency', limitMs: 1000, allowed: 0.25, strict: true },
      { expression: 'checkout: p(97.5) <= 80', scope: 'checkout', kind: 'latency', limitMs: 80, allowed: 0.025, strict: false },
      { expression: 'http_req_failed: rate<0.01', scope: undefined, kind: 'errors', limitMs: 0, allowed: 0.01, strict: true },
      { expression: 'iteration_duration{flow:buy}: p(90)<2000', scope: 'buy', kind: 'latency', limitMs: 2000, allowed: 0.1, strict: true },
    ]);
  });
});
