import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { importArtillery } from './import-artillery.js';
import { formatNote } from './import-notes.js';
import { artilleryDurationMs, scalectlDuration } from './artillery-duration.js';
import { RampArrivals } from '../schedule.js';
import { UserError } from '../../exit-codes.js';
import { loadScenario } from '../load-scenario.js';
import { formatIssue } from '../scenario-issue.js';

type Out = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'scalectl-artillery-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Translates a script; `lines` are the notes as the command prints them. */
function imp(script: string, opts: { dir?: string; canWrite?: boolean } = {}) {
  const dir = opts.dir ?? tempDir();
  const r = importArtillery('s.yml', script, { scriptDir: dir, outDir: dir, canWrite: opts.canWrite ?? true });
  return { ...r, out: parse(r.yaml) as Out, lines: r.notes.map((n) => formatNote('s.yml', n)) };
}

/** The validation issues of a translated scenario, as validate prints them. */
async function issuesOf(yaml: string): Promise<string[]> {
  const file = join(tempDir({ 'out.yaml': yaml }), 'out.yaml');
  const r = await loadScenario(file);
  return r.ok ? [] : r.issues.map(formatIssue);
}

const flowOf = (steps: string) => `config:\n  target: http://127.0.0.1:1\n  phases: [{ duration: 1, arrivalRate: 1 }]\nscenarios:\n  - flow:\n${steps}`;

describe('Artillery durations', () => {
  it('reads numbers of seconds and the ms package strings, and writes our units exactly', () => {
    expect(artilleryDurationMs(60)).toBe(60_000);
    expect(artilleryDurationMs('60')).toBe(60_000);
    expect(artilleryDurationMs('10min')).toBe(600_000);
    expect(artilleryDurationMs('1.5h')).toBe(5_400_000);
    expect(artilleryDurationMs('500ms')).toBe(500);
    expect(artilleryDurationMs('2 days')).toBe(172_800_000);
    expect(artilleryDurationMs('{{ d }}')).toBeUndefined();
    expect(['1h', '10m', '90s', '1500ms', '250us'].map((d, i) => scalectlDuration([3_600_000, 600_000, 90_000, 1500, 0.25][i]!))).toEqual(['1h', '10m', '90s', '1500ms', '250us']);
  });
});

describe('config', () => {
  it('translates phases: arrivalRate, rampTo, durations, pause, names, maxVusers', () => {
    const { out, lines } = imp(`config:
  target: http://x.test
  phases:
    - { name: warm, duration: 5min, arrivalRate: 1, rampTo: 5, maxVusers: 20 }
    - { pause: 10 }
    - { duration: 30, arrivalRate: 10, maxVusers: 40 }
scenarios: [{ flow: [{ get: { url: / } }] }]
`);
    expect(out.phases).toEqual([
      { name: 'warm', duration: '5m', arrivalRate: 1, rampTo: 5 },
      { pause: '10s' },
      { duration: '30s', arrivalRate: 10 },
    ]);
    expect(out.maxInFlight).toBe(40);
    expect(lines).toContain('s.yml:3:3 config.phases: note: maxVusers differs between phases; maxInFlight (one cap for the whole run) is the largest, 40');
  });

  it('turns arrivalCount N over D into the rate N/D, which starts exactly N arrivals', () => {
    for (const [n, d] of [[10, 3], [300, 300], [7, 9], [1, 1], [1000, 7]] as const) {
      const { out } = imp(`config: { target: http://x.test, phases: [{ duration: ${d}, arrivalCount: ${n} }] }\nscenarios: [{ flow: [{ get: { url: / } }] }]\n`);
      const rate = out.phases[0].arrivalRate as number;
      expect(rate).toBe(n / d);
      expect(new RampArrivals(rate, rate, d).count).toBe(n);
    }
  });

  it('without phases, runs one arrival, as Artillery runs one virtual user', () => {
    const { out, lines } = imp('config: { target: http://x.test }\nscenarios: [{ flow: [{ get: { url: / } }] }]\n');
    expect(out.phases).toEqual([{ duration: '1s', arrivalRate: 1 }]);
    expect(lines[0]).toMatch(/^s\.yml:1:1 config: note: no config\.phases/);
  });

  it('translates variables, http.timeout, default headers and tls.rejectUnauthorized', () => {
    const { out, lines } = imp(`config:
  target: https://x.test
  phases: [{ duration: 1, arrivalRate: 1 }]
  http: { timeout: 2.5 }
  defaults: { headers: { X-Key: "{{ $processEnvironment.KEY }}" } }
  tls: { rejectUnauthorized: false }
  variables: { region: eu, colour: [red, blue] }
scenarios: [{ flow: [{ get: { url: "/c/{{ colour }}/{{ region }}" } }] }]
`);
    expect(out.defaults).toEqual({ headers: { 'x-key': '{{ env.KEY }}' }, timeout: '2500ms', tls: { insecure: true } });
    expect(out.variables).toEqual({ region: 'eu', colour: ['red', 'blue'] });
    expect(out.flows[0].steps[0].get).toBe('/c/{{ randomItem(colour) }}/{{ region }}');
    expect(lines).toContain('s.yml:7:28 config.variables.colour: note: Artillery picks one element of a list variable per virtual user; {{ colour }} became {{ randomItem(colour) }}, which picks again at each use');
  });

  it('translates ensure: legacy keys, thresholds and conditions; lists what has no counterpart with its line', () => {
    const { out, lines } = imp(`config:
  target: http://x.test
  phases: [{ duration: 1, arrivalRate: 1 }]
  ensure:
    p95: 200
    median: 50
    maxErrorRate: 1
    thresholds:
      - http.response_time.p75: 120
      - http.requests: 10
    conditions:
      - expression: "http.response_time.p99 < 300 and http.response_time.max <= 900"
      - expression: "http.response_time.p99 < 300 or vusers.failed == 0"
      - expression: "http.response_time.min > 1"
        strict: false
scenarios: [{ flow: [{ get: { url: / } }] }]
`);
    expect(out.thresholds).toEqual(['p95 < 200ms', 'p50 < 50ms', 'error_rate <= 1%', 'p75 < 120ms', 'p99 < 300ms', 'max <= 900ms']);
    expect(lines).toContain('s.yml:10:9 config.ensure.thresholds[1]: threshold {"http.requests":10} not translated: only http.response_time.<min|max|mean|median|pNN> have a counterpart');
    expect(lines.some((l) => l.startsWith('s.yml:13:9 config.ensure.conditions[1]: condition'))).toBe(true);
    expect(lines.some((l) => l.startsWith('s.yml:15:9 config.ensure.conditions[2].strict: a condition with strict: false'))).toBe(true);
  });

  it('lists processor, plugins, hooks, environments, engines and before/after with their lines', () => {
    const { lines, notes } = imp(`config:
  target: http://x.test
  phases: [{ duration: 1, arrivalRate: 1 }]
  processor: ./p.js
  plugins: { expect: {}, metrics-by-endpoint: {}, publish-metrics: [] }
  environments: { staging: { target: http://s.test } }
before:
  flow: [{ function: init }]
scenarios:
  - beforeScenario: pick
    flow:
      - function: setProduct
      - get: { url: /x, afterResponse: logIt }
  - engine: socketio
    flow: [{ emit: { channel: x } }]
`);
    expect(lines).toEqual([
      's.yml:4:3 config.processor: processor "./p.js" not loaded: scalectl runs no JavaScript (each function it provides is listed where it is used)',
      's.yml:5:26 config.plugins.metrics-by-endpoint: note: metrics by endpoint are built in: every step is an endpoint in the results (name it with name:)',
      's.yml:5:51 config.plugins.publish-metrics: plugin "publish-metrics" not translated: scalectl has no plugins',
      's.yml:6:3 config.environments: environments (staging) not translated: pick one with --environment <name>',
      's.yml:7:1 before: the before section runs once per test, outside the load; scalectl has no such section: left out',
      's.yml:10:5 scenarios[0].beforeScenario: processor function "pick" (beforeScenario) not translated: scalectl runs no JavaScript',
      's.yml:12:9 scenarios[0].flow[0].function: processor function "setProduct" not translated: scalectl runs no JavaScript; step left out',
      's.yml:13:25 scenarios[0].flow[1].get.afterResponse: processor function "logIt" (afterResponse) not translated: scalectl runs no JavaScript; the request is kept without it',
      's.yml:14:5 scenarios[1].engine: engine "socketio" not translated: scalectl speaks HTTP; scenario left out',
    ]);
    expect(notes.filter((n) => n.kind === 'untranslated')).toHaveLength(8);
  });

  it('refuses (exit 3) a file that is not YAML or not an Artillery script', () => {
    for (const text of ['config: [\n', 'name: x\nflows: []\n', '- 1\n']) {
      let err: unknown;
      try {
        imp(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(3);
    }
  });
});

describe('payload', () => {
  it('writes a copy with a header row when the CSV has none, and reads fields through the feeder', () => {
    const dir = tempDir({ 'u.csv': 'alice,1\nbob,2\n' });
    const { out, copies } = imp(`config:
  target: http://x.test
  phases: [{ duration: 1, arrivalRate: 1 }]
  payload: { path: u.csv, fields: [user, id], order: sequence }
scenarios: [{ flow: [{ get: { url: "/u/{{ id }}?n={{ user }}" } }] }]
`, { dir });
    expect(out.data).toEqual({ u: { file: 'u.scalectl.csv', order: 'sequential' } });
    expect(copies[join(dir, 'u.scalectl.csv')]).toBe('user,id\nalice,1\nbob,2\n');
    expect(out.flows[0].steps[0].get).toBe('/u/{{ u.id }}?n={{ u.user }}');
  });

  it('uses the file as it is when its header row is the fields; order random by default', () => {
    const dir = tempDir({ 'u.csv': 'user,id\nalice,1\n' });
    const { out, copies, notes } = imp('config:\n  target: http://x.test\n  payload: { path: u.csv, fields: [user, id], skipHeader: true }\nscenarios: [{ flow: [{ get: { url: "/{{ user }}" } }] }]\n', { dir });
    expect(out.data).toEqual({ u: { file: 'u.csv', order: 'random' } });
    expect(copies).toEqual({});
    expect(notes.filter((n) => n.kind === 'untranslated')).toEqual([]);
  });

  it('without -o (stdout), a file that needs a header row is listed', () => {
    const dir = tempDir({ 'u.csv': 'alice\n' });
    const { lines, copies } = imp('config:\n  target: http://x.test\n  payload:\n    - path: u.csv\n      fields: [user]\nscenarios: [{ flow: [{ get: { url: "/{{ user }}" } }] }]\n', { dir, canWrite: false });
    expect(copies).toEqual({});
    expect(lines[1]).toMatch(/^s\.yml:4:7 config\.payload\[0\]\.path: scalectl's CSV feeders read column names from a header row, which u\.csv lacks: run with -o/);
  });

  it('loadAll becomes a list variable to loop over', () => {
    const dir = tempDir({ 'rr.csv': '/a,200\n/b,404\n' });
    const { out } = imp(flowOf('      - loop:\n          - get: { url: "{{ $loopElement.url }}" }\n        over: data\n').replace('  phases', '  payload: { path: rr.csv, fields: [url, code], loadAll: true, name: data }\n  phases'), { dir });
    expect(out.variables.data).toEqual([{ url: '/a', code: '200' }, { url: '/b', code: '404' }]);
    expect(out.flows[0].steps[0].loop).toEqual({ over: '{{ data }}', steps: [{ get: '{{ item.url }}' }] });
  });
});

describe('flows and requests', () => {
  it('names scenarios, keeps weights and makes names unique', () => {
    const { out } = imp('config: { target: http://x.test }\nscenarios:\n  - { weight: 3, flow: [{ get: { url: /a } }] }\n  - { name: b, flow: [{ get: { url: /b } }] }\n  - { name: b, flow: [{ get: { url: /c } }] }\n  - { name: z, weight: 0, flow: [{ get: { url: /z } }] }\n');
    expect(out.flows.map((f: Out) => [f.name, f.weight])).toEqual([['scenario 1', 3], ['b', undefined], ['b (3)', undefined]]);
  });

  it('translates url, qs, json, form, headers, cookie, auth and name', () => {
    const { out } = imp(flowOf(`      - post:
          url: /login?x=1
          name: login
          qs: { q: "a b", id: "{{ id }}" }
          form: { user: "{{ u }}", pw: "p&w" }
          headers: { X-Trace: t }
          cookie: { session: "{{ s }}" }
          auth: { user: bob, pass: secret }
      - put: { url: /j, json: { n: "{{ $randomNumber(1,10) }}", id: "{{ $uuid }}", e: "{{ $env.E }}" } }
`));
    expect(out.flows[0].steps).toEqual([
      {
        name: 'login',
        post: '/login?x=1&q=a%20b&id={{ id }}',
        body: 'user={{ u }}&pw=p%26w',
        headers: { 'x-trace': 't', authorization: `Basic ${Buffer.from('bob:secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        cookies: { session: '{{ s }}' },
      },
      { put: '/j', json: { n: '{{ randomInt(1,10) }}', id: '{{ uuid() }}', e: '{{ env.E }}' } },
    ]);
  });

  it('translates captures (json, header), lists regexp, xpath and unsupported JSON paths, and declares those left out empty so that the output validates', async () => {
    const { out, lines, yaml } = imp(flowOf(`      - get:
          url: /a
          capture:
            - { json: "$.items[0].id", as: first }
            - { header: X-Token, as: token }
            - { regexp: "id=(\\\\d+)", as: rid }
            - { json: "$..id", as: all }
            - { xpath: "//a", as: link }
      - post: { url: "/b/{{ rid }}/{{ all }}", json: { link: "{{ link }}", first: "{{ first }}" } }
`));
    expect(out.flows[0].steps[0].capture).toEqual({ first: '$.items[0].id', token: { header: 'x-token' } });
    expect(out.variables).toEqual({ rid: '', all: '', link: '' });
    expect(lines).toEqual([
      's.yml:11:15 scenarios[0].flow[0].get.capture[2]: regexp capture not translated: scalectl captures read a JSON path or a header; rid is declared empty instead (variables: { rid: "" }) so that the steps using it still validate',
      's.yml:12:17 scenarios[0].flow[0].get.capture[3].json: JSON path $..id not translated: scalectl paths take $, .key, [0] and [\'key\'] (no wildcards, filters or ..); all is declared empty instead (variables: { all: "" }) so that the steps using it still validate',
      's.yml:13:15 scenarios[0].flow[0].get.capture[4]: xpath capture not translated: scalectl captures read a JSON path or a header; link is declared empty instead (variables: { link: "" }) so that the steps using it still validate',
    ]);
    expect(await issuesOf(yaml)).toEqual([]);
  });

  it('translates expect (list or mapping) and match into expect.status and checks', () => {
    const { out, lines } = imp(flowOf(`      - get:
          url: /a
          expect:
            - statusCode: [200, "201"]
            - contentType: json
            - hasProperty: data.items[0].id
            - notHasProperty: error
            - hasHeader: X-Cache
            - headerEquals: [X-Region, "{{ region }}"]
            - matchesRegexp: "order-[0-9]+"
            - notStatusCode: 500
            - equals: ["{{ a }}", "b"]
      - get:
          url: /b
          expect: { statusCode: 204 }
          match: { json: "$.state", value: busy }
`));
    const [a, b] = out.flows[0].steps;
    expect(a.expect).toEqual({ status: [200, 201] });
    expect(a.check).toEqual([
      { header: { name: 'content-type', contains: 'json' } },
      { json: { path: '$.data.items[0].id', exists: true } },
      { json: { path: '$.error', exists: false } },
      { header: { name: 'x-cache', exists: true } },
      { header: { name: 'x-region', equals: '{{ region }}' } },
      { body: { matches: 'order-[0-9]+' } },
      { status: { notEquals: 500 } },
    ]);
    expect(b).toEqual({ get: '/b', expect: { status: 204 }, check: [{ json: { path: '$.state', equals: 'busy' } }] });
    expect(lines).toEqual(['s.yml:17:15 scenarios[0].flow[0].get.expect[8].equals: equals compares template values with each other, not the response; scalectl checks test the response (json, body, header, status, duration)']);
  });

  it('with the expect plugin\'s reportFailuresAsErrors, a failed check ends the iteration (abort: true)', () => {
    const { out } = imp(flowOf('      - get: { url: /a, expect: [{ contentType: json }] }\n').replace('  phases', '  plugins: { expect: { reportFailuresAsErrors: true } }\n  phases'));
    expect(out.flows[0].steps[0].check).toEqual([{ header: { name: 'content-type', contains: 'json' }, abort: true }]);
  });

  it('translates loops (count, over a list, over a variable), $loopElement, $loopCount, think and ifTrue', () => {
    const { out, lines } = imp(flowOf(`      - loop:
          - get: { url: "/p/{{ $loopElement }}?n={{ $loopCount }}", ifTrue: "$loopCount <= 2 and not (kind == 'x' or n != 3)" }
          - loop:
              - think: 0.25
            count: "2"
        over: [a, b]
      - loop: [{ get: { url: "/{{ $loopElement.id }}" } }]
        over: "{{ items }}"
      - get: { url: /q, ifTrue: "n * 2 > 1" }
      - loop: [{ get: { url: /w } }]
        whileTrue: more
      - get: { url: "/{{ $loopCount }}" }
      - log: hi
`));
    expect(out.flows[0].steps).toEqual([
      {
        loop: {
          over: ['a', 'b'],
          steps: [
            { if: "loopIndex <= 2 && !(kind == 'x' || n != 3)", get: '/p/{{ item }}?n={{ loopIndex }}' },
            { loop: { count: 2, steps: [{ think: '250ms' }] } },
          ],
        },
      },
      { loop: { over: '{{ items }}', steps: [{ get: '/{{ item.id }}' }] } },
      { get: '/q' },
      { get: '/{{ $loopCount }}' },
    ]);
    expect(lines).toEqual([
      's.yml:14:25 scenarios[0].flow[2].get.ifTrue: ifTrue "n * 2 > 1" not translated: only names, numbers, strings, comparisons, and/or/not and parentheses are; the request is kept and always sent',
      's.yml:16:9 scenarios[0].flow[3].whileTrue: whileTrue calls the processor function "more": scalectl runs no JavaScript; loop left out',
      's.yml:17:16 scenarios[0].flow[4].get.url: $loopCount outside a loop has no counterpart; left as written',
      's.yml:18:9 scenarios[0].flow[5].log: note: log left out: scalectl prints no messages from a flow',
    ]);
  });

  it('$loopCount is 0-based (loopIndex); in a count loop $loopElement stays 0, as in Artillery\'s createLoopWithCount', async () => {
    const { out, lines, yaml } = imp(flowOf(`      - loop:
          - get: { url: "/c/{{ $loopCount }}/{{ $loopElement }}" }
        count: 2
`));
    expect(out.flows[0].steps).toEqual([{ loop: { count: 2, steps: [{ get: '/c/{{ loopIndex }}/{{ 0 }}' }] } }]);
    expect(await issuesOf(yaml)).toEqual([]);
    expect(lines).toEqual(['s.yml:7:20 scenarios[0].flow[0].loop[0].get.url: note: $loopElement in a count loop is 0 in every round in Artillery (it advances only over a list); translated as 0: {{ loopIndex }} is the round']);
  });

  it('translates an ifTrue on a payload field (a dotted name, users.region)', () => {
    const dir = tempDir({ 'users.csv': 'ann,eu\nbob,us\n' });
    const { out, lines } = imp(flowOf('      - get: { url: /r, ifTrue: "region == \'eu\' and name != \'x\'" }\n')
      .replace('  phases', '  payload: { path: users.csv, fields: [name, region] }\n  phases'), { dir });
    expect(out.flows[0].steps[0].if).toMatch(/^users\.region == 'eu' && users\.name != 'x'$/);
    expect(lines.filter((l) => /ifTrue/.test(l))).toEqual([]);
  });

  it('declares no empty placeholder for a capture left out whose name is a payload field (its uses read the feeder)', () => {
    const dir = tempDir({ 'users.csv': 'ann,1\nbob,2\n' });
    const { out, lines } = imp(flowOf('      - get: { url: /a, capture: { regexp: "id=(\\\\d+)", as: id } }\n      - get: { url: "/x?id={{ id }}" }\n')
      .replace('  phases', '  payload: { path: users.csv, fields: [name, id] }\n  phases'), { dir });
    expect(out.variables).toBeUndefined();
    expect(out.flows[0].steps[1].get).toBe('/x?id={{ users.id }}');
    expect(lines.filter((l) => /capture/.test(l))).toEqual([expect.not.stringMatching(/declared empty/)]);
  });

  it('lists template functions without a counterpart', () => {
    const { lines, out } = imp(flowOf('      - get: { url: "/{{ $randomString() }}/{{ $myFn(1) }}" }\n'));
    expect(out.flows[0].steps[0].get).toBe('/{{ uuid() }}/{{ $myFn(1) }}');
    expect(lines).toEqual([
      's.yml:6:16 scenarios[0].flow[0].get.url: note: $randomString() became uuid(): a random string too, 36 characters long',
      's.yml:6:16 scenarios[0].flow[0].get.url: $myFn has no counterpart in scalectl templates; left as written',
    ]);
  });

  it('writes a header comment naming the source and what was not translated', () => {
    const { yaml } = imp(flowOf('      - function: f\n      - get: { url: / }\n'));
    expect(yaml.split('\n').slice(0, 3)).toEqual([
      '# Translated from the Artillery script s.yml by scalectl import artillery (docs/migrating.md).',
      '# Not translated (1):',
      '#   line 6: scenarios[0].flow[0].function: processor function "f" not translated: scalectl runs no JavaScript; step left out',
    ]);
  });
});

describe('environments', () => {
  const script = `config:
  target: http://x.test
  plugins: { metrics-by-endpoint: {} }
  environments:
    load:
      phases:
        - { duration: 10min, arrivalRate: 25, maxVusers: -1 }
    functional:
      target: http://f.test
      plugins:
        expect: { reportFailuresAsErrors: true }
scenarios: [{ flow: [{ get: { url: /a, expect: { hasHeader: x } } }] }]
`;
  it('without --environment, lists the environments', () => {
    const { lines, out } = imp(script);
    expect(lines).toContain('s.yml:4:3 config.environments: environments (load, functional) not translated: pick one with --environment <name>');
    expect(out.phases).toEqual([{ duration: '1s', arrivalRate: 1 }]);
  });

  it('with --environment, merges its settings over the config, and notes point into it', () => {
    const load = importArtillery('s.yml', script, { scriptDir: tmpdir(), outDir: tmpdir(), canWrite: false, environment: 'load' });
    expect(parse(load.yaml).phases).toEqual([{ duration: '10m', arrivalRate: 25 }]);
    expect(load.notes.map((n) => formatNote('s.yml', n))).toEqual([
      's.yml:3:14 config.plugins.metrics-by-endpoint: note: metrics by endpoint are built in: every step is an endpoint in the results (name it with name:)',
      's.yml:7:47 config.environments.load.phases[0].maxVusers: maxVusers must be a number above 0',
    ]);
    const fImport = importArtillery('s.yml', script, { scriptDir: tmpdir(), outDir: tmpdir(), canWrite: false, environment: 'functional' });
    // plugins is in both: the note on a plugin of the base config points at the base config, not into the environment.
    expect(fImport.notes.map((n) => formatNote('s.yml', n))).toEqual([
      's.yml:1:1 config: note: no config.phases: Artillery then runs one virtual user once; translated as one arrival ({ duration: 1s, arrivalRate: 1 })',
      's.yml:3:14 config.plugins.metrics-by-endpoint: note: metrics by endpoint are built in: every step is an endpoint in the results (name it with name:)',
    ]);
    const functional = parse(fImport.yaml) as Out;
    expect(functional.target).toBe('http://f.test');
    expect(functional.flows[0].steps[0].check).toEqual([{ header: { name: 'x', exists: true }, abort: true }]);
    expect(() => importArtillery('s.yml', script, { scriptDir: tmpdir(), outDir: tmpdir(), canWrite: false, environment: 'prod' }))
      .toThrow('--environment prod: the script has the environments load, functional');
  });
});
