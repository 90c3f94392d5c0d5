import { describe, expect, it } from 'vitest';
import { parseThreshold } from '../scenarios/threshold-expression.js';
import { defaultThresholdsFor, evaluateThresholds, thresholdLabel, type MeasuredScope } from './thresholds.js';
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
    const r = evaluateThresholds(['p99 < 1s'], { ...total, arrivals: { offered: 1000, dropped: 11 } }, new Map(), undefined, ['dropped_rate <= 1%']);
    expect(r.map((x) => [thresholdLabel(x), x.actual, x.ok])).toEqual([['p99 < 1s', 120, true], ['dropped_rate <= 1% (default)', 0.011, false]]);
    expect(r[1]!.default).toBe(true);
  });
});
