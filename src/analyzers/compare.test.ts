import { describe, expect, it } from 'vitest';
import { encodeHistogram, newHistogram, recordMs } from '../engine/latency-histogram.js';
import { compareResults, parseRegressionLimits, type RegressionLimit } from './compare.js';
import type { RunResult } from './run-result.js';

/** A run whose endpoints recorded the given latencies (ms); rps = requests per 10 s. */
function run(endpoints: Record<string, { latencies: number[]; errors?: number }>): RunResult {
  const histograms: Record<string, string> = {};
  const list = Object.entries(endpoints).map(([name, e]) => {
    const h = newHistogram();
    for (const ms of e.latencies) recordMs(h, ms);
    histograms[name] = encodeHistogram(h);
    const requests = e.latencies.length;
    return { name, method: 'GET', requests, errors: e.errors ?? 0, errorRate: (e.errors ?? 0) / requests, rps: requests / 10 };
  });
  const requests = list.reduce((a, e) => a + e.requests, 0);
  const errors = list.reduce((a, e) => a + e.errors, 0);
  return { endpoints: list, histograms, totals: { requests, errors, errorRate: errors / requests, rps: requests / 10 } } as unknown as RunResult;
}

const limits = (text: string): RegressionLimit[] => {
  const l = parseRegressionLimits(text);
  if (typeof l === 'string') throw new Error(l);
  return l;
};
const uniform = (n: number, from: number, to: number): number[] => Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));

describe('parseRegressionLimits', () => {
  it('reads relative limits, percentage points and drops', () => {
    expect(limits('p99=10%, error_rate=0.5pp ,rps=-5%')).toEqual([
      { text: 'p99=10%', metric: 'p99', kind: 'relative', amount: 0.1 },
      { text: 'error_rate=0.5pp', metric: 'error_rate', kind: 'points', amount: 0.005 },
      { text: 'rps=-5%', metric: 'rps', kind: 'relative', amount: 0.05 },
    ]);
  });

  it.each([
    ['p99', /expected <metric>=<amount>%/],
    ['p98=10%', /unknown metric "p98"/],
    ['p99=10pp', /percentage points \(pp\) are for error_rate/],
    ['p99=10ms', /expected/],
    ['p99=-10%', /as a positive amount \(a rise\), e.g. p99=10%/],
    ['', /no limits/],
  ])('%j is refused', (text, message) => {
    expect(parseRegressionLimits(text)).toMatch(message);
  });
});

describe('compareResults', () => {
  const base = run({ a: { latencies: uniform(1000, 10, 20) }, b: { latencies: uniform(1000, 100, 200), errors: 10 } });

  it('takes percentiles from the histograms, merged for the total', () => {
    const cmp = compareResults(base, base, []);
    expect(cmp.rows.map((r) => r.scope)).toEqual(['a', 'b', 'total']);
    const total = cmp.rows[2]!.baseline!;
    // Half the samples are 10-20 ms and half 100-200 ms: the total's p50 sits at the top of the first half.
    expect(total.latencyMs.p50).toBeCloseTo(20, 0);
    expect(total.latencyMs.p99).toBeCloseTo(198, 0);
    expect(cmp.passed).toBe(true);
  });

  it('a p99 10% worse than allowed fails, within the limit passes', () => {
    const slower = run({ a: { latencies: uniform(1000, 10, 20) }, b: { latencies: uniform(1000, 100, 230), errors: 10 } });
    // b's p99: 199 ms → 228.7 ms (+14.9%).
    const strict = compareResults(base, slower, limits('p99=10%'));
    expect(strict.passed).toBe(false);
    const failed = strict.checks.filter((c) => !c.ok).map((c) => c.scope);
    expect(failed).toContain('b');
    expect(failed).not.toContain('a');
    const b = strict.checks.find((c) => c.scope === 'b')!;
    expect(b.allowed).toBeCloseTo(b.baseline * 1.1, 6);
    expect(b.message).toMatch(/^p99 \(b\): 199ms → 22\d(\.\d)?ms \(\+1\d\.\d%\), allowed up to 21\d(\.\d)?ms \(p99=10%\)$/);
    expect(compareResults(base, slower, limits('p99=20%')).passed).toBe(true);
  });

  it('error rate in percentage points, rps as a drop', () => {
    const worse = run({ a: { latencies: uniform(900, 10, 20), errors: 9 }, b: { latencies: uniform(1000, 100, 200), errors: 10 } });
    // a: 0% → 1% errors (+1pp); rps 100 → 90 (−10%).
    const cmp = compareResults(base, worse, limits('error_rate=0.5pp,rps=-5%'));
    const a = cmp.checks.filter((c) => c.scope === 'a');
    expect(a.map((c) => [c.metric, c.ok])).toEqual([['error_rate', false], ['rps', false]]);
    expect(a[0]!.allowed).toBeCloseTo(0.005, 10);
    expect(a[1]!.allowed).toBeCloseTo(95, 10);
    expect(compareResults(base, worse, limits('error_rate=1pp,rps=-10%')).checks.filter((c) => c.scope === 'a').every((c) => c.ok)).toBe(true);
  });

  it('an endpoint the current run never reached fails; a new one is not gated', () => {
    // b vanished (a flow now failing before it), c is new, a kept its baseline's 1000 requests' worth of gating.
    const other = run({ a: { latencies: uniform(50, 10, 20) }, c: { latencies: uniform(1000, 1, 2) } });
    const cmp = compareResults(base, other, limits('p99=10%'));
    expect(cmp.notGated).toEqual([{ scope: 'c', why: 'new in the current run' }]);
    const b = cmp.checks.find((c) => c.scope === 'b')!;
    expect(b).toMatchObject({ metric: 'requests', ok: false, baseline: 1000, current: 0 });
    expect(b.message).toBe('requests (b): 1000 → 0: the current run never reached it');
    expect(cmp.passed).toBe(false);
    expect(cmp.checks.map((c) => c.scope)).toEqual(['a', 'b', 'total']);
  });

  it('does not gate endpoints with too few requests in the baseline', () => {
    const small = run({ a: { latencies: uniform(50, 10, 20) } });
    const cmp = compareResults(small, run({ a: { latencies: uniform(50, 100, 200) } }), limits('p99=10%'));
    expect(cmp.notGated).toEqual([{ scope: 'a', why: 'fewer than 100 requests in the baseline' }]);
    // The total is always gated.
    expect(cmp.checks.map((c) => [c.scope, c.ok])).toEqual([['total', false]]);
  });

  it('keeps an endpoint named "total" apart from the run total', () => {
    const named = run({ total: { latencies: uniform(1000, 10, 20) }, other: { latencies: uniform(1000, 100, 200) } });
    const cmp = compareResults(named, named, []);
    expect(cmp.rows.map((r) => [r.scope, r.total])).toEqual([['total', false], ['other', false], ['total', true]]);
    expect(cmp.rows[0]!.baseline!.latencyMs.p99).toBeLessThan(21);
    expect(cmp.rows[2]!.baseline!.latencyMs.p99).toBeGreaterThan(190);
  });
});
