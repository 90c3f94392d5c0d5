import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/exit-codes.js';
import { runCli, tempFiles } from './helpers/cli.js';

/** A scenario with these steps (indented as list items under steps:). */
const scenario = (steps: string): string => `name: v
target: http://127.0.0.1:9
variables: { cart: { items: [1] } }
phases: [{ duration: 1s, arrivalRate: 1 }]
flows:
  - name: f
    steps:
${steps}`;

async function validate(text: string): Promise<{ code: number; lines: string[] }> {
  const dir = await tempFiles({ 's.yaml': text });
  const r = await runCli(['validate', 's.yaml'], { cwd: dir });
  const lines = r.stderr.trim().split('\n').filter(Boolean);
  if (r.code !== 0) expect(lines.pop()).toBe('1 of 1 scenario file invalid');
  return { code: r.code, lines };
}

/** [what, steps, every expected error line] */
const CASES: [string, string, string[]][] = [
  ['a check with two subjects', `      - get: /a
        check: [{ status: { equals: 200 }, body: { contains: x } }]`,
  ['s.yaml:9:17 flows[0].steps[0].check[0]: a check takes only one of body, status']],
  ['a check with no subject', `      - get: /a
        check: [{ name: x }]`,
  ['s.yaml:9:17 flows[0].steps[0].check[0]: a check needs one of json, body, header, duration, status']],
  ['a subject with no operator', `      - get: /a
        check:
          - json: { path: $.id }`,
  ['s.yaml:10:19 flows[0].steps[0].check[0].json: a json check needs an operator: equals, notEquals, lt, lte, gt, gte, contains, matches, exists, in']],
  ['an operator a subject does not take, with a suggestion', `      - get: /a
        check:
          - duration: { lt: 300ms, equal: 1 }`,
  ['s.yaml:10:36 flows[0].steps[0].check[0].duration.equal: unknown key "equal"']],
  ['a misspelt operator', `      - get: /a
        check:
          - body: { contain: x }`,
  ['s.yaml:10:21 flows[0].steps[0].check[0].body.contain: unknown key "contain" (did you mean contains?)']],
  ['a bad regular expression', `      - get: /a
        check:
          - body: { matches: "order-[0-9" }`,
  ['s.yaml:10:30 flows[0].steps[0].check[0].body.matches: not a valid regular expression: /order-[0-9/: Unterminated character class']],
  ['a bad duration and a bad JSON path', `      - get: /a
        check:
          - duration: { lt: soon }
          - json: { path: id, exists: yes }`,
  ['s.yaml:10:29 flows[0].steps[0].check[0].duration.lt: expected a duration like 500ms, 15s, 2m or 1m30s, got "soon"',
    's.yaml:11:27 flows[0].steps[0].check[1].json.path: expected a JSON path like $.id or $.items[0].sku, got "id"',
    's.yaml:11:39 flows[0].steps[0].check[1].json.exists: expected true or false, got "yes"']],
  ['an unknown variable in a check value', `      - get: /a
        check:
          - json: { path: $.id, equals: "{{ wanted }}" }`,
  ['s.yaml:10:41 flows[0].steps[0].check[0].json.equals: unknown variable "wanted" (define it under variables, data, or capture it in an earlier step)']],
  ['a loop with both count and over, and no steps', `      - loop: { count: 2, over: [1], steps: [] }`,
  ['s.yaml:8:15 flows[0].steps[0].loop: a loop takes one of count or over',
    's.yaml:8:45 flows[0].steps[0].loop.steps: needs at least 1 item']],
  ['a loop too long', `      - loop: { count: 100001, steps: [{ get: /a }] }`,
  ['s.yaml:8:24 flows[0].steps[0].loop.count: at most 100000, got 100001: a loop this long is better written as more iterations (a higher rate or more vus)']],
  ['a loop over a plain string', `      - loop: { over: cart.items, steps: [{ get: /a }] }`,
  ['s.yaml:8:23 flows[0].steps[0].loop.over: expected a list or a template giving one, like "{{ cart.items }}", got "cart.items"']],
  ['a loop step with request keys', `      - loop: { count: 1, steps: [{ get: /a }] }
        headers: { a: b }`,
  ['s.yaml:8:9 flows[0].steps[0]: a loop step takes no headers']],
  ['loop variables outside their loop, and a bad step inside one', `      - loop:
          over: "{{ cart.items }}"
          as: product
          steps:
            - get: /p/{{ product }}/{{ loopIndex }}/{{ loopCount }}
            - get: /q
              wieght: 1
      - get: /after/{{ product }}/{{ loopCount }}`,
  ['s.yaml:14:15 flows[0].steps[0].loop.steps[1].wieght: unknown key "wieght"',
    's.yaml:15:14 flows[0].steps[1].get: unknown variable "product" (define it under variables, data, or capture it in an earlier step)',
    's.yaml:15:14 flows[0].steps[1].get: unknown variable "loopCount" (define it under variables, data, or capture it in an earlier step)']],
  ['misspelt keys inside a loop, with suggestions', `      - loop: { count: 1, steps: [{ get: /a, chek: [] }], ass: x }`,
  ['s.yaml:8:46 flows[0].steps[0].loop.steps[0].chek: unknown key "chek" (did you mean check?)',
    's.yaml:8:59 flows[0].steps[0].loop.ass: unknown key "ass" (did you mean as?)']],
  ['a loop variable that hides a built-in', `      - loop: { count: 1, as: iteration, steps: [{ get: /a }] }`,
  ['s.yaml:8:31 flows[0].steps[0].loop.as: iteration is a built-in variable; choose another name']],
  ['a malformed or unknown condition', `      - if: "cart.items >"
        get: /a
      - if: "{{ total > 0 }}"
        think: 1s`,
  ['s.yaml:8:13 flows[0].steps[0].if: in "{{ cart.items > }}": empty expression',
    's.yaml:10:13 flows[0].steps[1].if: unknown variable "total" (define it under variables, data, or capture it in an earlier step)']],
  ['a check duration without a unit (a k6 user means milliseconds)', `      - get: /a
        check:
          - duration: { lt: 300, gte: "5" }`,
  ['s.yaml:10:29 flows[0].steps[0].check[0].duration.lt: give duration a unit, e.g. lt: 300ms',
    's.yaml:10:39 flows[0].steps[0].check[0].duration.gte: give duration a unit, e.g. gte: 5ms']],
  ['an empty condition, reported once', `      - if: ""
        get: /a`,
  ['s.yaml:8:13 flows[0].steps[0].if: must not be empty']],
  ['a checks threshold in a scenario with no checks', `      - get: /a
thresholds: ["checks > 99%"]`,
  ['s.yaml:9:14 thresholds[0]: a checks threshold needs checks, and this scenario has none: add check: to a request step (docs/scenarios.md#checks)']],
  ['a k6 checks threshold in a scenario with no checks', `      - get: /a
thresholds: { checks: ["rate>0.9"] }`,
  ['s.yaml:9:24 thresholds.checks[0]: a checks threshold needs checks, and this scenario has none: add check: to a request step (docs/scenarios.md#checks)']],
];

describe('checks, loops and conditions are validated with file:line:col', () => {
  it.each(CASES)('%s', async (_what, steps, expected) => {
    const r = await validate(scenario(steps));
    expect(r.lines).toEqual(expected);
    expect(r.code).toBe(ExitCode.invalidInput);
  });

  it('accepts the contract syntax, with captures from a loop known after it', async () => {
    const r = await validate(scenario(`      - post: /cart
        capture: { cartId: $.id }
        check:
          - json: { path: $.id, equals: 42 }
          - body: { contains: "Thank you" }
          - body: { matches: "order-[0-9]+" }
          - body: { matches: "x{{2}}" }
          - header: { name: content-type, contains: json }
          - header: { name: x-cache, exists: true }
          - duration: { lt: 300ms }
          - name: created
            status: { in: [200, 201] }
            abort: true
      - loop:
          count: 3
          steps:
            - get: /p/{{ item }}?n={{ loopCount }}
              capture: { last: $.id }
            - loop: { over: [a, "{{ cartId }}"], as: sku, steps: [{ get: "/s/{{ sku }}/{{ item }}/{{ loopIndex }}" }] }
      - if: "last != null && (cart.items[0] > 0 || !cartId)"
        get: /checkout/{{ last }}
      - if: "{{ cartId }}"
        loop: { over: "{{ cart.items }}", steps: [{ think: 10ms }] }`));
    expect(r.lines).toEqual([]);
    expect(r.code).toBe(0);
  });
});
