import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ERROR_KINDS } from '../src/engine/http-exchange.js';
import { ExitCode } from '../src/exit-codes.js';
import { runCli, tempFiles } from './helpers/cli.js';

const scenario = (phase: string, step = '{ get: /a }', defaults = '') => `name: v
target: http://127.0.0.1:9
${defaults}
phases: [${phase}]
flows: [{ name: f, steps: [${step}] }]
`;

async function validate(yaml: string): Promise<{ code: number; stderr: string }> {
  const dir = await tempFiles({ 's.yaml': yaml });
  return runCli(['validate', 's.yaml'], { cwd: dir });
}

/** [what, scenario, an expected error line] */
const CASES: [string, string, string][] = [
  ['rampTo of VUs that is not whole', scenario('{ duration: 1s, vus: 1, rampTo: 2.5 }'),
    's.yaml:4:42 phases[0].rampTo: with vus, rampTo is a number of virtual users: a whole number, got 2.5'],
  ['rampTo past the VU bound', scenario('{ duration: 1s, vus: 1, rampTo: 200000 }'),
    's.yaml:4:42 phases[0].rampTo: at most 100000 virtual users, got 200000: each holds an iteration and a connection; for more load use arrivalRate, or run several generators'],
  ['vus: 0 without a ramp', scenario('{ duration: 1s, vus: 0 }'),
    's.yaml:4:31 phases[0].vus: must be above 0 (a ramp may start at 0: vus: 0, rampTo: 10)'],
  ['rampTo with a pause', scenario('{ pause: 1s, rampTo: 3 }'),
    's.yaml:4:31 phases[0].rampTo: rampTo goes with arrivalRate or vus'],
  ['a cookie name that is not a token', scenario('{ duration: 1s, vus: 1 }', '{ get: /a, cookies: { "a b": x } }'),
    's.yaml:5:50 flows[0].steps[0].cookies.a b: a cookie name is a token'],
  ['a cookie value with ;', scenario('{ duration: 1s, vus: 1 }', '{ get: /a, cookies: { a: "x;y" } }'),
    's.yaml:5:53 flows[0].steps[0].cookies.a: a cookie value cannot hold ";" (it would start another cookie); percent-encode it (%3B)'],
  ['an unknown variable in a cookie template', scenario('{ duration: 1s, vus: 1 }', '{ get: /a, cookies: { a: "{{ nope }}" } }'),
    's.yaml:5:53 flows[0].steps[0].cookies.a: unknown variable "nope"'],
  ['cookies on a think step', scenario('{ duration: 1s, vus: 1 }', '{ think: 1s, cookies: { a: x } }'),
    's.yaml:5:28 flows[0].steps[0]: a think step takes no cookies'],
  ['defaults.cookies not a boolean', scenario('{ duration: 1s, vus: 1 }', '{ get: /a }', 'defaults: { cookies: "yes" }'),
    's.yaml:3:22 defaults.cookies: expected true or false, got "yes"'],
  ['a misspelt TLS key', scenario('{ duration: 1s, vus: 1 }', '{ get: /a }', 'defaults: { tls: { insecur: true } }'),
    's.yaml:3:20 defaults.tls.insecur: unknown key "insecur" (did you mean insecure?)'],
  ['a passphrase without a key', scenario('{ duration: 1s, vus: 1 }', '{ get: /a }', 'defaults: { tls: { passphrase: x } }'),
    'defaults.tls.passphrase: goes with key (the passphrase of an encrypted key)'],
];

describe('validation of cookies, TLS and ramping VUs', () => {
  it.each(CASES)('%s', async (_what, yaml, line) => {
    const r = await validate(yaml);
    expect(r.code).toBe(ExitCode.invalidInput);
    expect(r.stderr).toContain(line);
  });

  it('accepts a ramp from 0 VUs, a ramp down, step cookies and TLS settings without files', async () => {
    const r = await validate(scenario('{ duration: 1s, vus: 0, rampTo: 5 }, { duration: 1s, vus: 5, rampTo: 0 }',
      '{ get: /a, cookies: { session: "{{ iteration }}", n: 3 } }', 'defaults: { cookies: false, tls: { insecure: true, servername: api.test } }'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(ExitCode.ok);
  });
});

describe('docs/scenarios.md "Errors, by kind"', () => {
  it('lists exactly the error kinds the engine counts (tls among them)', () => {
    const doc = readFileSync(new URL('../docs/scenarios.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### Errors, by kind'), doc.indexOf('### Cookies'));
    const documented = [...section.matchAll(/^\| ((?:`\w+`(?:, )?)+) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`(\w+)`/g)].map((k) => k[1]));
    expect(documented.sort()).toEqual([...ERROR_KINDS].sort());
  });
});
