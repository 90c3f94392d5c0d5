import { describe, expect, it } from 'vitest';
import { parseJsonPath, readJsonPath } from './json-path.js';

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
