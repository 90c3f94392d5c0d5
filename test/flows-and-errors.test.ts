import { describe, expect, it } from 'vitest';
import type { RunResult } from '../src/analyzers/run-result.js';
import { runScenario } from './helpers/cli.js';
import { closedPort, useTestServer } from './helpers/test-server.js';

const server = useTestServer();

async function run(yaml: string, files: Record<string, string> = {}, env: Record<string, string> = {}): Promise<RunResult> {
  return (await runScenario(yaml, { files, env })).result;
}

const byName = (r: RunResult, name: string) => r.endpoints.find((e) => e.name === name)!;

describe('errors are classified', () => {
  it('timeout, reset, refused, 4xx, 5xx, expectation and slow bodies', async () => {
    const port = await closedPort();
    const r = await run(`
name: errors
target: ${server.url}
defaults: { timeout: 300ms }
phases: [{ duration: 1s, arrivalRate: 4 }]
flows:
  - name: all
    steps:
      - { name: hang, get: /hang, expect: { status: 200 } }
  - name: reset
    steps: [{ name: reset, get: /reset }]
  - name: refused
    steps: [{ name: refused, get: "http://127.0.0.1:${port}/x" }]
  - name: e4
    steps: [{ name: e404, get: /status/404 }]
  - name: e5
    steps: [{ name: e503, get: /status/503 }]
  - name: ex
    steps: [{ name: expect, get: /status/200, expect: { status: [201, 202] } }]
  - name: accepted
    steps: [{ name: accepted409, get: /status/409, expect: { status: [202, 409] } }]
  - name: slow
    steps: [{ name: slowbody, get: /slow-body/2000 }]
`);
    const kinds = (name: string) => byName(r, name)?.errorsByKind ?? {};
    // Weighted picks are random; check every endpoint that ran.
    const expectKind = (name: string, kind: string) => {
      const e = byName(r, name);
      if (e && e.requests > 0) expect(Object.keys(kinds(name))).toEqual([kind]);
    };
    expectKind('hang', 'timeout');
    expectKind('reset', 'reset');
    expectKind('refused', 'refused');
    expectKind('e404', 'http_4xx');
    expectKind('e503', 'http_5xx');
    expectKind('expect', 'expectation');
    expectKind('slowbody', 'timeout');
    const ok = byName(r, 'accepted409');
    if (ok) expect(ok.errors).toBe(0);
    expect(r.totals.errors).toBe(r.totals.requests - (ok?.requests ?? 0));
    // Every kind that occurred has a sample message to help diagnose it.
    for (const kind of Object.keys(r.totals.errorsByKind)) expect(r.errorSamples[kind as keyof typeof r.errorSamples]).toBeTruthy();
  });

  it('each failure mode, one flow at a time', async () => {
    const port = await closedPort();
    const cases: [string, string, string | undefined][] = [
      ['/hang', '', 'timeout'], ['/reset', '', 'reset'], [`http://127.0.0.1:${port}/x`, '', 'refused'],
      ['/status/404', '', 'http_4xx'], ['/status/500', '', 'http_5xx'], ['/slow-body/1000', '', 'timeout'],
      ['/status/200', ', expect: { status: [201, 202] }', 'expectation'],
      ['/status/409', ', expect: { status: [202, 409] }', undefined],
    ];
    for (const [path, expectation, kind] of cases) {
      const r = await run(`
name: one
target: ${server.url}
defaults: { timeout: 250ms }
phases: [{ duration: 500ms, arrivalRate: 4 }]
flows: [{ name: f, steps: [{ get: "${path}"${expectation} }] }]
`);
      expect(r.totals.requests, path).toBe(2);
      expect(r.totals.errorsByKind, path).toEqual(kind ? { [kind]: 2 } : {});
      expect(r.totals.errorRate, path).toBe(kind ? 1 : 0);
      if (kind) expect(r.errorSamples[kind as keyof typeof r.errorSamples], path).toBeTruthy();
    }
  });
});

describe('flows', () => {
  it('captures from JSON and headers feed later steps; templates render in bodies and headers', async () => {
    const r = await run(`
name: capture
target: ${server.url}
variables: { region: eu }
data: { users: { file: users.csv } }
phases: [{ duration: 1s, arrivalRate: 5 }]
flows:
  - name: buy
    steps:
      - post: /echo
        json: { qty: "{{ randomInt(1, 3) }}", region: "{{ region }}", user: "{{ users.email }}", n: "{{ iteration }}" }
        capture: { cartId: $.id, qty: $.received.qty, token: { header: x-token } }
      - name: item
        get: /items/{{ cartId }}-{{ token }}
        headers: { authorization: "Bearer {{ token }}" }
        capture: { echoed: $.id }
`, { 'users.csv': 'email\na@x.io\nb@x.io\n' });
    expect(r.totals.errors).toBe(0);
    expect(r.flows[0]!.completed).toBe(5);
    const paths = Object.keys((await server.stats()).paths).filter((p) => p.startsWith('/items/'));
    expect(paths).toHaveLength(5);
    for (const p of paths) expect(p).toMatch(/^\/items\/id-\d+-tok-\d+$/);
  });

  it('a capture that finds nothing is a capture error and ends the iteration', async () => {
    const r = await run(`
name: capture-miss
target: ${server.url}
phases: [{ duration: 1s, arrivalRate: 3 }]
flows:
  - name: f
    steps:
      - { post: /echo, json: {}, capture: { x: $.nothing.here } }
      - { name: never, get: "/items/{{ x }}" }
`);
    expect(r.totals.errorsByKind).toEqual({ capture: 3 });
    expect(r.endpoints.find((e) => e.name === 'never')!.requests).toBe(0);
    expect(r.flows[0]!.failed).toBe(3);
  });

  it('sequential data rows go to iterations in order; env values reach templates', async () => {
    await run(`
name: feeder
target: ${server.url}
data: { skus: { file: skus.json, order: sequential } }
phases: [{ duration: 1s, arrivalRate: 4 }]
flows: [{ name: f, steps: [{ get: "/items/{{ skus.sku }}-{{ env.SUFFIX }}" }] }]
`, { 'skus.json': JSON.stringify([{ sku: 'a' }, { sku: 'b' }]) }, { SUFFIX: 'z' });
    expect((await server.stats()).paths).toEqual({ '/items/a-z': 2, '/items/b-z': 2 });
  });

  it('think steps pause the flow; flow duration includes them', async () => {
    const r = await run(`
name: think
target: ${server.url}
phases: [{ duration: 1s, arrivalRate: 2 }]
flows: [{ name: f, steps: [{ get: /delay/0 }, { think: 300ms }, { get: /delay/0 }] }]
`);
    expect(r.totals.requests).toBe(4);
    expect(r.flows[0]!.durationMs.min).toBeGreaterThanOrEqual(300);
    // The result says how much of that is think time.
    expect(r.flows[0]!.thinkMs).toBe(300);
  });

  it('flows are picked by weight', async () => {
    const r = await run(`
name: weights
target: ${server.url}
phases: [{ duration: 2s, arrivalRate: 200 }]
flows:
  - { name: a, weight: 9, steps: [{ get: /delay/0 }] }
  - { name: b, weight: 1, steps: [{ get: /status/204 }] }
`);
    const a = r.flows[0]!.offered;
    expect(a + r.flows[1]!.offered).toBe(400);
    // 90% expected; binomial sd = 6, so a 5-sd margin.
    expect(Math.abs(a - 360)).toBeLessThan(30);
  });
});
