import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';
import { parseJsonPath, readJsonPath } from './json-path.js';

describe('durations', () => {
  it('parse units, and bare numbers as seconds', () => {
    expect([parseDuration('500ms'), parseDuration('15s'), parseDuration('2m'), parseDuration('1h'), parseDuration('250us'), parseDuration(30), parseDuration('1.5s')])
      .toEqual([500, 15_000, 120_000, 3_600_000, 0.25, 30_000, 1500]);
    for (const bad of ['ten', '5 mins', '', '-1s', -1, Number.NaN, null]) expect(parseDuration(bad)).toBeUndefined();
  });
  it('format for people', () => {
    expect([0.85, 12.34, 999, 1250, 150_000].map(formatDuration)).toEqual(['850us', '12.3ms', '999ms', '1.25s', '2m30s']);
  });
});

describe('JSON paths', () => {
  it('parse the documented subset and read values', () => {
    const body = { id: 7, items: [{ sku: 'a' }], 'odd key': 1 };
    expect(readJsonPath(body, parseJsonPath('$.id')!)).toBe(7);
    expect(readJsonPath(body, parseJsonPath('$.items[0].sku')!)).toBe('a');
    expect(readJsonPath(body, parseJsonPath("$['odd key']")!)).toBe(1);
    expect(readJsonPath(body, parseJsonPath('$.items[3].sku')!)).toBeUndefined();
    expect(parseJsonPath('id')).toBeUndefined();
    expect(parseJsonPath('$..id')).toBeUndefined();
  });
});
