import { describe, expect, it } from 'vitest';
import { ECHO_MAX_CHARS } from '../shared/printable.js';
import { parseThreshold } from './threshold-expression.js';

describe('parseThreshold messages', () => {
  const huge = (c: string): string => c.repeat(100_000);
  it.each([
    ['a malformed expression', huge('x')],
    ['an unknown metric', `${huge('a')} < 1`],
    ['a scope on a telemetry metric', `${huge('s')}: cpu.max < 80%`],
    ['a scope on an arrival metric', `${huge('s')}: dropped_rate < 1%`],
    ['a latency without a unit', `p99 < ${huge('9')}`],
    ['a drain time without a unit', `queue_drain_time < ${huge('9')}`],
    ['a bad duration', `p99 < ${huge('x')}`],
    ['a bad drain time', `queue_drain_time < ${huge('x')}`],
    ['a bad ratio', `cache_hit_ratio > ${huge('x')}`],
    ['a bad cpu', `cpu.max < ${huge('x')}`],
    ['a bad depth', `queue_depth.max < ${huge('x')}`],
    ['a bad count', `dropped_iterations < ${huge('x')}`],
    ['a bad rate', `error_rate < ${huge('x')}`],
    ['a bad rps', `rps > ${huge('x')}`],
    ['a bad percentile', `p(${huge('9')}) < 1s`],
    ['an unknown k6 metric with a tag filter', `${huge('a')}{name:x}: avg<1`],
    ['a k6 tag filter of another metric', `http_req_duration{${huge('t')}:x}: avg<1`],
    ['a malformed k6 tag filter', `http_req_duration{${huge('t')}}: avg<1`],
    ['a k6 aggregate a metric does not take', `http_req_duration: ${huge('a')}<1`],
    ['a bad checks rate', `checks > ${huge('x')}`],
    ['a bad count', `count < ${huge('x')}`],
  ])('echo a huge value cut, with its length: %s', (_what, text) => {
    const message = parseThreshold(text);
    expect(typeof message).toBe('string');
    // The metric list of "unknown metric" is the longest fixed part; the value adds at most ECHO_MAX_CHARS and its length.
    expect((message as string).length).toBeLessThan(600 + ECHO_MAX_CHARS);
    expect(message).toMatch(/…" \(\d+ characters\)/);
  });

  it('echoes a short value whole', () => {
    expect(parseThreshold('p99 < soon')).toBe('expected a duration such as 200ms or 1.5s, got "soon"');
    expect(parseThreshold('p99 < 200')).toBe('give p99 a unit, e.g. "p99 < 200ms"');
    expect(parseThreshold('api: cpu.max < 80%')).toBe('cpu.max is measured on the target as a whole; it takes no scope ("api:")');
  });
});
