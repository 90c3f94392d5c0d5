import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/exit-codes.js';
import { runCli, runScenario, tempFiles } from './helpers/cli.js';
import { useTestServer } from './helpers/test-server.js';

const server = useTestServer();

const BASE = `name: k6
target: http://127.0.0.1:9
phases:
  - { duration: 1s, arrivalRate: 1 }
flows:
  - name: buy
    steps:
      - { name: home, get: /a, check: [{ status: { lt: 500 } }] }
`;

async function validate(text: string) {
  const dir = await tempFiles({ 's.yaml': text });
  return runCli(['validate', 's.yaml'], { cwd: dir });
}

describe('k6 thresholds in scenario files', () => {
  it('accepts the k6-style mapping: metric keys, tag filters, lists, a single string, the object form without abortOnFail', async () => {
    const r = await validate(`${BASE}thresholds:
  http_req_duration: ['p(95)<500', 'p(99.9)<1500', avg<200, med<100, min<50, max<3000, p75 < 1s]
  'http_req_duration{name:home}': ['p(99)<800']
  http_req_failed: ['rate<0.01']
  checks: ['rate>0.99']
  http_reqs: ['count>0', 'rate>0.5']
  iterations: count>0
  'iterations{flow:buy}': ['rate>0.5']
  iteration_duration: [{ threshold: 'p(95)<2000', abortOnFail: false, delayAbortEval: 10s }]
  dropped_iterations: ['count<10']
`);
    expect(r).toMatchObject({ code: 0, stdout: 's.yaml: ok\n' });
    // k6 strings in our list too, and our one-key mappings with k6 keys.
    expect(await validate(`${BASE}thresholds: ['p(95)<500', avg<200, 'p(99.99) < 2s', checks > 99%, count > 0, { 'http_req_duration{name:home}': 'p(90)<100' }]\n`))
      .toMatchObject({ code: 0 });
  });

  it('refuses mistakes with file:line:col, each with what to write instead', async () => {
    const r = await validate(`${BASE}thresholds:
  http_req_waiting: ['p(95)<200']
  my_trend: ['avg<10']
  'http_req_duration{name:nope}': ['p(95)<500']
  'iteration_duration{flow:home}': ['p(95)<500']
  http_req_failed: ['p(95)<1', { threshold: 'rate<0.01', abortOnFail: true }]
  checks: ['rate>1.5']
`);
    expect(r.code).toBe(ExitCode.invalidInput);
    expect(r.stderr.trim().split('\n')).toEqual([
      "s.yaml:10:22 thresholds.http_req_waiting[0]: scalectl does not measure k6's http_req_waiting; use http_req_duration (each request timed whole, from sending to the last byte)",
      expect.stringMatching(/^s\.yaml:11:14 thresholds\.my_trend\[0\]: "my_trend" is not a k6 metric scalectl measures \(custom k6 metrics come from script code\); it reads http_req_duration, .*write thresholds as a list/),
      's.yaml:12:36 thresholds.http_req_duration{name:nope}[0]: no endpoint named "nope" (did you mean home?); endpoints: home',
      's.yaml:13:37 thresholds.iteration_duration{flow:home}[0]: no flow named "home"; flows: buy',
      's.yaml:14:21 thresholds.http_req_failed[0]: http_req_failed is a k6 rate: use rate, not "p(95)"',
      's.yaml:14:71 thresholds.http_req_failed[1].abortOnFail: scalectl judges thresholds when the run ends and never stops a run on one: remove abortOnFail (a failed threshold still fails the run, exit 4)',
      's.yaml:15:12 thresholds.checks[0]: expected a percentage such as 99% or a fraction such as 0.99, got "1.5"',
      '1 of 1 scenario file invalid',
    ]);
  });

  it('reports a mistake inside the mapping where it is', async () => {
    const r = await validate(`${BASE}thresholds:\n  http_req_duration: [{ threshold: 1 }, { abortOnFail: true }]\n  checks: 5\n`);
    expect(r.stderr.trim().split('\n')).toEqual([
      's.yaml:10:36 thresholds.http_req_duration[0].threshold: expected a string, got 1',
      's.yaml:10:41 thresholds.http_req_duration[1].threshold: required',
      's.yaml:11:11 thresholds.checks: expected a string or a mapping or a list, got 5',
      '1 of 1 scenario file invalid',
    ]);
  });

  it('refuses rate without a metric key, and a k6 tag filter on an endpoint name that is a flow, in the list form', async () => {
    const r = await validate(`${BASE}thresholds:\n  - rate<0.01\n  - 'http_req_duration{name:buy}: p(95)<500'\n`);
    expect(r.stderr.trim().split('\n')).toEqual([
      's.yaml:10:5 thresholds[0]: rate of what? Write it under a k6 metric key, in the mapping form (thresholds: { http_req_failed: ["rate<0.01"] }), or name the metric: error_rate < 1%, checks > 99%, rps > 100',
      's.yaml:11:5 thresholds[1]: no endpoint named "buy" ("buy" is a flow: iteration_duration{flow:...} or iterations{flow:...}); endpoints: home',
      '1 of 1 scenario file invalid',
    ]);
  });
});

describe('scalectl run judged by k6 thresholds', () => {
  const scenario = (limitMs: number): string => `name: k6 run
target: ${server.url}
phases: [{ duration: 1s, arrivalRate: 20 }]
flows:
  - name: buy
    steps:
      - { name: slow, get: /delay/20 }
thresholds:
  http_req_duration: ['p(95)<${limitMs}', 'p(99.9)<10000']
  'http_req_duration{name:slow}': ['med<${limitMs}']
  http_req_failed: ['rate<0.01']
  http_reqs: ['count>=10']
  iteration_duration: ['p(75)<10000']
`;

  it('exits 4 when one fails and 0 when all hold, the expressions shown as written', async () => {
    const failed = await runScenario(scenario(5));
    expect(failed.code).toBe(ExitCode.thresholdsFailed);
    const t = failed.result.thresholds;
    expect(t.map((x) => [x.expression, x.metric, x.ok])).toEqual([
      ['http_req_duration: p(95)<5', 'p95', false],
      ['http_req_duration: p(99.9)<10000', 'p999', true],
      ['http_req_duration{name:slow}: med<5', 'p50', false],
      ['http_req_failed: rate<0.01', 'error_rate', true],
      ['http_reqs: count>=10', 'count', true],
      ['iteration_duration: p(75)<10000', 'p75', true],
      ['dropped_rate <= 1%', 'dropped_rate', true],
    ]);
    expect(t[0]!.actual).toBe(failed.result.totals.latencyMs.p95);
    expect(t[2]).toMatchObject({ scope: 'slow', actual: failed.result.endpoints[0]!.latencyMs.p50 });
    expect(t[4]!.actual).toBe(failed.result.totals.requests);
    expect(t[5]!.actual).toBeGreaterThanOrEqual(20);
    expect(failed.stdout).toContain('http_req_duration: p(95)<5');

    const passed = await runScenario(scenario(5000));
    expect(passed.code).toBe(ExitCode.ok);
    expect(passed.result.thresholds.every((x) => x.ok)).toBe(true);
  });
});
