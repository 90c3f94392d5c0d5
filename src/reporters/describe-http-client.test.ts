import { describe, expect, it } from 'vitest';
import { describeHttpClient } from './describe-http-client.js';

describe('describeHttpClient', () => {
  it('groups thousands and leaves the reasons out when undici sent nothing', () => {
    expect(describeHttpClient({ lean: 1_234_567, undici: 0, undiciReasons: [] })).toBe('lean 1,234,567 · undici 0');
    expect(describeHttpClient({ lean: 999, undici: 0, undiciReasons: ['stale reason'] })).toBe('lean 999 · undici 0');
  });

  it("names undici's reasons when it sent any", () => {
    expect(describeHttpClient({ lean: 12_345, undici: 1000, undiciReasons: ['https origin https://shop.example', 'defaults.httpClient: undici'] }))
      .toBe('lean 12,345 · undici 1,000 (https origin https://shop.example; defaults.httpClient: undici)');
  });
});
