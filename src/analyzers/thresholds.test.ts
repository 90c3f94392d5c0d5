import { describe, expect, it } from 'vitest';
import { parseThreshold } from '../scenarios/threshold-expression.js';
import { evaluateThresholds, type MeasuredScope } from './thresholds.js';

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
});
