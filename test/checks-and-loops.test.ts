import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../src/analyzers/run-result.js';
import { runBin, runScenario, tempFiles } from './helpers/cli.js';
import { ExitCode } from '../src/exit-codes.js';
import { useTestServer } from './helpers/test-server.js';

const server = useTestServer();

const requests = (r: RunResult, name: string): number | undefined => r.endpoints.find((e) => e.name === name)?.requests;
const checksOf = (r: RunResult): Record<string, [number, number]> => Object.fromEntries((r.checks ?? []).map((c) => [c.name, [c.passes, c.fails]]));

/** Each check's passes and fails added up over the timeseries. */
function perSecondSums(r: RunResult): Record<string, [number, number]> {
  const sums: Record<string, [number, number]> = {};
  for (const p of r.timeseries) {
    for (const [name, c] of Object.entries(p.checks ?? {})) {
      const s = (sums[name] ??= [0, 0]);
      s[0] += c.passes;
      s[1] += c.fails;
    }
  }
  return sums;
}

describe('checks on responses, loops and conditions, end to end', () => {
  it('counts passes and fails exactly, shows them in every output, runs loops and skips a step whose if is false', async () => {
    const out = await tempFiles({});
    const run = await runScenario(`
name: shop
target: ${server.url}
phases: [{ duration: 1s, arrivalRate: 4 }]
flows:
  - name: shop
    steps:
      - name: cart
        post: /echo
        json: { items: [a, b, c], total: 3 }
        capture: { items: $.received.items, total: $.received.total }
        check:
          - status: { in: [200, 201] }
          - json: { path: $.received.total, equals: 3, gt: 2 }
          - header: { name: content-type, contains: json }
          - duration: { lt: 10s }
          - name: thanks
            body: { contains: "Thank you" }
      - loop:
          over: "{{ items }}"
          as: sku
          steps:
            - name: item
              get: /items/{{ sku }}
              check: [{ name: item id, json: { path: $.id, equals: "{{ sku }}" } }]
      - loop:
          count: 2
          steps:
            - name: counted
              get: /items/n{{ loopCount }}-{{ item }}
              check: [{ name: round, json: { path: $.id, equals: "n{{ loopCount }}-{{ loopIndex }}" } }]
      - name: skipped
        if: "total > 5"
        get: /items/skipped
      - name: taken
        if: "{{ total == 3 && items[0] == 'a' }}"
        get: /items/taken
      - name: last
        get: /status/200
        check: [{ name: must be 201, status: { equals: 201 }, abort: true }]
      - name: never
        get: /items/never
`, { args: ['--junit', join(out, 'j.xml'), '--summary-md', join(out, 's.md'), '--html', join(out, 'r.html')] });
    const r = run.result;
    const n = r.flows[0]!.offered;
    expect(n).toBeGreaterThan(0);
    // abort: true ended every iteration at "last", as failed, with no request error.
    expect(r.flows[0]).toMatchObject({ completed: 0, failed: n, interrupted: 0 });
    expect(r.totals.errors).toBe(0);
    expect({ cart: requests(r, 'cart'), item: requests(r, 'item'), counted: requests(r, 'counted'), skipped: requests(r, 'skipped'), taken: requests(r, 'taken'), last: requests(r, 'last'), never: requests(r, 'never') })
      .toEqual({ cart: n, item: 3 * n, counted: 2 * n, skipped: 0, taken: n, last: n, never: 0 });
    const paths = (await server.stats()).paths;
    expect([paths['/items/a'], paths['/items/c'], paths['/items/n2-1'], paths['/items/skipped'], paths['/items/never']]).toEqual([n, n, n, undefined, undefined]);
    expect(checksOf(r)).toEqual({
      'cart: status in [200,201]': [n, 0],
      'cart: json $.received.total equals 3, gt 2': [n, 0],
      'cart: header content-type contains "json"': [n, 0],
      'cart: duration lt 10s': [n, 0],
      thanks: [0, n],
      'item id': [3 * n, 0],
      round: [2 * n, 0],
      'must be 201': [0, n],
    });
    expect(r.totals.checks).toEqual({ passes: 9 * n, fails: 2 * n });
    expect(perSecondSums(r)).toEqual(checksOf(r));
    // Every output shows them.
    expect(run.stdout).toMatch(/thanks\s+│ 0\s+│ \d+\s+│ 0\.0%/);
    expect(run.stdout).toMatch(/all checks\s+│ \d+\s+│ \d+\s+│ 81\.8%/);
    expect(await readFile(join(out, 's.md'), 'utf8')).toContain(`| must be 201 | 0 | **${n}** | 0.00% |`);
    const junit = await readFile(join(out, 'j.xml'), 'utf8');
    expect(junit).toContain(`<testcase classname="scalectl.checks" name="thanks" time="0">`);
    expect(junit).toContain(`failed ${n} of ${n} times (0.00% passed)`);
    expect(junit).toMatch(/<testcase classname="scalectl\.checks" name="item id" time="0"\/?>(?!\s*<failure)/);
    expect(await readFile(join(out, 'r.html'), 'utf8')).toMatch(/<section id="checks"><h2>Checks<\/h2>.*must be 201/s);
  });

  it('sums checks exactly across --workers 2 (built bin)', async () => {
    const dir = await tempFiles({ 's.yaml': `
name: two threads
target: ${server.url}
phases: [{ duration: 1s, arrivalRate: 20 }]
flows:
  - name: f
    steps:
      - loop:
          count: 3
          steps:
            - get: /items/{{ item }}
              name: item
              check:
                - { name: ok, status: { equals: 200 } }
                - { name: never, json: { path: $.id, equals: nope } }
` });
    const run = await runBin(['run', 's.yaml', '--workers', '2', '--out', 'r.json', '--no-progress'], { cwd: dir });
    expect(run.code).toBe(0);
    const r = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult;
    const n = r.flows[0]!.offered;
    expect(r.generator.workers).toBe(2);
    expect(n).toBe(20);
    expect(r.flows[0]!.completed).toBe(n);
    expect(requests(r, 'item')).toBe(3 * n);
    expect(checksOf(r)).toEqual({ ok: [3 * n, 0], never: [0, 3 * n] });
    expect(perSecondSums(r)).toEqual(checksOf(r));
  });

  it('fails an iteration whose loop list is not a list, as a template error', async () => {
    const { result: r } = await runScenario(`
name: bad list
target: ${server.url}
variables: { word: abc }
phases: [{ duration: 1s, arrivalRate: 2 }]
flows:
  - name: f
    steps:
      - loop: { over: "{{ word }}", steps: [{ get: /items/x, name: x }] }
`);
    expect(r.flows[0]).toMatchObject({ completed: 0, failed: r.flows[0]!.offered });
    expect(requests(r, 'x')).toBe(0);
    expect(r.errorSamples.template).toBe('loop over: expected a list, got "abc"');
  });

  it('fails an iteration whose condition fails at run time, as a template error', async () => {
    const { result: r } = await runScenario(`
name: bad condition
target: ${server.url}
variables: { word: abc }
phases: [{ duration: 1s, arrivalRate: 2 }]
flows:
  - name: f
    steps:
      - { get: /items/first, name: first }
      - { if: "randomInt(word, 2) > 0", get: /items/x, name: x }
`);
    const n = r.flows[0]!.offered;
    expect(r.flows[0]).toMatchObject({ completed: 0, failed: n });
    expect([requests(r, 'first'), requests(r, 'x')]).toEqual([n, 0]);
    expect(r.errorSamples.template).toBe('if: randomInt min: expected a number, got "abc"');
  });

  it('a stop interrupts long loops at once, even ones whose steps are all skipped', async () => {
    const ac = new AbortController();
    const scenario = runScenario(`
name: long loop
target: ${server.url}
phases: [{ duration: 60s, vus: 2 }]
flows:
  - name: f
    steps:
      - get: /items/x
      - loop:
          count: 100000
          steps:
            - loop: { count: 100000, steps: [{ if: "loopIndex < 0", get: /never }] }
`, { signal: ac.signal });
    // Stop once the loops are under way (bounded wait); the skipped rounds must leave the event loop free meanwhile.
    const deadline = Date.now() + 20_000;
    while ((await server.stats()).count < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const stoppedAt = Date.now();
    ac.abort();
    const { code, result: r } = await scenario;
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    expect(code).toBe(ExitCode.aborted);
    expect(r.flows[0]!.interrupted).toBe(2);
    expect(requests(r, 'GET /never')).toBe(0);
    expect(requests(r, 'GET /items/x')).toBe(2);
  });
});
