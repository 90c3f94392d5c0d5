import { describe, expect, it } from 'vitest';
import { passRate } from './pass-rate.js';

describe('pass rate', () => {
  it('never reads 100% while a check failed, nor 0% while one passed', () => {
    expect(passRate(9999, 1, 1)).toBe('99.9%');
    expect(passRate(99_999, 1, 2)).toBe('99.99%');
    expect(passRate(1, 9999, 1)).toBe('0.1%');
    expect(passRate(10, 0, 1)).toBe('100.0%');
    expect(passRate(0, 10, 2)).toBe('0.00%');
    expect(passRate(2, 1, 1)).toBe('66.7%');
    expect(passRate(0, 0, 1)).toBe('-');
    expect(passRate(0, 0, 2, '–')).toBe('–');
  });
});
