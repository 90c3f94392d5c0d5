import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { buy, dropRunData, eventually, http, REDIS_URL, startInProcessShop, uniqueName, type InProcessShop } from '../helpers/shop.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

// The machine's Redis is reached through a loopback proxy this test owns, so
// it can take Redis away and bring it back without touching the real server.
let shop: InProcessShop | undefined;
let proxy: TcpProxy | undefined;
let name = '';

afterEach(async () => {
  await proxy?.restore().catch(() => undefined);
  await shop?.stop();
  await proxy?.close();
  shop = undefined;
  proxy = undefined;
  await dropRunData(name);
});

const redisPort = Number(new URL(REDIS_URL).port || 6379);

describe('external backends when Redis goes away', () => {
  it('serves the catalog from PostgreSQL, still takes orders, and processes them once Redis returns', async () => {
    name = uniqueName();
    proxy = await startTcpProxy(redisPort);
    shop = await startInProcessShop(name, { redisUrl: `redis://127.0.0.1:${proxy.port}`, hotStock: '50', jobDuration: '0', rateLimit: '0' });
    const url = shop.url;
    const db = shop.db;
    // Healthy first: a cached read, an order processed end to end.
    await http(`${url}/api/products/7`);
    expect((await http(`${url}/api/products/7`)).headers['x-cache']).toBe('hit');
    const first = await buy(url, 1);
    await eventually(async () => (await http(`${url}/api/orders/${first.json.orderId}`)).json.status === 'done', 20_000, 'first order done');

    await proxy.cut();
    const ready = await http(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ status: 'degraded', db: 'ok', cache: 'down', orders: 'ok' });
    let slowest = 0;
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      const r = await http(`${url}/api/products/${i + 1}`);
      slowest = Math.max(slowest, performance.now() - t);
      expect(r.status).toBe(200);
      expect(r.headers['x-cache']).toBe('miss');
    }
    // Bounded: a failed cache read costs at most its command timeout (250 ms), not a hang.
    expect(slowest).toBeLessThan(1_500);
    const during = await Promise.all(Array.from({ length: 10 }, () => buy(url, 2)));
    expect(during.map((r) => r.status)).toEqual(Array(10).fill(202));
    const pending = await db.query('SELECT order_id FROM outbox');
    expect(pending.rowCount).toBe(10);

    await proxy.restore();
    await eventually(async () => (await db.query(`SELECT 1 FROM orders WHERE status <> 'done'`)).rowCount === 0, 30_000, 'orders placed during the outage processed');
    expect((await db.query('SELECT 1 FROM outbox')).rowCount).toBe(0);
    expect((await db.query<{ n: string }>('SELECT count(*) AS n FROM orders')).rows[0]!.n).toBe('11');
    await eventually(async () => (await http(`${url}/readyz`)).json.status === 'ok', 10_000, 'readiness back to ok');
    const errors = (await http(`${url}/metrics`)).text.match(/shop_cache_requests_total\{result="error"\} (\d+)/);
    expect(Number(errors?.[1])).toBeGreaterThanOrEqual(20);
  });

  it('rate-limits each connection address in Redis, whatever x-client-id or X-Forwarded-For say, with X-RateLimit headers and 429 + Retry-After, but never the ops routes', async () => {
    name = uniqueName();
    shop = await startInProcessShop(name, { rateLimit: '5' });
    const url = shop.url;
    // A client that picks a fresh id (or forwarded address) per request still has one budget: its connection's address.
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => http(`${url}/api/flash-sale`, { headers: { 'x-client-id': `user-${i}`, 'x-forwarded-for': `203.0.113.${i}` } })));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(10);
    expect(limited[0]!.headers['retry-after']).toMatch(/^\d+$/);
    expect(limited[0]!.json.error).toBe('rate_limited');
    const passed = answers.find((a) => a.status === 200)!;
    expect(passed.headers['x-ratelimit-limit']).toBe('5');
    const health = await Promise.all(Array.from({ length: 20 }, () => http(`${url}/healthz`)));
    expect(health.every((h) => h.status === 200)).toBe(true);
    // The counters live in Redis under the run's prefix, shared by every worker.
    const redis = new Redis(REDIS_URL);
    try {
      expect(await redis.keys(`${name}:ratelimit:*`)).toEqual([`${name}:ratelimit:ip:127.0.0.1`]);
    } finally {
      redis.disconnect();
    }
  });

  it('keys on x-client-id only when rateLimitKey is client-id, and on X-Forwarded-For only from a trusted proxy', async () => {
    name = uniqueName();
    shop = await startInProcessShop(name, { rateLimit: '5', rateLimitKey: 'client-id', trustProxy: '127.0.0.1' });
    const url = shop.url;
    const alice = await Promise.all(Array.from({ length: 20 }, () => http(`${url}/api/flash-sale`, { headers: { 'x-client-id': 'alice' } })));
    expect(alice.filter((a) => a.status === 429).length).toBeGreaterThanOrEqual(10);
    // Another client id has its own budget; so has each address the trusted proxy forwards.
    expect((await http(`${url}/api/flash-sale`, { headers: { 'x-client-id': 'bob' } })).status).toBe(200);
    const forwarded = await Promise.all(Array.from({ length: 20 }, (_, i) => http(`${url}/api/flash-sale`, { headers: { 'x-forwarded-for': `203.0.113.${i}` } })));
    expect(forwarded.map((a) => a.status)).toEqual(Array(20).fill(200));
  });
});

describe('drain (one worker, in-process)', () => {
  it('answers readiness 503 "draining" while in-flight requests finish', async () => {
    name = uniqueName();
    shop = await startInProcessShop(name, { downstreamLatency: '300ms', rateLimit: '0' });
    const s = shop;
    const slow = Array.from({ length: 3 }, (_, i) => http(`${s.url}/api/products/${i + 1}`));
    await eventually(async () => (await s.worker.registry.getSingleMetric('shop_http_requests_in_flight')!.get()).values[0]!.value === 3, 5_000, 'in flight');
    const drained = s.worker.drain(5_000);
    const ready = await s.worker.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'draining' });
    expect((await Promise.all(slow)).map((r) => [r.status, r.headers.connection])).toEqual(Array(3).fill([200, 'close']));
    await drained;
    shop = undefined; // drained already
    await s.db.close();
  });
});
