import { describe, expect, it } from 'vitest';
import { parseThreshold } from './threshold-expression.js';
import { checkScenario, type CheckInput } from './check-scenario.js';

describe('k6 threshold syntax and any percentile', () => {
  it('reads k6 aggregates as our metrics: a bare number is milliseconds', () => {
    expect(parseThreshold('p(95)<500')).toMatchObject({ scope: undefined, metric: 'p95', op: '<', limit: 500 });
    expect(parseThreshold('p(99.9) < 1.5s')).toMatchObject({ metric: 'p999', limit: 1500 });
    expect(parseThreshold('p(50)<=80')).toMatchObject({ metric: 'p50', op: '<=', limit: 80 });
    expect(parseThreshold('avg<200')).toMatchObject({ metric: 'mean', limit: 200 });
    expect(parseThreshold('med<100')).toMatchObject({ metric: 'p50', limit: 100 });
    expect(parseThreshold('min>1')).toMatchObject({ metric: 'min', op: '>', limit: 1 });
    expect(parseThreshold('max<500')).toMatchObject({ metric: 'max', limit: 500 });
    expect(parseThreshold('max < 2.5')).toMatchObject({ limit: 2.5 });
    expect(parseThreshold('count<10')).toMatchObject({ metric: 'count', limit: 10 });
    // p(100) is the summary's max, exactly.
    expect(parseThreshold('p(100)<900')).toMatchObject({ metric: 'max', limit: 900 });
  });

  it('our spellings still need a unit (a bare duration is seconds elsewhere)', () => {
    expect(parseThreshold('p99 < 200')).toBe('give p99 a unit, e.g. "p99 < 200ms"');
    expect(parseThreshold('mean < 200')).toBe('give mean a unit, e.g. "mean < 200ms"');
    expect(parseThreshold('p75 < 200')).toBe('give p75 a unit, e.g. "p75 < 200ms"');
  });

  it('any percentile above 0 and at most 100, in both syntaxes, computed apart from the summary', () => {
    expect(parseThreshold('p75 < 100ms')).toMatchObject({ metric: 'p75', percentile: 75, limit: 100 });
    expect(parseThreshold('p99.99 < 1s')).toMatchObject({ metric: 'p99.99', percentile: 99.99, limit: 1000 });
    expect(parseThreshold('p(99.99)<900')).toMatchObject({ metric: 'p99.99', percentile: 99.99, limit: 900 });
    expect(parseThreshold('p( 75 ) < 10')).toMatchObject({ metric: 'p75', limit: 10 });
    expect(parseThreshold('p0.5 < 1ms')).toMatchObject({ metric: 'p0.5', percentile: 0.5 });
    expect(parseThreshold('checkout: p99.5 < 1s')).toMatchObject({ scope: 'checkout', metric: 'p99.5', percentile: 99.5 });
    // The summary's own percentiles keep their names (and no `percentile`: they are read from the summary).
    expect(parseThreshold('p99.9 < 1s')).toEqual({ expression: 'p99.9 < 1s', scope: undefined, metric: 'p999', op: '<', limit: 1000 });
    expect(parseThreshold('p0 < 1ms')).toBe('a percentile is above 0 and at most 100, got "p0"');
    expect(parseThreshold('p(101)<1')).toBe('a percentile is above 0 and at most 100, got "p(101)"');
    expect(parseThreshold('p(0.000001)<1')).toMatchObject({ metric: 'p0.000001' });
    expect(parseThreshold('p(0.0000001)<1')).toBe('a percentile takes at most 6 decimals, got "p(0.0000001)"');
    expect(parseThreshold('p9999 < 1s')).toMatch(/write p99\.99 with its dot; p999 is the one shorthand, for p99\.9/);
  });

  it('count, checks and the k6 comparators', () => {
    expect(parseThreshold('buy: count >= 5')).toMatchObject({ scope: 'buy', metric: 'count', op: '>=', limit: 5 });
    expect(parseThreshold('count < 1.5')).toBe('expected a whole number of requests or iterations, got "1.5"');
    expect(parseThreshold('checks > 99%')).toMatchObject({ scope: undefined, metric: 'checks', op: '>', limit: 0.99 });
    expect(parseThreshold('checks > 0.99')).toMatchObject({ limit: 0.99 });
    expect(parseThreshold('has id: checks > 99.5%')).toMatchObject({ scope: 'has id', scopeKind: 'check', metric: 'checks', limit: 0.995 });
    expect(parseThreshold('checks > 101%')).toBe('expected a percentage such as 99% or a fraction such as 0.99, got "101%"');
    expect(parseThreshold('p95 == 100ms')).toMatchObject({ op: '==', limit: 100 });
    expect(parseThreshold('p(95)===100')).toMatchObject({ expression: 'p(95)===100', op: '==', limit: 100 });
    expect(parseThreshold('count != 0')).toMatchObject({ op: '!=', limit: 0 });
  });

  it('rate alone is ambiguous: refused, naming the mapping form', () => {
    for (const text of ['rate<0.01', 'checkout: rate < 1%']) {
      expect(parseThreshold(text)).toMatch(/^rate of what\? Write it under a k6 metric key, in the mapping form \(thresholds: \{ http_req_failed: \["rate<0\.01"\] \}\)/);
    }
  });

  it('k6 metric keys: each aggregate read as our metric, tag filters as scopes', () => {
    expect(parseThreshold('http_req_duration: p(95)<500')).toMatchObject({ scope: undefined, metric: 'p95', limit: 500, k6Metric: 'http_req_duration' });
    expect(parseThreshold('http_req_duration{name:checkout}: p(99)<800')).toMatchObject({ scope: 'checkout', scopeKind: 'endpoint', metric: 'p99', limit: 800 });
    expect(parseThreshold('http_req_duration{endpoint:POST /api/checkout}: avg<80')).toMatchObject({ scope: 'POST /api/checkout', scopeKind: 'endpoint', metric: 'mean' });
    expect(parseThreshold('http_req_duration{ name: "GET http://h:1/x" }: p(75)<5')).toMatchObject({ scope: 'GET http://h:1/x', metric: 'p75', percentile: 75 });
    expect(parseThreshold('http_req_failed: rate<0.01')).toMatchObject({ scope: undefined, metric: 'error_rate', limit: 0.01 });
    expect(parseThreshold('http_req_failed{name:buy}: rate<=1%')).toMatchObject({ scope: 'buy', metric: 'error_rate', op: '<=', limit: 0.01 });
    expect(parseThreshold('checks: rate>0.99')).toMatchObject({ scope: undefined, metric: 'checks', limit: 0.99 });
    expect(parseThreshold('checks{check:has id}: rate>0.9')).toMatchObject({ scope: 'has id', scopeKind: 'check', metric: 'checks' });
    expect(parseThreshold('http_reqs: count>100')).toMatchObject({ metric: 'count', limit: 100 });
    expect(parseThreshold('http_reqs{name:home}: rate>10')).toMatchObject({ scope: 'home', metric: 'rps', limit: 10 });
    expect(parseThreshold('iterations: count>5')).toMatchObject({ scope: undefined, metric: 'count', overIterations: true });
    expect(parseThreshold('iterations: rate>2')).toMatchObject({ metric: 'rps', overIterations: true });
    expect(parseThreshold('iterations{flow:buy}: count>5')).toMatchObject({ scope: 'buy', scopeKind: 'flow', metric: 'count' });
    expect(parseThreshold('iterations{flow:buy}: count>5')).not.toHaveProperty('overIterations');
    expect(parseThreshold('iteration_duration: p(95)<2000')).toMatchObject({ scope: undefined, metric: 'p95', limit: 2000, overIterations: true });
    expect(parseThreshold('iteration_duration{flow:buy}: med<2s')).toMatchObject({ scope: 'buy', scopeKind: 'flow', metric: 'p50', limit: 2000 });
    expect(parseThreshold('dropped_iterations: count<10')).toMatchObject({ metric: 'dropped_iterations', limit: 10 });
  });

  it('k6 mistakes are refused with what to write instead', () => {
    expect(parseThreshold('http_req_duration: rate<1')).toBe('http_req_duration is a k6 trend: use p(N), avg, med, min or max, not "rate"');
    expect(parseThreshold('http_req_failed: p(95)<1')).toBe('http_req_failed is a k6 rate: use rate, not "p(95)"');
    expect(parseThreshold('http_reqs: avg<1')).toBe('http_reqs is a k6 counter: use count or rate, not "avg"');
    expect(parseThreshold('http_req_duration: error_rate < 1%')).toMatch(/^under the k6 metric http_req_duration write one of its aggregates/);
    expect(parseThreshold('dropped_iterations: rate<1')).toMatch(/dropped_rate/);
    expect(parseThreshold('http_req_duration{expected_response:true}: p(95)<500')).toBe('scalectl has no expected_response tag: it times every request, '
      + 'answered or failed, and counts failed ones in http_req_failed (error_rate); drop the filter (write http_req_duration); http_req_duration takes {name:...} or {endpoint:...}');
    expect(parseThreshold('dropped_iterations{name:x}: count<1')).toBe('dropped_iterations has no tag "name"; dropped_iterations is counted over the whole run and takes none');
    expect(parseThreshold('http_req_duration{flow:buy}: p(95)<1')).toMatch(/^http_req_duration has no tag "flow" \(per flow scalectl times whole iterations: iteration_duration\{flow:\.\.\.\}\)/);
    expect(parseThreshold('iteration_duration{name:home}: p(95)<1')).toMatch(/^iteration_duration has no tag "name" \(per endpoint: http_req_duration/);
    expect(parseThreshold('http_req_duration{name:a,method:GET}: p(95)<1')).toMatch(/^one tag filter at a time/);
    expect(parseThreshold('http_req_duration{}: p(95)<1')).toMatch(/^expected one tag filter such as \{name:checkout\}/);
    expect(parseThreshold('http_req_waiting: p(95)<200')).toBe("scalectl does not measure k6's http_req_waiting; use http_req_duration (each request timed whole, from sending to the last byte)");
    expect(parseThreshold('vus: max<10')).toMatch(/^scalectl does not measure k6's vus; use iterations/);
    // A name with a tag filter is a k6 key, known or not; in the mapping form every key is.
    expect(parseThreshold('my_trend{x:y}: avg<1')).toMatch(/^"my_trend" is not a k6 metric scalectl measures \(custom k6 metrics come from script code\); it reads http_req_duration, /);
    expect(parseThreshold('my_trend: p(95)<1', true)).toMatch(/^"my_trend" is not a k6 metric/);
    expect(parseThreshold('http_req_duraton: p(95)<1', true)).toMatch(/\(did you mean http_req_duration\?\)/);
    // Outside the mapping, a plain name is an endpoint or flow of ours.
    expect(parseThreshold('my_flow: p(95)<1')).toMatchObject({ scope: 'my_flow', metric: 'p95', limit: 1 });
  });

  it('keeps every threshold of ours as it was', () => {
    expect(parseThreshold('checkout: p95 < 300ms')).toEqual({ expression: 'checkout: p95 < 300ms', scope: 'checkout', metric: 'p95', op: '<', limit: 300 });
    expect(parseThreshold('error_rate < 1%')).toEqual({ expression: 'error_rate < 1%', scope: undefined, metric: 'error_rate', op: '<', limit: 0.01 });
    expect(parseThreshold('POST /x: mean <= 1.5s')).toEqual({ expression: 'POST /x: mean <= 1.5s', scope: 'POST /x', metric: 'mean', op: '<=', limit: 1500 });
    expect(parseThreshold('orders.rate > 10')).toMatchObject({ metric: 'orders.rate', limit: 10 });
  });
});

describe('checking threshold scopes against the scenario', () => {
  const input = (thresholds: string[], checkNames?: string[]): CheckInput => ({
    target: 'http://127.0.0.1:9', telemetry: undefined, variables: [], data: [], namesComplete: true, defaultHeaders: {},
    phases: undefined, flows: [{ name: 'buy', steps: [{ kind: 'unchecked', name: 'home', urls: [], headers: [], bodies: [], captures: [] }] }],
    thresholds: thresholds.map((text, i) => ({ text, at: ['thresholds', i] })),
    ...(checkNames ? { checkNames } : {}),
  });
  const messages = (i: CheckInput): string[] => checkScenario(i, {}, {}).map((x) => x.message);

  it('a checks scope names a check, once the check names are known', () => {
    const t = ['has id: checks > 99%', 'checks{check:has ID}: rate>0.9', 'checks > 99%'];
    expect(messages(input(t))).toEqual([]);
    expect(messages(input(t, ['has id', 'fast']))).toEqual(['no check named "has ID" (did you mean has id?); checks: has id, fast']);
  });

  it('an unscoped checks threshold needs checks, once the check list is known', () => {
    expect(messages(input(['checks > 99%', 'checks: rate>0.9'], []))).toEqual([
      'a checks threshold needs checks, and this scenario has none: add check: to a request step (docs/scenarios.md#checks)',
      'a checks threshold needs checks, and this scenario has none: add check: to a request step (docs/scenarios.md#checks)',
    ]);
    expect(messages(input(['checks > 99%'], ['fast']))).toEqual([]);
  });

  it('a k6 tag filter names an endpoint or a flow, as it says', () => {
    expect(messages(input(['iteration_duration{flow:buy}: p(95)<1', 'http_req_duration{name:home}: avg<1', 'iterations{flow:home}: count>1']))).toEqual([
      'no flow named "home"; flows: buy',
    ]);
    const shared: CheckInput = { ...input(['iteration_duration{flow:buy}: p(95)<1']), flows: [{ name: 'buy', steps: [{ kind: 'unchecked', name: 'buy', urls: [], headers: [], bodies: [], captures: [] }] }] };
    expect(messages(shared)).toEqual(['"buy" names an endpoint as well as the flow, and thresholds read the endpoint: rename one']);
  });
});
