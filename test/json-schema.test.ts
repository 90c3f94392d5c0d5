import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { scenarioJsonSchema, strictJsonSchema } from '../src/scenarios/json-schema.js';

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
