import { describe, expect, it } from 'vitest';
import { compileCondition, compileJsonTemplate, compileTemplate, conditionTemplate, templateRefs, TemplateSyntaxError } from './template.js';
import { TEMPLATE_HELPERS } from './template-helpers.js';

describe('templates', () => {
  it('keeps the type of a whole-string expression, renders mixed text as a string', () => {
    expect(compileTemplate('{{ n }}')({ n: 42 })).toBe(42);
    expect(compileTemplate('id-{{ n }}')({ n: 42 })).toBe('id-42');
    expect(compileTemplate('plain')({})).toBe('plain');
    expect(compileTemplate('{{ user.address.city }}/{{ list[1] }}')({ user: { address: { city: 'Oslo' } }, list: ['a', 'b'] })).toBe('Oslo/b');
  });

  it('calls helpers with literal and variable arguments', () => {
    for (let i = 0; i < 200; i++) {
      const v = compileTemplate('{{ randomInt(lo, 5) }}')({ lo: 3 }) as number;
      expect(v).toBeGreaterThanOrEqual(3);
      expect(v).toBeLessThanOrEqual(5);
    }
    expect(['a', 'b']).toContain(compileTemplate("{{ randomItem('a', \"b\") }}")({}));
    expect([1, 2]).toContain(compileTemplate('{{ randomItem(xs) }}')({ xs: [1, 2] }));
    expect(compileTemplate('{{ uuid() }}')({})).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('lists what a template refers to', () => {
    const r = templateRefs('/p/{{ zipf(n, 1.2) }}/{{ users.email }}');
    expect([...r.variables].sort()).toEqual(['n', 'users']);
    expect(r.helpers).toEqual([{ name: 'zipf', argc: 2 }]);
    expect(r.paths).toContainEqual({ name: 'users', field: 'email' });
  });

  it('rejects malformed expressions', () => {
    for (const bad of ['{{ }}', '{{ a( }}', '{{ "x }}', '{{ a b }}', '{{ unclosed']) expect(() => templateRefs(bad)).toThrow(TemplateSyntaxError);
  });

  it('compiles JSON bodies, leaving untemplated ones to be serialised once', () => {
    expect(compileJsonTemplate({ a: 1, b: ['x'] })).toBeUndefined();
    const r = compileJsonTemplate({ a: '{{ n }}', b: [{ c: 'k{{ n }}' }], d: true })!;
    expect(r({ n: 7 })).toEqual({ a: 7, b: [{ c: 'k7' }], d: true });
  });
});

describe('zipf', () => {
  it('skews picks toward 1 in proportion to 1/k^s', () => {
    const counts = new Array<number>(11).fill(0);
    const n = 20_000;
    for (let i = 0; i < n; i++) counts[TEMPLATE_HELPERS.zipf!.fn([10, 1]) as number]!++;
    const h10 = [...Array(10).keys()].reduce((s, k) => s + 1 / (k + 1), 0);
    // Expected share of 1 is 1/H10 ≈ 0.341; of 10 it is 0.0341. 5-sigma margins.
    expect(Math.abs(counts[1]! / n - 1 / h10)).toBeLessThan(0.017);
    expect(Math.abs(counts[10]! / n - 1 / (10 * h10))).toBeLessThan(0.007);
    expect(counts[0]).toBe(0);
  });
});

describe('template operators', () => {
  const run = (t: string, vars: Record<string, unknown> = {}): unknown => compileTemplate(t)(vars);

  it('compares, with numbers and numeric strings alike', () => {
    expect(run('{{ n > 0 }}', { n: 3 })).toBe(true);
    expect(run('{{ n >= 3 }}', { n: 3 })).toBe(true);
    expect(run('{{ n < 3 }}', { n: 3 })).toBe(false);
    expect(run('{{ n <= 2.5 }}', { n: '2' })).toBe(true);
    expect(run('{{ s == "prod" }}', { s: 'prod' })).toBe(true);
    expect(run('{{ s != "prod" }}', { s: 'prod' })).toBe(false);
    expect(run('{{ n == "42" }}', { n: 42 })).toBe(true);
    expect(run('{{ "b" > "a" }}')).toBe(true);
    expect(run('{{ missing > 0 }}', {})).toBe(false);
    expect(run('{{ flag == true }}', { flag: true })).toBe(true);
    expect(run('{{ x == null }}', {})).toBe(true);
    expect(run('{{ list == other }}', { list: [1, 2], other: [1, 2] })).toBe(true);
  });

  it('binds ! tighter than comparisons, comparisons tighter than &&, && tighter than ||, parentheses first', () => {
    expect(run('{{ a || b && c }}', { a: true, b: false, c: false })).toBe(true);
    expect(run('{{ (a || b) && c }}', { a: true, b: false, c: false })).toBe(false);
    expect(run('{{ !a }}', { a: 0 })).toBe(true);
    expect(run('{{ !(n > 1) && n != 0 }}', { n: 1 })).toBe(true);
    expect(run('{{ !!n }}', { n: 'x' })).toBe(true);
    expect(run('{{ a && b }}', { a: 1, b: 'last' })).toBe('last');
    expect(run('{{ name || "anonymous" }}', {})).toBe('anonymous');
    expect(run('{{ randomInt(n, n) == 2 }}', { n: 2 })).toBe(true);
    expect(run('{{ items[0].price >= 2 }}', { items: [{ price: 2 }] })).toBe(true);
  });

  it('lists the names an expression refers to', () => {
    expect([...templateRefs('{{ a > 1 && !(b.c == d) }}').variables].sort()).toEqual(['a', 'b', 'd']);
    expect(templateRefs('{{ true && null == false }}').variables.size).toBe(0);
  });

  it('rejects malformed operator expressions', () => {
    for (const bad of ['{{ a > }}', '{{ (a }}', '{{ a = b }}', '{{ a === b }}', '{{ && a }}', '{{ a ! b }}']) {
      expect(() => templateRefs(bad), bad).toThrow(TemplateSyntaxError);
    }
  });

  it('takes conditions with or without braces', () => {
    expect(conditionTemplate('cart.total > 0')).toBe('{{ cart.total > 0 }}');
    expect(conditionTemplate(' {{ ok }} ')).toBe('{{ ok }}');
    expect(conditionTemplate('{{ a }} and {{ b }}')).toBe('{{ {{ a }} and {{ b }} }}');
    const when = compileCondition('cart.total > 0');
    expect(when({ cart: { total: 1 } })).toBe(true);
    expect(when({ cart: { total: 0 } })).toBe(false);
    expect(compileCondition('{{ name }}')({ name: '' })).toBe(false);
  });
});
