import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/exit-codes.js';
import { renderScenarioJsonSchema } from '../src/scenarios/json-schema.js';
import { runCli, tempFiles } from './helpers/cli.js';

const BASE = `name: v
target: http://127.0.0.1:9
phases:
  - { duration: 1s, arrivalRate: 1 }
flows:
  - name: browse
    steps:
      - get: /a
`;

/** [what, scenario text, every expected error line (file s.yaml)] */
const CASES: [string, string, string[]][] = [
  ['a rate that is not a number', BASE.replace('arrivalRate: 1', 'arrivalRate: ten'),
    ['s.yaml:4:34 phases[0].arrivalRate: expected a number, got "ten"']],
  ['an unknown key, with a suggestion', BASE.replace('  - name: browse', '  - name: browse\n    wieght: 2'),
    ['s.yaml:7:5 flows[0].wieght: unknown key "wieght" (did you mean weight?)']],
  ['an unknown top-level key', BASE + 'treshold: []\n',
    ['s.yaml:9:1 treshold: unknown key "treshold" (did you mean thresholds?)']],
  ['a malformed duration', BASE.replace('duration: 1s', 'duration: soon'),
    ['s.yaml:4:17 phases[0].duration: expected a duration like 500ms, 15s or 2m, got "soon"']],
  ['a phase with two load models', BASE.replace('arrivalRate: 1', 'arrivalRate: 1, vus: 2'),
    ['s.yaml:4:5 phases[0]: a phase takes only one of arrivalRate, vus']],
  ['a missing required field', BASE.replace('name: v\n', ''),
    ['s.yaml:1:1 name: required']],
  ['no flows', BASE.replace(/flows:[\s\S]*/, 'flows: []\n'),
    ['s.yaml:5:8 flows: needs at least 1 item']],
  ['a step with no action', BASE.replace('- get: /a', '- name: nothing'),
    ['s.yaml:8:9 flows[0].steps[0]: a step needs one of get, post, put, patch, delete, head, options, request or think']],
  ['a bad target', BASE.replace('http://127.0.0.1:9', 'ftp://x'),
    ['s.yaml:2:9 target: expected an http(s) URL, got ftp:; expected a URL such as http://127.0.0.1:3000, or "reference"']],
  ['a bad capture path', BASE.replace('- get: /a', '- { get: /a, capture: { id: "id" } }'),
    ['s.yaml:8:35 flows[0].steps[0].capture.id: expected a JSON path like $.id or $.items[0].sku, got "id"']],
  ['an unknown helper', BASE.replace('/a', '/a/{{ randomInteger(1, 5) }}'),
    ['s.yaml:8:14 flows[0].steps[0].get: unknown helper randomInteger() (did you mean randomInt?); helpers: randomInt, randomItem, uuid, zipf']],
  ['a helper with the wrong arity', BASE.replace('/a', '/a/{{ uuid(1) }}'),
    ['s.yaml:8:14 flows[0].steps[0].get: uuid() takes uuid(): a random UUID v4, got 1 argument']],
  ['an undefined variable', BASE.replace('/a', '/a/{{ cartId }}'),
    ['s.yaml:8:14 flows[0].steps[0].get: unknown variable "cartId" (define it under variables, data, or capture it in an earlier step)']],
  ['a variable captured only later', BASE.replace('- get: /a', '- get: /a/{{ id }}\n      - { get: /b, capture: { id: $.id } }'),
    ['s.yaml:8:14 flows[0].steps[0].get: unknown variable "id" (define it under variables, data, or capture it in an earlier step)']],
  ['an unset environment variable', BASE.replace('/a', '/a/{{ env.NOPE_NOT_SET }}'),
    ['s.yaml:8:14 flows[0].steps[0].get: environment variable NOPE_NOT_SET is not set']],
  ['a threshold without a unit', BASE + 'thresholds: ["p99 < 200"]\n',
    ['s.yaml:9:14 thresholds[0]: give p99 a unit, e.g. "p99 < 200ms"']],
  ['an unknown threshold metric', BASE + 'thresholds:\n  - p98 < 1s\n',
    ['s.yaml:10:5 thresholds[0]: unknown metric "p98" (did you mean p90?); known: min, mean, p50, p90, p95, p99, p999, max, error_rate, rps, dropped_iterations, dropped_rate, cache_hit_ratio, queue_depth.max, queue_depth.mean, queue_depth.final, queue_drain_time, cpu.max, cpu.mean, event_loop_lag.max, event_loop_lag.mean, or a custom telemetry series as <name>.<rate|increase|min|mean|max|final>']],
  ['a threshold scoped to an unknown name', BASE + 'thresholds:\n  - checkout: p95 < 300ms\n',
    ['s.yaml:10:15 thresholds[0].checkout: no endpoint or flow named "checkout"; names: browse, GET /a']],
  ['a missing data file', BASE + 'data: { users: { file: nope.csv } }\n',
    [expect.stringMatching(/^s\.yaml:9:24 data\.users\.file: cannot read .*nope\.csv: ENOENT$/) as unknown as string]],
  ['a YAML syntax error', 'name: [unclosed\n',
    [expect.stringMatching(/^s\.yaml:2:1 \(scenario\): YAML: /) as unknown as string]],
  ['an unresolved YAML alias', BASE.replace('http://127.0.0.1:9', '*nowhere'),
    ['s.yaml:1:1 (scenario): YAML: Unresolved alias (the anchor must be set before the alias): nowhere']],
  ['a target URL that cannot be parsed', BASE.replace('http://127.0.0.1:9', '"http://[::1"'),
    ['s.yaml:2:9 target: not a valid URL: "http://[::1"; expected a URL such as http://127.0.0.1:3000, or "reference"']],
  ['a zero timeout', BASE.replace('- get: /a', '- { get: /a, timeout: 0 }'),
    ['s.yaml:8:29 flows[0].steps[0].timeout: a timeout must be above 0']],
  ['a duration past what a timer can wait', BASE.replace('- get: /a', '- think: 600h'),
    ['s.yaml:8:16 flows[0].steps[0].think: at most 24 days, got "600h"']],
  ['json and body together inside request', BASE.replace('- get: /a', '- request: { method: POST, url: /a, json: {}, body: x }'),
    ['s.yaml:8:59 flows[0].steps[0].request.body: use json or body, not both']],
  ['an empty file', '\n',
    ['s.yaml:1:1 (scenario): the file is empty; a scenario needs name, target, phases and flows']],
  ['a list instead of a mapping', '- a\n',
    ['s.yaml:1:1 (scenario): expected a mapping, got a list']],
  ['several problems at once', BASE.replace('arrivalRate: 1', 'arrivalRate: -1').replace('  - name: browse', '  - name: browse\n    weight: 0'),
    ['s.yaml:4:34 phases[0].arrivalRate: must be >= 0, got -1', 's.yaml:7:13 flows[0].weight: must be > 0, got 0']],
];

describe('scalectl validate: one line per problem, file:line:col field: message, exit 3', () => {
  it.each(CASES)('%s', async (_what, text, expected) => {
    const dir = await tempFiles({ 's.yaml': text });
    const r = await runCli(['validate', 's.yaml'], { cwd: dir });
    expect(r.code).toBe(ExitCode.invalidInput);
    const lines = r.stderr.trim().split('\n');
    expect(lines.pop()).toBe('1 of 1 scenario file invalid');
    expect(lines).toEqual(expected);
  });

  it('accepts a valid file (exit 0)', async () => {
    const dir = await tempFiles({ 's.yaml': BASE });
    const r = await runCli(['validate', 's.yaml'], { cwd: dir });
    expect(r).toMatchObject({ code: 0, stdout: 's.yaml: ok\n' });
  });

  it('reports a file that does not exist', async () => {
    const r = await runCli(['validate', 'nope.yaml'], { cwd: await tempFiles({}) });
    expect(r.code).toBe(ExitCode.invalidInput);
    expect(r.stderr).toMatch(/^nope\.yaml:1:1 \(scenario\): cannot read scenario: no such file$/m);
  });
});

describe('shipped files', () => {
  const examples = new URL('../scenarios/examples/', import.meta.url);
  const files = readdirSync(examples).filter((f) => f.endsWith('.yaml'));

  it('there are example scenarios', () => expect(files.length).toBeGreaterThan(0));
  it.each(files)('scenarios/examples/%s validates', async (f) => {
    const r = await runCli(['validate', f], { cwd: examples.pathname });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('docs/scenario.schema.json matches the zod schema (run npm run gen:schema)', () => {
    expect(readFileSync(new URL('../docs/scenario.schema.json', import.meta.url), 'utf8')).toBe(renderScenarioJsonSchema());
  });
});

describe('docs/scenarios.md', () => {
  const doc = readFileSync(new URL('../docs/scenarios.md', import.meta.url), 'utf8');
  it('documents exactly the template helpers the code has', async () => {
    const { TEMPLATE_HELPERS } = await import('../src/scenarios/template-helpers.js');
    const section = doc.slice(doc.indexOf('### Helpers'), doc.indexOf('## Data feeders'));
    const documented = [...section.matchAll(/^\| `(\w+)\(/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(TEMPLATE_HELPERS).sort());
  });
  it('documents every threshold metric', async () => {
    const { THRESHOLD_METRICS } = await import('../src/scenarios/threshold-expression.js');
    const section = doc.slice(doc.indexOf('## Thresholds'));
    for (const m of THRESHOLD_METRICS) expect(section).toContain(m);
  });
});
