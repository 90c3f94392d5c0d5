import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { parseExposition } from './exposition-parser.js';

describe('parseExposition', () => {
  it('reads names, labels (with escapes), values, special values and timestamps; skips comments', () => {
    const text = [
      '# HELP shop_x A thing.',
      '# TYPE shop_x counter',
      'shop_x 3',
      'shop_y{a="1",b="two words"} 4.5e2 1700000000000',
      'shop_z{path="C:\\\\dir",q="say \\"hi\\"",nl="a\\nb",} -1',
      'up{ job = "x" } +Inf',
      'down NaN',
      '',
    ].join('\n');
    const s = parseExposition(text);
    expect(s.map((x) => [x.name, x.labels, x.value])).toEqual([
      ['shop_x', {}, 3],
      ['shop_y', { a: '1', b: 'two words' }, 450],
      ['shop_z', { path: 'C:\\dir', q: 'say "hi"', nl: 'a\nb' }, -1],
      ['up', { job: 'x' }, Infinity],
      ['down', {}, NaN],
    ]);
  });

  it('reads what prom-client writes, histograms included', async () => {
    const r = new Registry();
    new Counter({ name: 'c_total', help: 'h', labelNames: ['result'], registers: [r] }).inc({ result: 'hit' }, 7);
    new Gauge({ name: 'g', help: 'h', registers: [r] }).set(0.25);
    new Histogram({ name: 'd_seconds', help: 'h', buckets: [0.1, 1], registers: [r] }).observe(0.5);
    const s = parseExposition(await r.metrics());
    expect(s.find((x) => x.name === 'c_total')).toEqual({ name: 'c_total', labels: { result: 'hit' }, value: 7 });
    expect(s.find((x) => x.name === 'g')!.value).toBe(0.25);
    expect(s.filter((x) => x.name === 'd_seconds_bucket').map((x) => [x.labels.le, x.value])).toEqual([['0.1', 0], ['1', 1], ['+Inf', 1]]);
  });

  it('reads the variants other exporters write: exemplars, a space before labels, CRLF, inf/nan in any case, # EOF', () => {
    const text = 'a_total 3 # {trace_id="abc"} 1 1700000000.5\r\nb {x="1"} +inf\r\nc -Infinity\nd nan\n# EOF\n';
    expect(parseExposition(text).map((x) => [x.name, x.labels, x.value])).toEqual([
      ['a_total', {}, 3], ['b', { x: '1' }, Infinity], ['c', {}, -Infinity], ['d', {}, NaN],
    ]);
  });

  it('rejects what is not the format, naming the line', () => {
    expect(() => parseExposition('x 1 abc')).toThrow(/not a timestamp: "abc"/);
    expect(() => parseExposition('x{a="1",a="2"} 1')).toThrow(/label a given twice/);
    expect(() => parseExposition('<html><body>hello</body></html>')).toThrow(/^line 1: expected a metric name/);
    expect(() => parseExposition('ok 1\nx{a="1" 2')).toThrow(/^line 2: expected , or } after label a/);
    expect(() => parseExposition('x{a="1"} one')).toThrow(/not a number: "one"/);
    expect(() => parseExposition('x{a="open} 1')).toThrow(/unterminated value of label a/);
    expect(() => parseExposition('x 1 2 3')).toThrow(/expected a value/);
  });
});
