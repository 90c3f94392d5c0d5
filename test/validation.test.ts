import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/exit-codes.js';
import { renderScenarioJsonSchema } from '../src/scenarios/json-schema.js';
import { MAX_SCENARIO_BYTES } from '../src/scenarios/read-text-file.js';
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
    ['s.yaml:4:17 phases[0].duration: expected a duration like 500ms, 15s, 2m or 1m30s, got "soon"']],
  ['a phase with two load models', BASE.replace('arrivalRate: 1', 'arrivalRate: 1, vus: 2'),
    ['s.yaml:4:5 phases[0]: a phase takes only one of arrivalRate, vus']],
  ['a missing required field', BASE.replace('name: v\n', ''),
    ['s.yaml:1:1 name: required']],
  ['no flows', BASE.replace(/flows:[\s\S]*/, 'flows: []\n'),
    ['s.yaml:5:8 flows: needs at least 1 item']],
  ['a step with no action', BASE.replace('- get: /a', '- name: nothing'),
    ['s.yaml:8:9 flows[0].steps[0]: a step needs one of get, post, put, patch, delete, head, options, request, think or loop']],
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
  ['an unknown threshold metric', BASE + 'thresholds:\n  - p95th < 1s\n',
    ['s.yaml:10:5 thresholds[0]: unknown metric "p95th" (did you mean p95?); known: min, mean, p50, p90, p95, p99, p999, max, error_rate, rps, count, checks, dropped_iterations, dropped_rate, cache_hit_ratio, queue_depth.max, queue_depth.mean, queue_depth.final, queue_drain_time, cpu.max, cpu.mean, event_loop_lag.max, event_loop_lag.mean, replica_lag.max, replica_lag.mean, replica_read_share, shard_hot_share, any percentile (p75, p99.99, p(99.99)), avg, med, or a custom telemetry series as <name>.<rate|increase|min|mean|max|final>']],
  ['a threshold scoped to an unknown name', BASE + 'thresholds:\n  - checkout: p95 < 300ms\n',
    ['s.yaml:10:15 thresholds[0].checkout: no endpoint or flow named "checkout"; names: browse, GET /a']],
  ['a missing data file', BASE + 'data: { users: { file: nope.csv } }\n',
    [expect.stringMatching(/^s\.yaml:9:24 data\.users\.file: cannot read .*nope\.csv: no such file$/) as unknown as string]],
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

/** Mistakes found only at run time (or never) before issue 12, and what validate says now. */
const FIRST_PITFALLS: [string, string, string[]][] = [
  ['an unquoted template in a flow mapping (YAML reads it as a mapping)', BASE.replace('- get: /a', '- { post: /a, json: { id: {{ uuid() }} } }'),
    ['s.yaml:8:33 flows[0].steps[0].json.id: YAML reads an unquoted {{ }} as a mapping; quote it: "{{ uuid() }}"']],
  ['an unquoted template starting a value', BASE.replace('- get: /a', '- get: {{ base }}/a'),
    ['s.yaml:8:14 (scenario): YAML reads an unquoted {{ as the start of a mapping; quote it: "{{ base }}/a"']],
  ['a [ inside a flow mapping: one line, not a screen of parser errors', BASE.replace('- get: /a', '- get: /a\n        capture: { id: $.items[0].id }\n      - get: /b/{{ id }}'),
    ['s.yaml:9:24 (scenario): inside { }, YAML reads this [ as the start of a list; quote the value: "$.items[0].id"']],
  ['a line break in a header value', BASE.replace('- get: /a', '- { get: /a, headers: { x-a: "1\\r\\nx-b: 2" } }'),
    ['s.yaml:8:36 flows[0].steps[0].headers.x-a: a header value cannot hold a line break ("\\r"): it would end the header']],
  ['a header name with a space', BASE + 'defaults: { headers: { "api key": x } }\n',
    ["s.yaml:9:24 defaults.headers.api key: a header name is a token: letters, digits and !#$%&'*+-.^_`|~ only (no spaces or colons), got \"api key\""]],
  ['an HTTP client there is none of', BASE + 'defaults: { httpClient: lean }\n',
    ['s.yaml:9:25 defaults.httpClient: expected one of "auto", "undici", got "lean"']],
  ['a line break in a path', BASE.replace('- get: /a', '- get: "/a\\nb"'),
    ['s.yaml:8:14 flows[0].steps[0].get: a URL cannot hold control characters such as "\\n" (a line break would end the request line)']],
  ['a space in a path', BASE.replace('- get: /a', '- get: /search?q=a b'),
    ['s.yaml:8:14 flows[0].steps[0].get: a path cannot hold spaces; percent-encode them (%20)']],
  ['an absolute step URL that cannot be parsed', BASE.replace('- get: /a', '- get: "http://[::1/x"'),
    ['s.yaml:8:14 flows[0].steps[0].get: not a valid URL: "http://[::1"']],
  ['an absolute step URL that is not http', BASE.replace('- get: /a', '- get: ftp://files.example/x'),
    ['s.yaml:8:14 flows[0].steps[0].get: expected a path (/api/x) or an http(s) URL, not ftp:']],
  ['a target with no host (http:///path)', BASE.replace('http://127.0.0.1:9', 'http:///path'),
    ['s.yaml:2:9 target: the URL has no host (write http://host:port/...); expected a URL such as http://127.0.0.1:3000, or "reference"']],
  ['a phase of 0 seconds', BASE.replace('duration: 1s', 'duration: 0'),
    ['s.yaml:4:17 phases[0].duration: must be above 0: a phase of 0s sends nothing']],
  ['a negative phase duration, pause or timeout: the message of 0', BASE.replace('{ duration: 1s, arrivalRate: 1 }', '{ duration: -1, arrivalRate: 1 }\n  - { pause: -0.5 }').replace('- get: /a', '- { get: /a, timeout: -1 }'),
    ['s.yaml:4:17 phases[0].duration: must be above 0: a phase of 0s sends nothing',
      's.yaml:5:14 phases[1].pause: must be above 0',
      's.yaml:9:29 flows[0].steps[0].timeout: a timeout must be above 0']],
  ['phases that send nothing', BASE.replace('arrivalRate: 1', 'arrivalRate: 0'),
    ['s.yaml:4:3 phases: no phase starts an iteration (each is a pause or has a rate of 0), so the run would send nothing']],
  ['.inf and .nan named as YAML writes them', BASE.replace('arrivalRate: 1', 'arrivalRate: .inf').replace('  - name: browse', '  - name: browse\n    weight: .nan'),
    ['s.yaml:4:34 phases[0].arrivalRate: expected a number, got .inf', 's.yaml:7:13 flows[0].weight: expected a number, got .nan']],
  ['a huge value cut in the message', BASE.replace('arrivalRate: 1', `arrivalRate: ${'9x'.repeat(100_000)}`),
    [`s.yaml:4:34 phases[0].arrivalRate: expected a number, got "${'9x'.repeat(30)}…" (200000 characters)`]],
  ['a key given twice, named', BASE.replace('arrivalRate: 1', 'arrivalRate: 1, arrivalRate: 2'),
    ['s.yaml:4:37 phases[0].arrivalRate: the key "arrivalRate" is given twice (first on line 4); YAML would keep only the last']],
  ['a capture or variable named like a built-in', BASE.replace('- get: /a', '- { get: /a, capture: { iteration: $.n } }') + 'variables: { env: prod }\n',
    ['s.yaml:8:31 flows[0].steps[0].capture.iteration: iteration is a built-in variable; capture it under another name',
      's.yaml:9:14 variables.env: env is a built-in variable; choose another name']],
  ['two YAML documents in one file', BASE + '---\nname: second\n',
    ['s.yaml:9:1 (scenario): a second YAML document starts here ("---"); a scenario file holds one: remove the "---", or put each scenario in its own file']],
  ['nesting past what the parser can follow', BASE + `variables: { x: ${'['.repeat(3000)}${']'.repeat(3000)} }\n`,
    [expect.stringMatching(/^s\.yaml:9:\d+ \(scenario\): nested too deeply; a scenario may nest mappings and lists 64 levels deep$/) as unknown as string]],
  ['nesting past 64 levels', BASE + `variables: { x: ${'['.repeat(70)}${']'.repeat(70)} }\n`,
    [expect.stringMatching(/^s\.yaml:9:79 variables\.x(\[0\]){62}: nested too deeply; a scenario may nest mappings and lists 64 levels deep$/) as unknown as string]],
  ['terminal escapes in names printed escaped', BASE.replace('  - name: browse', '  - name: "\\e[2Jbrowse"') + 'thresholds: ["\\e]0;x: p99 < 1s"]\n',
    ['s.yaml:9:14 thresholds[0]: no endpoint or flow named "\\x1b]0;x"; names: \\x1b[2Jbrowse, GET /a']],
  ['schema, template and threshold problems in one pass', BASE.replace('arrivalRate: 1', 'arrivalRate: ten').replace('/a', '/a/{{ nope }}') + 'thresholds: [p95th < 1s]\n',
    ['s.yaml:4:34 phases[0].arrivalRate: expected a number, got "ten"',
      's.yaml:8:14 flows[0].steps[0].get: unknown variable "nope" (define it under variables, data, or capture it in an earlier step)',
      expect.stringMatching(/^s\.yaml:9:14 thresholds\[0\]: unknown metric "p95th"/) as unknown as string]],
  ['in one pass, a step the schema refuses still defines its name and captures (no false alarms)',
    BASE.replace('- get: /a', '- { name: create, post: /a, wieght: 1, capture: { id: $.id } }\n      - get: /b/{{ id }}/{{ nope }}') + 'thresholds: ["create: p95 < 1s"]\n',
    ['s.yaml:8:35 flows[0].steps[0].wieght: unknown key "wieght"',
      's.yaml:9:14 flows[0].steps[1].get: unknown variable "nope" (define it under variables, data, or capture it in an earlier step)']],
  ['in one pass, a step the schema refuses still has its URL, templates, header values and capture names checked',
    BASE.replace('- get: /a', '- get: http:///x/{{ nope }}\n        headers: { "Bad Name": "v\\r\\n", x-id: "{{ nope2 }}" }\n        capture: { env: $.a }'),
    ['s.yaml:8:14 flows[0].steps[0].get: the URL has no host (write http://host:port/...)',
      's.yaml:8:14 flows[0].steps[0].get: unknown variable "nope" (define it under variables, data, or capture it in an earlier step)',
      "s.yaml:9:20 flows[0].steps[0].headers.Bad Name: a header name is a token: letters, digits and !#$%&'*+-.^_`|~ only (no spaces or colons), got \"Bad Name\"",
      's.yaml:9:32 flows[0].steps[0].headers.Bad Name: a header value cannot hold a line break ("\\r"): it would end the header',
      's.yaml:9:47 flows[0].steps[0].headers.x-id: unknown variable "nope2" (define it under variables, data, or capture it in an earlier step)',
      's.yaml:10:20 flows[0].steps[0].capture.env: env is a built-in variable; capture it under another name']],
  ['in one pass, data files are read even when the schema refused another part', BASE.replace('arrivalRate: 1', 'arrivalRate: ten') + 'data: { users: { file: nope.csv } }\n',
    ['s.yaml:4:34 phases[0].arrivalRate: expected a number, got "ten"',
      expect.stringMatching(/^s\.yaml:9:24 data\.users\.file: cannot read .*nope\.csv: no such file$/) as unknown as string]],
  ['in one pass, variables that are not a mapping do not make every template variable unknown',
    BASE.replace('/a', '/a/{{ region }}') + 'variables: [eu]\n',
    ['s.yaml:9:12 variables: expected a mapping, got a list']],
];

describe('scalectl validate: one line per problem, file:line:col field: message, exit 3', () => {
  it.each([...CASES, ...FIRST_PITFALLS])('%s', async (_what, text, expected) => {
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

describe('scalectl validate: input files that are not plain UTF-8 text', () => {
  const validate = async (dir: string, file: string) => {
    const r = await runCli(['validate', file], { cwd: dir });
    return { code: r.code, out: (r.stdout + r.stderr).trim().split('\n')[0] };
  };
  const utf16 = (text: string, be = false) => {
    const le = Buffer.from(text, 'utf16le');
    if (be) le.swap16();
    return Buffer.concat([Buffer.from(be ? [0xfe, 0xff] : [0xff, 0xfe]), le]);
  };
  const WITH_DATA = BASE.replace('/a', '/a/{{ users.id }}') + 'data: { users: { file: users.csv } }\n';

  it('reads UTF-16 with a byte-order mark (LE and BE) and UTF-8 with one, scenario and data file alike', async () => {
    const dir = await tempFiles({});
    await writeFile(join(dir, 'le.yaml'), utf16(WITH_DATA));
    await writeFile(join(dir, 'be.yaml'), utf16(WITH_DATA, true));
    await writeFile(join(dir, 'bom.yaml'), '\ufeff' + WITH_DATA);
    await writeFile(join(dir, 'users.csv'), utf16('id,name\n1,Zoë\n'));
    expect(await validate(dir, 'le.yaml')).toEqual({ code: 0, out: 'le.yaml: ok' });
    expect(await validate(dir, 'be.yaml')).toEqual({ code: 0, out: 'be.yaml: ok' });
    expect(await validate(dir, 'bom.yaml')).toEqual({ code: 0, out: 'bom.yaml: ok' });
  });

  it('refuses UTF-16 without a byte-order mark, and text that is not UTF-8, saying to save it as UTF-8', async () => {
    const dir = await tempFiles({});
    await writeFile(join(dir, 'nobom.yaml'), Buffer.from(BASE, 'utf16le'));
    await writeFile(join(dir, 'latin1.yaml'), Buffer.from(BASE.replace('name: v', 'name: caf\u00e9'), 'latin1'));
    expect(await validate(dir, 'nobom.yaml')).toEqual({ code: 3, out: 'nobom.yaml:1:1 (scenario): cannot read scenario: holds a NUL byte (at byte 1): it is binary, or UTF-16 without a byte-order mark; save it as UTF-8' });
    expect(await validate(dir, 'latin1.yaml')).toEqual({ code: 3, out: 'latin1.yaml:1:1 (scenario): cannot read scenario: is not UTF-8 text; save it as UTF-8' });
  });

  it('refuses a FIFO or a device up front instead of blocking or reading without end, scenario and data file alike', async () => {
    const dir = await tempFiles({ 's.yaml': BASE + 'data: { a: { file: pipe.csv }, b: { file: /dev/zero } }\n' });
    execFileSync('mkfifo', [join(dir, 'pipe.csv')]);
    execFileSync('mkfifo', [join(dir, 'pipe.yaml')]);
    expect(await validate(dir, 'pipe.yaml')).toEqual({ code: 3, out: 'pipe.yaml:1:1 (scenario): cannot read scenario: is a pipe (FIFO), not a regular file' });
    expect(await validate(dir, '/dev/zero')).toEqual({ code: 3, out: '/dev/zero:1:1 (scenario): cannot read scenario: is a device, not a regular file' });
    const r = await runCli(['validate', 's.yaml'], { cwd: dir });
    expect(r.stderr).toMatch(/^s\.yaml:9:20 data\.a\.file: cannot read .*pipe\.csv: is a pipe \(FIFO\), not a regular file\ns\.yaml:9:43 data\.b\.file: cannot read \/dev\/zero: is a device, not a regular file\n/);
  });

  it(`refuses a scenario over ${MAX_SCENARIO_BYTES / 1024 / 1024} MiB without reading it`, async () => {
    const dir = await tempFiles({ 'big.yaml': BASE + '#'.repeat(MAX_SCENARIO_BYTES) + '\n' });
    expect(await validate(dir, 'big.yaml')).toEqual({ code: 3, out: `big.yaml:1:1 (scenario): cannot read scenario: is over the limit of 1 MiB (${BASE.length + MAX_SCENARIO_BYTES + 1} bytes)` });
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
  it('states the file size and nesting limits the code applies', async () => {
    const { MAX_DATA_FILE_BYTES } = await import('../src/scenarios/read-text-file.js');
    const { MAX_NESTING } = await import('../src/scenarios/parse-scenario-yaml.js');
    const section = doc.slice(doc.indexOf('## Files'), doc.indexOf('## Top level'));
    expect(section).toContain(`scenario file is at most **${MAX_SCENARIO_BYTES / 2 ** 20} MiB**`);
    expect(section).toContain(`data file at most **${MAX_DATA_FILE_BYTES / 2 ** 20} MiB**`);
    expect(section).toContain(`at most **${MAX_NESTING} levels**`);
  });
  it('documents every threshold metric', async () => {
    const { THRESHOLD_METRICS } = await import('../src/scenarios/threshold-expression.js');
    const section = doc.slice(doc.indexOf('## Thresholds'));
    for (const m of THRESHOLD_METRICS) expect(section).toContain(m);
  });
});
