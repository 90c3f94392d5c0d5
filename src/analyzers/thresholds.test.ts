import { describe, expect, it } from 'vitest';
import { parseThreshold } from '../scenarios/threshold-expression.js';
import { defaultThresholdsFor, evaluateThresholds, formatActual, thresholdLabel, type CheckCounts, type MeasuredScope } from './thresholds.js';
import { newHistogram, recordMs, summarizeHistogram, type Histogram } from '../engine/latency-histogram.js';
import { DEFAULT_THRESHOLDS } from '../scenarios/schema.js';

const latency = { min: 1, mean: 20, p50: 15, p90: 40, p95: 60, p99: 120, p999: 300, max: 400 };
const total: MeasuredScope = { samples: 1000, latencyMs: latency, errorRate: 0.004, rps: 250 };

describe('thresholds', () => {
  it('parses metrics, units, percentages and scopes', () => {
    expect(parseThreshold('p99 < 200ms')).toMatchObject({ scope: undefined, metric: 'p99', op: '<', limit: 200 });
    expect(parseThreshold('max <= 1.5s')).toMatchObject({ metric: 'max', op: '<=', limit: 1500 });
    expect(parseThreshold('error_rate < 1%')).toMatchObject({ metric: 'error_rate', limit: 0.01 });
    expect(parseThreshold('error_rate < 0.05')).toMatchObject({ limit: 0.05 });
    expect(parseThreshold('rps >= 100')).toMatchObject({ metric: 'rps', op: '>=', limit: 100 });
    expect(parseThreshold('POST /api/checkout: p95 < 300ms')).toMatchObject({ scope: 'POST /api/checkout', metric: 'p95' });
    expect(parseThreshold('GET http://h:1/x: p95 < 3ms')).toMatchObject({ scope: 'GET http://h:1/x' });
    expect(parseThreshold('p99 < 200')).toMatch(/unit/);
    expect(parseThreshold('error_rate < 150%')).toMatch(/percentage/);
    expect(parseThreshold('p99 200ms')).toMatch(/expected/);
  });

  it('judges against the run, an endpoint or a flow', () => {
    const scopes = new Map<string, MeasuredScope>([['checkout', { samples: 25, latencyMs: { ...latency, p95: 500 }, errorRate: 0.2, rps: 5 }]]);
    const r = evaluateThresholds(['p99 < 200ms', 'p99 < 100ms', 'error_rate < 1%', 'rps > 300', 'checkout: p95 < 300ms', 'checkout: error_rate <= 20%'], total, scopes);
    expect(r.map((x) => [x.actual, x.ok])).toEqual([[120, true], [120, false], [0.004, true], [250, false], [500, false], [0.2, true]]);
  });

  it('no data fails with actual null: an unknown scope, a scope with no requests, an empty run', () => {
    const empty: MeasuredScope = { samples: 0, latencyMs: { min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 }, errorRate: 0, rps: 0 };
    const r = evaluateThresholds(['ghost: p99 < 1s', 'idle: p99 < 1ms', 'idle: error_rate < 1%'], total, new Map([['idle', empty]]));
    for (const x of r) expect(x).toMatchObject({ actual: null, ok: false });
    expect(evaluateThresholds(['p99 < 1ms'], empty, new Map())[0]).toMatchObject({ actual: null, ok: false });
  });

  it('dropped_iterations and dropped_rate: counted over the run\'s arrivals, never scoped', () => {
    expect(parseThreshold('dropped_rate <= 5%')).toMatchObject({ metric: 'dropped_rate', op: '<=', limit: 0.05 });
    expect(parseThreshold('dropped_rate < 0.02')).toMatchObject({ limit: 0.02 });
    expect(parseThreshold('dropped_iterations < 10')).toMatchObject({ metric: 'dropped_iterations', limit: 10 });
    expect(parseThreshold('dropped_iterations < 1.5')).toMatch(/whole number/);
    expect(parseThreshold('dropped_rate < 150%')).toMatch(/percentage/);
    expect(parseThreshold('buy: dropped_rate < 1%')).toMatch(/takes no scope/);
    // 906 of 1,250 arrivals dropped (the run in issue 12), and a run whose every arrival was dropped: no request at all, still 100%.
    const dropped = { ...total, arrivals: { offered: 1250, dropped: 906 } };
    const r = evaluateThresholds(['dropped_iterations <= 906', 'dropped_rate < 50%'], dropped, new Map());
    expect(r.map((x) => [x.actual, x.ok])).toEqual([[906, true], [906 / 1250, false]]);
    const none = { ...total, samples: 0, arrivals: { offered: 40, dropped: 40 } };
    expect(evaluateThresholds(['dropped_rate < 100%'], none, new Map())[0]).toMatchObject({ actual: 1, ok: false });
    // A run of vus phases only offers no arrival: none could be dropped, and a threshold copied from an open-model scenario passes.
    expect(evaluateThresholds(['dropped_rate <= 1%', 'dropped_iterations < 1'], { ...total, arrivals: { offered: 0, dropped: 0 } }, new Map()).map((t) => [t.actual, t.ok]))
      .toEqual([[0, true], [0, true]]);
  });

  it('the default dropped_rate threshold: judged after the scenario\'s own, marked, for open-model runs, replaced by one of their own', () => {
    expect(DEFAULT_THRESHOLDS).toEqual(['dropped_rate <= 1%']);
    const open = { kind: 'arrivalRate' } as const;
    const closed = { kind: 'vus' } as const;
    const scenario = (phases: { kind: string }[], thresholds: string[]) => ({ phases, thresholds: thresholds.map((text) => ({ text, at: [] })) }) as unknown as Parameters<typeof defaultThresholdsFor>[0];
    expect(defaultThresholdsFor(scenario([closed, open], ['p99 < 1s', 'f: error_rate < 1%']))).toEqual(['dropped_rate <= 1%']);
    expect(defaultThresholdsFor(scenario([closed], []))).toEqual([]);
    expect(defaultThresholdsFor(scenario([open], ['dropped_rate <= 100%']))).toEqual([]);
    expect(defaultThresholdsFor(scenario([open], ['dropped_iterations < 50']))).toEqual([]);
    // k6's dropped_iterations (a key of the k6-style mapping) replaces it too; iterations: count does not.
    expect(defaultThresholdsFor(scenario([open], ['dropped_iterations: count<50']))).toEqual([]);
    expect(defaultThresholdsFor(scenario([open], ['iterations: count>50']))).toEqual(['dropped_rate <= 1%']);
    const r = evaluateThresholds(['p99 < 1s'], { ...total, arrivals: { offered: 1000, dropped: 11 } }, new Map(), undefined, ['dropped_rate <= 1%']);
    expect(r.map((x) => [thresholdLabel(x), x.actual, x.ok])).toEqual([['p99 < 1s', 120, true], ['dropped_rate <= 1% (default)', 0.011, false]]);
    expect(r[1]!.default).toBe(true);
  });

  /** A real histogram: `n` samples spread over 1..`topMs` milliseconds, with a slow tail. */
  const histogram = (n: number, topMs: number): Histogram => {
    const h = newHistogram();
    for (let i = 1; i <= n; i++) recordMs(h, (i % 97 === 0 ? 20 : 1) * (topMs * i) / n);
    return h;
  };
  const scopeOf = (h: Histogram, extra: Partial<MeasuredScope> = {}): MeasuredScope =>
    ({ samples: h.totalCount, latencyMs: summarizeHistogram(h), errorRate: 0, rps: 10, hist: h, ...extra });
  const at = (h: Histogram, q: number): number => Math.round(h.getValueAtPercentile(q)) / 1000;

  it('any percentile is the histogram\'s own value, for the run, an endpoint and a flow', () => {
    const run = histogram(20_000, 800);
    const endpoint = histogram(3_000, 300);
    const flow = histogram(500, 2_000);
    const r = evaluateThresholds(
      ['p75 < 1s', 'p(99.99)<100000', 'p0.5 < 1s', 'checkout: p(97.5) < 10ms', 'buy: p99.9 < 1s', 'buy: p(66.6)<900'],
      scopeOf(run), new Map([['checkout', scopeOf(endpoint)], ['buy', scopeOf(flow)]]),
    );
    expect(r.map((x) => [x.metric, x.actual])).toEqual([
      ['p75', at(run, 75)], ['p99.99', at(run, 99.99)], ['p0.5', at(run, 0.5)], ['p97.5', at(endpoint, 97.5)], ['p999', summarizeHistogram(flow).p999], ['p66.6', at(flow, 66.6)],
    ]);
    expect(r.map((x) => x.ok)).toEqual([true, true, true, false, false, r[5]!.actual! < 900]);
    // Not interpolated from the summary's fixed percentiles: p75 lies strictly between p50 and p90 here, and is none of them.
    expect(r[0]!.actual).toBeGreaterThan(summarizeHistogram(run).p50);
    expect(r[0]!.actual).toBeLessThan(summarizeHistogram(run).p90);
    expect(formatActual(r[0]!)).toMatch(/^\d+(\.\d+)?ms$/);
    // Without a histogram (a scope built by hand), an arbitrary percentile has no data.
    expect(evaluateThresholds(['p75 < 1s'], total, new Map())[0]).toMatchObject({ actual: null, ok: false });
  });

  it('k6 keys: http_req_duration, iteration_duration (every flow merged), iterations, http_reqs, http_req_failed; count is 0, not "no data"', () => {
    const flows = histogram(400, 3_000);
    const run = { ...scopeOf(histogram(2_000, 500), { errorRate: 0.02, rps: 40 }), iterations: scopeOf(flows, { rps: 8, errorRate: 0.1 }) };
    const idle = scopeOf(newHistogram());
    const r = evaluateThresholds([
      'http_req_duration: p(95)<1000', 'iteration_duration: p(95)<1000', 'iteration_duration: avg<5000', 'iterations: count>=400', 'iterations: rate>10',
      'http_reqs: count==2000', 'http_reqs: rate>30', 'http_req_failed: rate<0.01', 'count < 1', 'idle: count < 1', 'idle: p95 < 1s', 'ghost: count < 1',
    ], run, new Map([['idle', idle]]));
    expect(r.map((x) => [x.expression, x.metric, x.actual, x.ok])).toEqual([
      ['http_req_duration: p(95)<1000', 'p95', run.latencyMs.p95, true],
      ['iteration_duration: p(95)<1000', 'p95', summarizeHistogram(flows).p95, false],
      ['iteration_duration: avg<5000', 'mean', summarizeHistogram(flows).mean, true],
      ['iterations: count>=400', 'count', 400, true],
      ['iterations: rate>10', 'rps', 8, false],
      ['http_reqs: count==2000', 'count', 2000, true],
      ['http_reqs: rate>30', 'rps', 40, true],
      ['http_req_failed: rate<0.01', 'error_rate', 0.02, false],
      ['count < 1', 'count', 2000, false],
      ['idle: count < 1', 'count', 0, true],
      ['idle: p95 < 1s', 'p95', null, false],
      ['ghost: count < 1', 'count', null, false],
    ]);
    expect(r.map(formatActual).slice(3, 6)).toEqual(['400', '8.0', '2000']);
    // A result from before iterations were measured as a whole: no data.
    expect(evaluateThresholds(['iteration_duration: p(95)<1000'], total, new Map())[0]).toMatchObject({ actual: null, ok: false });
  });

  it('checks: the pass rate overall or of one check; with no checks, "no checks ran"', () => {
    const checks: CheckCounts = {
      total: { passes: 990, fails: 10 },
      byName: new Map([['has id', { passes: 500, fails: 0 }], ['fast', { passes: 490, fails: 10 }]]),
    };
    const r = evaluateThresholds(['checks > 99%', 'checks > 0.995', 'has id: checks >= 100%', 'fast: checks > 99%', 'checks{check:fast}: rate>0.97', 'checks: rate>0.99', 'gone: checks > 1%'], total, new Map(), undefined, [], checks);
    expect(r.map((x) => [x.scope, x.metric, x.actual, x.ok])).toEqual([
      [undefined, 'checks', 0.99, false], [undefined, 'checks', 0.99, false], ['has id', 'checks', 1, true], ['fast', 'checks', 0.98, false],
      ['fast', 'checks', 0.98, true], [undefined, 'checks', 0.99, false], ['gone', 'checks', null, false],
    ]);
    expect(formatActual(r[3]!)).toBe('98.00%');
    expect(r[6]).toMatchObject({ reason: 'no check named "gone" ran' });
    expect(formatActual(r[6]!)).toBe('no check named "gone" ran');
    for (const none of [undefined, { total: { passes: 0, fails: 0 }, byName: new Map() }]) {
      expect(evaluateThresholds(['checks > 99%', 'has id: checks > 1%'], total, new Map(), undefined, [], none)).toEqual([
        { expression: 'checks > 99%', scope: undefined, metric: 'checks', actual: null, limit: 0.99, ok: false, reason: 'no checks ran' },
        { expression: 'has id: checks > 1%', scope: 'has id', metric: 'checks', actual: null, limit: 0.01, ok: false, reason: 'no checks ran' },
      ]);
    }
  });
});
