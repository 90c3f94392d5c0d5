import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { runScenario } from '../helpers/cli.js';
import { stackSettings } from '../../src/stack/reference-target.js';

describe('target: reference', () => {
  it('starts the embedded stack for the run, sends the load to it, and stops it afterwards', async () => {
    const r = await runScenario(`
name: ref
target: reference
stack: { workers: 1, products: 300, hotProducts: 2, hotStock: 5, cacheTtl: 1m }
phases: [{ duration: 3s, arrivalRate: 10 }]
flows:
  - name: buy
    steps:
      - get: /api/products/{{ randomInt(1, 300) }}
      - name: checkout
        post: /api/checkout
        headers: { idempotency-key: "{{ uuid() }}" }
        json: { items: [{ productId: 1, qty: 1 }] }
        expect: { status: [202, 409] }
thresholds: [error_rate < 1%]
`);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/reference stack ready at http:\/\/127\.0\.0\.1:\d+ \(logs: .*stack\.log\)/);
    const checkout = r.result.endpoints.find((e) => e.name === 'checkout')!;
    // Five units for thirty buyers: the stack's hotStock setting reached it.
    expect(checkout.statusCodes).toEqual({ 202: 5, 409: 25 });
    expect(r.result.target).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The settings it ran with are recorded, defaults included, and shown.
    expect(r.result.stack).toMatchObject({ workers: 1, backends: 'embedded', products: 300, hotStock: 5, cache: true, cacheTtl: '1m', jobDuration: '50ms' });
    // The reference target's own default: no rate limit (all load comes from one address); recorded as it ran.
    expect(r.result.stack).toMatchObject({ rateLimit: 0 });
    expect(r.stdout).toMatch(/reference stack: workers 1, consumers 1, backends embedded, .*cache on, cacheTtl 1m,/);
    // Stopped: nothing listens there any more.
    await expect(request(r.result.target + '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('records the settings as the stack resolves them: the scenario\'s stack:, then SHOP_* variables, credentials masked', () => {
    const s = stackSettings({ cache: false, cacheTtl: 90_000 }, { SHOP_WORKERS: '3', SHOP_CACHE: 'on', SHOP_BACKENDS: 'external', DATABASE_URL: 'postgres://shop:s3cret@db:5432/shop' });
    expect(s).toMatchObject({ workers: 3, cache: false, cacheTtl: '1m30s', backends: 'external', databaseUrl: 'postgres://***@db:5432/shop', redisUrl: 'redis://127.0.0.1:6379' });
    expect(JSON.stringify(s)).not.toContain('s3cret');
  });
});
