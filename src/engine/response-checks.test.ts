import { describe, expect, it } from 'vitest';
import { checkSchema, describeCheck, type CheckSpec } from '../scenarios/check-schema.js';
import { compileCheck, runChecks, type CheckedResponse } from './response-checks.js';

const RES: CheckedResponse = {
  status: 201,
  headers: { 'content-type': 'application/json; charset=utf-8', 'x-count': '7', 'set-cookie': ['a=1', 'b=2'] },
  body: JSON.stringify({ id: 42, sku: 'sku-9', tags: ['new', 'sale'], price: 19.5, nothing: null, order: { ref: 'order-123' } }),
  latencyMs: 120,
};

/** Whether one check (as written in YAML, parsed by the schema) holds on a response. */
function holds(written: unknown, vars: Record<string, unknown> = {}, res: CheckedResponse = RES): boolean {
  const spec = { ...checkSchema.parse(written), name: 'c' } as CheckSpec;
  const seen: boolean[] = [];
  runChecks([compileCheck(spec, 0)], res, vars, (_i, pass) => seen.push(pass));
  expect(seen).toHaveLength(1);
  return seen[0]!;
}

describe('checks on a response', () => {
  it('judge status and duration', () => {
    expect(holds({ status: { in: [200, 201] } })).toBe(true);
    expect(holds({ status: { equals: 200 } })).toBe(false);
    expect(holds({ status: { gte: 200, lt: 300 } })).toBe(true);
    expect(holds({ status: { notEquals: 201 } })).toBe(false);
    expect(holds({ duration: { lt: '300ms' } })).toBe(true);
    expect(holds({ duration: { lt: '100ms' } })).toBe(false);
    expect(holds({ duration: { gte: '120ms' } })).toBe(true);
    expect(holds({ duration: { gte: '0.12s', lt: '1m30s' } })).toBe(true);
  });

  it('name a duration check with its duration as people write it', () => {
    expect(describeCheck(checkSchema.parse({ duration: { lt: '1m30s', gte: '2.5ms' } }))).toBe('duration lt 1m30s, gte 2.5ms');
    expect(describeCheck(checkSchema.parse({ duration: { lt: '300ms' } }))).toBe('duration lt 300ms');
    expect(checkSchema.safeParse({ duration: { lt: 300 } }).success).toBe(false);
  });

  it('judge JSON paths with every operator', () => {
    expect(holds({ json: { path: '$.id', equals: 42 } })).toBe(true);
    expect(holds({ json: { path: '$.id', equals: '42' } })).toBe(true);
    expect(holds({ json: { path: '$.id', equals: 41 } })).toBe(false);
    expect(holds({ json: { path: '$.price', gt: 10, lte: 19.5 } })).toBe(true);
    expect(holds({ json: { path: '$.price', gt: 10, lt: 19.5 } })).toBe(false);
    expect(holds({ json: { path: '$.tags', contains: 'sale' } })).toBe(true);
    expect(holds({ json: { path: '$.tags', contains: 'old' } })).toBe(false);
    expect(holds({ json: { path: '$.tags', equals: ['new', 'sale'] } })).toBe(true);
    expect(holds({ json: { path: '$.order.ref', matches: '^order-[0-9]+$' } })).toBe(true);
    expect(holds({ json: { path: '$.sku', in: ['sku-1', 'sku-9'] } })).toBe(true);
    expect(holds({ json: { path: '$.nothing', exists: true } })).toBe(true);
    expect(holds({ json: { path: '$.missing', exists: false } })).toBe(true);
    expect(holds({ json: { path: '$.missing', equals: 1 } })).toBe(false);
    expect(holds({ json: { path: '$.missing', lt: 1 } })).toBe(false);
  });

  it('expand templates in values', () => {
    expect(holds({ json: { path: '$.sku', equals: 'sku-{{ n }}' } }, { n: 9 })).toBe(true);
    expect(holds({ json: { path: '$.id', equals: '{{ wanted }}' } }, { wanted: 42 })).toBe(true);
    expect(holds({ json: { path: '$.id', in: ['{{ a }}', '{{ b }}'] } }, { a: 1, b: 42 })).toBe(true);
    expect(holds({ body: { contains: '{{ sku }}' } }, { sku: 'sku-9' })).toBe(true);
  });

  it('judge bodies and headers', () => {
    expect(holds({ body: { contains: 'sku-9' } })).toBe(true);
    expect(holds({ body: { contains: 'Thank you' } })).toBe(false);
    expect(holds({ body: { matches: 'order-[0-9]+' } })).toBe(true);
    expect(holds({ body: { matches: '"ref":"order-1{1}2{1}3' } })).toBe(true);
    expect(holds({ body: { exists: false } }, {}, { ...RES, body: '' })).toBe(true);
    expect(holds({ header: { name: 'Content-Type', contains: 'json' } })).toBe(true);
    expect(holds({ header: { name: 'x-cache', exists: true } })).toBe(false);
    expect(holds({ header: { name: 'x-cache', exists: false } })).toBe(true);
    expect(holds({ header: { name: 'x-count', gt: 5, equals: 7 } })).toBe(true);
    expect(holds({ header: { name: 'set-cookie', contains: 'b=2' } })).toBe(true);
  });

  it('find nothing in a body that is not JSON', () => {
    expect(holds({ json: { path: '$.id', exists: true } }, {}, { ...RES, body: '<html>' })).toBe(false);
    expect(holds({ json: { path: '$', exists: false } }, {}, { ...RES, body: '<html>' })).toBe(true);
  });

  it('read JSON the captures already parsed instead of parsing the body again', () => {
    // The body is not JSON: only the parsed value given can answer.
    expect(holds({ json: { path: '$.id', equals: 7 } }, {}, { ...RES, body: 'not json', json: { value: { id: 7 } } })).toBe(true);
    // A body the captures found not to be JSON has nothing at any path.
    expect(holds({ json: { path: '$.id', exists: true } }, {}, { ...RES, json: { value: undefined } })).toBe(false);
  });

  it('count every check and ask to abort only for a failed one with abort: true', () => {
    const specs = [
      { status: { equals: 201 }, abort: true },
      { status: { equals: 500 } },
      { json: { path: '$.id', equals: 42 }, abort: true },
    ].map((w, i) => compileCheck({ ...checkSchema.parse(w), name: `c${i}` } as CheckSpec, i));
    const seen: [number, boolean][] = [];
    expect(runChecks(specs, RES, {}, (i, p) => seen.push([i, p]))).toBe(false);
    expect(seen).toEqual([[0, true], [1, false], [2, true]]);
    const aborting = [compileCheck({ ...checkSchema.parse({ status: { equals: 500 }, abort: true }), name: 'x' } as CheckSpec, 0), specs[2]!];
    seen.length = 0;
    expect(runChecks(aborting, RES, {}, (i, p) => seen.push([i, p]))).toBe(true);
    expect(seen).toEqual([[0, false], [2, true]]);
  });

  it('compare lists and objects by content, like scalars', () => {
    expect(holds({ json: { path: '$.tags', equals: ['new', 'sale'] } })).toBe(true);
    expect(holds({ json: { path: '$.order', equals: { ref: 'order-123' } } })).toBe(true);
    const res = { ...RES, body: JSON.stringify({ ids: ['1', '2'], o: { b: 2, a: 1 } }) };
    expect(holds({ json: { path: '$.ids', equals: [1, 2] } }, {}, res)).toBe(true);
    expect(holds({ json: { path: '$.ids', equals: [1, 2, 3] } }, {}, res)).toBe(false);
    expect(holds({ json: { path: '$.o', equals: { a: 1, b: 2 } } }, {}, res)).toBe(true);
    expect(holds({ json: { path: '$.o', equals: { a: '1', b: 2 } } }, {}, res)).toBe(true);
    expect(holds({ json: { path: '$.o', equals: { a: 1 } } }, {}, res)).toBe(false);
    expect(holds({ json: { path: '$.o', equals: { a: 1, c: 2 } } }, {}, res)).toBe(false);
  });

  it('tell a missing value from null', () => {
    expect(holds({ json: { path: '$.nothing', equals: null } })).toBe(true);
    expect(holds({ json: { path: '$.missing', equals: null } })).toBe(false);
    expect(holds({ json: { path: '$.missing', notEquals: null } })).toBe(true);
    expect(holds({ json: { path: '$.nothing', notEquals: null } })).toBe(false);
    expect(holds({ json: { path: '$.missing', in: [null, 1] } })).toBe(false);
  });

  it('count a check whose template fails as failed, count the others, then report the failure', () => {
    const specs = [
      { status: { equals: 201 } },
      { json: { path: '$.id', equals: '{{ randomInt(n, 2) }}' } },
      { json: { path: '$.id', equals: 42 } },
    ].map((w, i) => compileCheck({ ...checkSchema.parse(w), name: `c${i}` } as CheckSpec, i));
    const seen: [number, boolean][] = [];
    expect(() => runChecks(specs, RES, {}, (i, p) => seen.push([i, p]))).toThrow(/randomInt/);
    expect(seen).toEqual([[0, true], [1, false], [2, true]]);
  });
});
