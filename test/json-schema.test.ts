import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { scenarioJsonSchema, strictJsonSchema } from '../src/scenarios/json-schema.js';
import { scenarioSchema } from '../src/scenarios/schema.js';
import { parseThreshold } from '../src/scenarios/threshold-expression.js';

/*
 * The editor JSON Schema (docs/scenario.schema.json) compiles in ajv's strict
 * mode and agrees with `validate` on every example scenario and on mistakes.
 */

const ajv = new Ajv2020({ strict: true, allErrors: true });
const check = ajv.compile(scenarioJsonSchema());
const valid = (scenario: unknown): boolean => check(scenario);

const root = new URL('../', import.meta.url);
const examples = readdirSync(new URL('scenarios/examples/', root)).filter((f) => f.endsWith('.yaml'))
  .map((f) => [`scenarios/examples/${f}`, parse(readFileSync(new URL(`scenarios/examples/${f}`, root), 'utf8')) as unknown] as const);

const schema = scenarioJsonSchema() as { properties: Record<string, unknown> };
const base = { name: 's', target: 'http://127.0.0.1:1', flows: [{ name: 'f', steps: [{ get: '/' }] }] };

/**
 * Scenarios shown in the docs: YAML code blocks whose keys are all scenario
 * keys; a block showing only some sections (phases:, telemetry:) is completed
 * with the rest of a minimal scenario.
 */
const docExamples = ['README.md', ...readdirSync(new URL('docs/', root)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)].flatMap((file) => {
  const text = readFileSync(new URL(file, root), 'utf8');
  return [...text.matchAll(/```ya?ml\n([\s\S]*?)```/g)].flatMap((m) => {
    let doc: unknown;
    try {
      doc = parse(m[1]!);
    } catch {
      return []; // a fragment with "..." in it
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc) || !Object.keys(doc).every((k) => k in schema.properties)) return [];
    const line = text.slice(0, m.index).split('\n').length;
    return [[`${file}:${line}`, { ...base, phases: [{ duration: 1, arrivalRate: 1 }], ...doc }] as const];
  });
});

const withPhase = (phase: Record<string, unknown>) => ({ ...base, phases: [phase] });
const withThresholds = (thresholds: unknown) => ({ ...base, phases: [{ duration: '1s', arrivalRate: 1 }], thresholds });
const withSteps = (steps: unknown[]) => ({ ...base, phases: [{ duration: '1s', arrivalRate: 1 }], flows: [{ name: 'f', steps }] });

/** What `validate` says of a scenario's shape and its thresholds (judged after the schema, as validate does). */
function validateAccepts(scenario: unknown): boolean {
  const r = scenarioSchema.safeParse(scenario);
  return r.success && r.data.thresholds.every((t) => typeof parseThreshold(t.text, t.k6Key) !== 'string');
}

/** Refused by the editor schema, and by `validate` too (so the case is a real mistake, not a stricter schema). */
function expectRefused(scenario: unknown, what: string): void {
  expect(valid(scenario), `editor schema accepts ${what}`).toBe(false);
  expect(validateAccepts(scenario), `validate accepts ${what}`).toBe(false);
}

describe('editor JSON Schema', () => {
  it('compiles in ajv strict mode', () => {
    expect(typeof check).toBe('function');
  });

  it('accepts every example scenario and every whole scenario in the docs', () => {
    expect(examples.length).toBeGreaterThan(3);
    expect(docExamples.length).toBeGreaterThan(10);
    for (const [name, doc] of [...examples, ...docExamples]) expect(valid(doc) ? 'valid' : JSON.stringify(check.errors?.slice(0, 3)), name).toBe('valid');
  });

  it('requires exactly one load model per phase, and a duration with arrivalRate or vus only', () => {
    for (const phase of [{ duration: '1m30s', arrivalRate: 5, rampTo: 10 }, { duration: 30, vus: 3 }, { pause: '10min' }, { duration: '500ms', arrivalRate: 0.5 }]) {
      expect(valid(withPhase(phase)), JSON.stringify(phase)).toBe(true);
    }
    for (const phase of [{ duration: '1s' }, { duration: '1s', arrivalRate: 1, vus: 2 }, { arrivalRate: 1 }, { pause: '1s', duration: '1s' }, { pause: '1s', vus: 2 }, { duration: '1s', arrivalRate: 1, pause: '1s' }]) {
      expect(valid(withPhase(phase)), JSON.stringify(phase)).toBe(false);
    }
  });

  it('checks durations with the parser\'s grammar, numbers as seconds', () => {
    for (const duration of ['1m30s', '1h5m', '10min', '2.5s', '250us', '1m0.5s', 12, '30']) expect(valid(withPhase({ duration, arrivalRate: 1 })), String(duration)).toBe(true);
    for (const duration of ['ten', '1s1m', '5 mins', '', -1]) expect(valid(withPhase({ duration, arrivalRate: 1 })), String(duration)).toBe(false);
  });

  it('accepts threshold expressions in our syntax and k6\'s, and refuses what is not an expression', () => {
    const good = ['p99 < 200ms', 'error_rate < 1%', 'checkout: p95 < 300ms', 'p(95)<500', 'p(99.9) < 1.5s', 'avg<200', 'med < 100', 'rate<0.01', 'count > 100',
      'has id: checks > 99%', 'cache_hit_ratio >= 0.8', 'queue_drain_time < 1m30s', 'orders.rate > 2', 'p75 < 90ms'];
    for (const t of good) expect(valid(withThresholds([t])), t).toBe(true);
    expect(valid(withThresholds([{ checkout: 'p95 < 300ms' }, { http_req_duration: ['p(95)<500', 'avg<200'] }, { 'http_req_duration{name:checkout}': 'p(99)<300' }]))).toBe(true);
    for (const t of ['p99 is low', 'p99 <', '< 200ms', 'fast']) expect(valid(withThresholds([t])), t).toBe(false);
  });

  it('requires exactly one action per step; think and loop steps take no request keys', () => {
    for (const step of [{ get: '/x', post: '/y' }, {}, { name: 'n' }, { think: '1s', json: { a: 1 } }, { think: 1, name: 'n' }, { get: '/', think: '1s' },
      { loop: { count: 2, steps: [{ get: '/' }] }, headers: { a: 'b' } }, { loop: { count: 2, steps: [{ get: '/' }] }, check: [{ status: { in: [200] } }] },
      { request: { method: 'POST', url: '/' }, body: 'x' }, { post: '/', json: {}, body: 'x' }, { request: { method: 'POST', url: '/', json: {}, body: 'x' } }]) {
      expectRefused(withSteps([step]), JSON.stringify(step));
    }
    for (const step of [{ think: '1s', if: 'x > 0' }, { loop: { over: [1, 2], as: 'n', steps: [{ get: '/{{ n }}' }] }, if: 'true' }, { name: 'n', post: '/y', json: { a: 1 } }]) {
      expect(valid(withSteps([step])), JSON.stringify(step)).toBe(true);
    }
  });

  it('requires exactly one of count or over in a loop', () => {
    for (const loop of [{ count: 2, over: [1], steps: [{ get: '/' }] }, { steps: [{ get: '/' }] }]) expectRefused(withSteps([{ loop }]), JSON.stringify(loop));
  });

  it('requires exactly one subject per check, and an operator on it', () => {
    for (const check of [{ status: { in: [200] }, body: { contains: 'x' } }, {}, { name: 'n' }, { json: { path: '$.a' } }, { header: { name: 'x' } }, { body: {} }]) {
      expectRefused(withSteps([{ get: '/', check: [check] }]), JSON.stringify(check));
    }
    expect(valid(withSteps([{ get: '/', check: [{ json: { path: '$.a', exists: true } }, { header: { name: 'x', contains: 'y' }, abort: true }, { duration: { lt: '300ms' } }] }]))).toBe(true);
  });

  it('refuses a zero duration where it must be above 0', () => {
    for (const duration of ['0s', '0', '0ms', '0m0s', '0.0s', ' 0 ', 0]) expectRefused(withPhase({ duration, arrivalRate: 1 }), JSON.stringify(duration));
    expectRefused(withPhase({ pause: '0ms' }), 'pause: 0ms');
    expectRefused({ ...withPhase({ duration: '1s', arrivalRate: 1 }), defaults: { timeout: '0s' } }, 'timeout: 0s');
    for (const duration of ['0.5s', '0m1s', '10ms', '1us']) expect(valid(withPhase({ duration, arrivalRate: 1 })), duration).toBe(true);
    expect(valid(withSteps([{ think: '0s' }]))).toBe(true); // a think may be 0
  });

  it('refuses unknown threshold metrics and values out of their unit or range', () => {
    for (const t of ['foo < 3', 'p99 < 200xs', 'p99 < 20%', 'error_rate < 120%', 'error_rate < 2', 'error_rate < 1ms', 'checks > 101%', 'count > 1.5', 'rps > 5%',
      'p150 < 1s', 'p0 < 1ms', 'p(0.0) < 1ms', 'p95th < 1s', 'cache_hit_ratio > 1.5', 'dropped_iterations < 1s']) {
      expectRefused(withThresholds([t]), t);
    }
    for (const t of ['cpu.max < 150%', 'queue_depth.max < 100', 'orders.increase > 0', 'p99.99 < 2s', 'p(99.99) < 2s', 'p0.5 < 1ms', 'p(100) < 2s', 'error_rate <= 0.5', 'dropped_rate <= 1%', 'p999 < 1s']) {
      expect(valid(withThresholds([t])), t).toBe(true);
      expect(validateAccepts(withThresholds([t])), t).toBe(true);
    }
  });

  it('takes only k6 metrics scalectl reads as keys of the k6-style mapping, with their own tag filters', () => {
    for (const thresholds of [{ http_req_durations: ['p(95)<500'] }, { vus: ['value<1'] }, { 'dropped_iterations{name:x}': ['count<1'] }, { 'http_req_duration{flow:x}': ['p(95)<500'] }, { 'http_req_duration{name:a,method:GET}': ['p(95)<500'] }, { checkout: 'p95 < 300ms' }]) {
      expectRefused(withThresholds(thresholds), JSON.stringify(thresholds));
    }
    const good = { http_req_duration: ['p(95)<500'], 'http_req_failed{name:checkout}': ['rate<0.01'], checks: ['rate>0.99'], 'checks{check:has id}': 'rate>0.9',
      http_reqs: ['rate>10', 'count>100'], 'iteration_duration{flow:buy}': [{ threshold: 'p(99)<2000' }], dropped_iterations: ['count<1'] };
    expect(valid(withThresholds(good))).toBe(true);
    expect(validateAccepts(withThresholds(good))).toBe(true);
    expect(valid(withThresholds([{ checkout: 'p95 < 300ms' }, { 'any scope name': ['p99 < 1s'] }]))).toBe(true); // the list form's scopes are free text
  });

  it('takes stack settings only with target: reference', () => {
    expectRefused({ ...withPhase({ duration: 1, arrivalRate: 1 }), stack: {} }, 'stack with a URL target');
    expect(valid({ ...withPhase({ duration: 1, arrivalRate: 1 }), target: 'reference', stack: {} })).toBe(true);
  });

  it('refuses unknown keys, as validate does', () => {
    expect(valid({ ...withPhase({ duration: 1, arrivalRate: 1 }), phasse: [] })).toBe(false);
  });

  it('makes any zod schema strict-ready, not only today\'s fields: nesting, records with enum keys, nullable values, tuples, k6-like mappings', () => {
    const step = z.strictObject({
      get: z.string().optional(),
      cookies: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
      get loop() {
        return z.strictObject({ count: z.number().int().positive().optional(), over: z.union([z.string(), z.array(z.unknown())]).optional(), steps: z.array(step) }).optional();
      },
      perKind: z.record(z.enum(['a', 'b']), z.number().nullable()).optional(),
      pair: z.tuple([z.string(), z.number()]).optional(),
      thresholds: z.record(z.string(), z.array(z.union([z.string(), z.strictObject({ threshold: z.string(), abortOnFail: z.boolean().optional() })]))).optional(),
    });
    const schema = strictJsonSchema(z.toJSONSchema(z.strictObject({ steps: z.array(step) }), { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }));
    const validate = new Ajv2020({ strict: true }).compile(schema as object);
    expect(validate({ steps: [{ get: '/', loop: { count: 2, steps: [{ get: '/x', perKind: { a: 1, b: null } }] }, thresholds: { 'http_req_duration{name:x}': ['p(95)<500', { threshold: 'avg<200' }] } }] })).toBe(true);
    expect(validate({ steps: [{ perKind: { a: 1 } }] })).toBe(false); // b is required
    expect(validate({ steps: [{ perKind: { a: 'x', b: 1 } }] })).toBe(false); // a keeps its value schema
    expect(validate({ steps: [{ loop: { steps: [{ gett: '/' }] } }] })).toBe(false);
  });

  it('turns a list of types into one anyOf branch per type, each with its own keywords', () => {
    expect(strictJsonSchema({ description: 'd', type: ['string', 'number'], pattern: '^a', minimum: 1 })).toEqual({
      description: 'd', anyOf: [{ type: 'string', pattern: '^a' }, { type: 'number', minimum: 1 }],
    });
  });
});
