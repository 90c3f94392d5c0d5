import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DURATION_PATTERN, formatDuration, parseDuration } from './duration.js';

describe('durations', () => {
  it('parse units, and bare numbers as seconds', () => {
    expect([parseDuration('500ms'), parseDuration('15s'), parseDuration('2m'), parseDuration('1h'), parseDuration('250us'), parseDuration(30), parseDuration('1.5s')])
      .toEqual([500, 15_000, 120_000, 3_600_000, 0.25, 30_000, 1500]);
    for (const bad of ['ten', '5 mins', '', '-1s', -1, Number.NaN, null]) expect(parseDuration(bad)).toBeUndefined();
  });
  it('parse compound durations, units in decreasing order, each once', () => {
    const cases: Array<[string, number]> = [['1m30s', 90_000], ['1h5m', 3_900_000], ['2h', 7_200_000], ['10min', 600_000], ['2.5s', 2500], ['1m0.5s', 60_500],
      ['1h1m1s1ms1us', 3_661_001.001], [' 1m 30s ', 90_000], ['1min30s', 90_000], ['1.5h', 5_400_000], ['0s', 0], ['5ms', 5], ['5m', 300_000]];
    for (const [text, ms] of cases) expect(parseDuration(text), text).toBeCloseTo(ms, 6);
    for (const bad of ['1s1m', '1m1m', 'ms', '1h 2', '1h2', '5 mins', '10mins', '1m30', '.5s', '1,5s', '1d', 's1', '1m-30s', '1 hour']) expect(parseDuration(bad), bad).toBeUndefined();
  });
  it('export the grammar that the parser uses', () => {
    const re = new RegExp(DURATION_PATTERN);
    for (const text of ['1m30s', '10min', '500ms', '30', '2.5s']) expect(re.test(text)).toBe(true);
    for (const text of ['ten', '1s1m', '']) expect(re.test(text)).toBe(false);
  });
  it('read any sum of parts in decreasing units as that many milliseconds (property)', () => {
    const units: Array<[string, number]> = [['h', 3_600_000], ['min', 60_000], ['s', 1000], ['ms', 1], ['us', 0.001]];
    fc.assert(fc.property(fc.array(fc.option(fc.nat(999), { nil: undefined }), { minLength: 5, maxLength: 5 }), (parts) => {
      const used = parts.map((n, i) => [n, units[i]!] as const).filter(([n]) => n !== undefined) as Array<readonly [number, [string, number]]>;
      fc.pre(used.length > 0);
      const text = used.map(([n, [u]]) => `${n}${u}`).join('');
      const ms = used.reduce((sum, [n, [, f]]) => sum + n * f, 0);
      expect(parseDuration(text)).toBeCloseTo(ms, 6);
      expect(new RegExp(DURATION_PATTERN).test(text)).toBe(true);
    }));
  });
  it('never accept a string that the exported grammar refuses, nor the reverse (property)', () => {
    const re = new RegExp(DURATION_PATTERN);
    fc.assert(fc.property(fc.stringMatching(/^[0-9hmsiun. ]{0,8}$/), (text) => {
      expect(parseDuration(text) !== undefined).toBe(re.test(text));
    }));
  });
  it('read back what formatDuration writes, to its rounding (property)', () => {
    fc.assert(fc.property(fc.double({ min: 0.001, max: 86_400_000, noNaN: true }), (ms) => {
      const back = parseDuration(formatDuration(ms));
      expect(back).toBeDefined();
      // formatDuration keeps about 3 significant digits, and whole seconds past a minute.
      expect(Math.abs(back! - ms)).toBeLessThanOrEqual(Math.max(ms * 0.006, ms >= 60_000 ? 500 : 0, 0.0005));
    }));
  });
  it('format for people', () => {
    expect([0.85, 12.34, 999, 1250, 150_000].map(formatDuration)).toEqual(['850us', '12.3ms', '999ms', '1.25s', '2m30s']);
    // Rounded to whole seconds first, then split: never 1m60s, 120m or 1000ms.
    expect([119_600, 7_200_000, 3_599_400, 3_599_600, 3_661_000, 3_630_000, 59_999, 999.96, 0.9996].map(formatDuration))
      .toEqual(['2m', '2h', '59m59s', '1h', '1h1m1s', '1h30s', '1m', '1s', '1ms']);
  });
});
