import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/stack/db.js';
import { migrate } from '../../src/stack/migrations.js';
import { countOverdueOrders, requeueOverdueOrders } from '../../src/stack/order-processing.js';
import { buy, dropRunData, eventually, http, PG_URL, startInProcessShop, uniqueName, type InProcessShop } from '../helpers/shop.js';
import { startOwnRedis, type OwnRedis } from '../helpers/redis-server.js';

// The database is the source of truth for work: an order the queue lost is queued again.
let shop: InProcessShop | undefined;
let redis: OwnRedis | undefined;
let db: Db | undefined;
let name = '';

afterEach(async () => {
  await shop?.stop();
  await db?.close();
  await redis?.stop();
  shop = undefined;
  db = undefined;
  redis = undefined;
  await dropRunData(name);
});

/** `name{labels} value` from a Prometheus exposition. */
const metric = (text: string, series: string): number => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);

const unfinished = async (d: Db): Promise<number> => Number((await d.query<{ n: string }>(`SELECT count(*) AS n FROM orders WHERE status <> 'done'`)).rows[0]!.n);

describe('requeueOverdueOrders', () => {
  it('puts unfinished orders older than the bound back in the outbox, once per bound, and counts the overdue', async () => {
    name = uniqueName();
    db = createDb({ connection: PG_URL, schema: name, poolSize: 4 });
    await migrate(db, name);
    const order = async (status: string, ageSec: number, opts: { inOutbox?: boolean; requeuedAgoSec?: number } = {}): Promise<string> => {
      const id = randomUUID();
      await db!.query(`INSERT INTO orders (id, items, total_cents, status, created_at, requeued_at)
        VALUES ($1, '[]', 100, $2, now() - $3 * interval '1 second', now() - $4 * interval '1 second')`, [id, status, ageSec, opts.requeuedAgoSec ?? null]);
      if (opts.inOutbox) await db!.query('INSERT INTO outbox (order_id) VALUES ($1)', [id]);
      return id;
    };
    const lost = [await order('accepted', 3600), await order('processing', 3600), await order('accepted', 3600, { requeuedAgoSec: 120 })];
    await order('done', 3600);
    await order('failed', 3600);
    await order('accepted', 3600, { inOutbox: true }); // overdue, but waiting for the relay already
    await order('accepted', 1); // not overdue yet
    await order('accepted', 3600, { requeuedAgoSec: 5 }); // re-queued within the bound

    expect(await countOverdueOrders(db, 60_000)).toBe(5);
    // Two rounds at once (two workers): each order goes back once.
    const rounds = await Promise.all([requeueOverdueOrders(db, 60_000), requeueOverdueOrders(db, 60_000)]);
    expect(rounds[0]! + rounds[1]!).toBe(3);
    const outbox = (await db.query<{ order_id: string }>('SELECT order_id FROM outbox')).rows.map((r) => r.order_id);
    expect(outbox).toHaveLength(4);
    expect(outbox).toEqual(expect.arrayContaining(lost));
    expect(await requeueOverdueOrders(db, 60_000)).toBe(0);
  });
});

describe('orders whose jobs were lost are queued again', () => {
  it('external: Redis restarted without its data loses no accepted order; overdue orders are counted and readiness says so', async () => {
    name = uniqueName();
    redis = await startOwnRedis();
    // One consumer and 300 ms per job: the jobs the relay hands over wait in Redis long enough to be lost.
    shop = await startInProcessShop(name, { redisUrl: redis.url, requeueAfter: '1s', queueConcurrency: '1', jobDuration: '300ms', rateLimit: '0', hotStock: '50' });
    const { url, db: shopDb } = shop;
    const placed = await Promise.all(Array.from({ length: 8 }, () => buy(url, 1)));
    expect(placed.map((r) => r.status)).toEqual(Array(8).fill(202));
    await eventually(async () => (await shopDb.query('SELECT 1 FROM outbox')).rowCount === 0, 10_000, 'the relay moved every order to Redis');

    await redis.stop();
    const during = await Promise.all(Array.from({ length: 2 }, () => buy(url, 2)));
    expect(during.map((r) => r.status)).toEqual([202, 202]);
    // Nothing can process them now: past the bound they are overdue, in the metric and in readiness.
    let overdue = 0;
    await eventually(async () => {
      overdue = metric((await http(`${url}/metrics`)).text, 'shop_orders_overdue');
      return overdue === await unfinished(shopDb);
    }, 10_000, 'overdue orders counted');
    expect(overdue).toBeGreaterThanOrEqual(4);
    expect((await http(`${url}/readyz`)).json).toEqual({ status: 'degraded', db: 'ok', cache: 'down', orders: 'overdue' });

    await redis.start(); // empty: the jobs it held are gone
    await eventually(async () => (await unfinished(shopDb)) === 0, 30_000, 'every order processed after Redis came back empty');
    const times = (await shopDb.query<{ times_processed: number }>('SELECT times_processed FROM orders')).rows.map((r) => r.times_processed);
    expect(times).toEqual(Array(10).fill(1));
    const text = (await http(`${url}/metrics`)).text;
    expect(metric(text, 'shop_orders_requeued_total')).toBeGreaterThanOrEqual(5);
    expect(metric(text, 'shop_orders_overdue')).toBe(0);
    await eventually(async () => (await http(`${url}/readyz`)).json.status === 'ok', 10_000, 'readiness back to ok');
  });

  it('embedded: jobs gone from the PostgreSQL queue are queued again', async () => {
    name = uniqueName();
    shop = await startInProcessShop(name, { backends: 'embedded', requeueAfter: '1s', queueConcurrency: '1', jobDuration: '300ms', rateLimit: '0', hotStock: '50' });
    const { url, db: shopDb } = shop;
    const placed = await Promise.all(Array.from({ length: 6 }, () => buy(url, 1)));
    expect(placed.map((r) => r.status)).toEqual(Array(6).fill(202));
    await eventually(async () => (await shopDb.query('SELECT 1 FROM outbox')).rowCount === 0, 10_000, 'the relay queued every order');
    const gone = (await shopDb.query(`DELETE FROM jobs WHERE state = 'waiting'`)).rowCount ?? 0;
    expect(gone).toBeGreaterThanOrEqual(3);
    await eventually(async () => (await unfinished(shopDb)) === 0, 20_000, 'every order processed');
    expect(metric((await http(`${url}/metrics`)).text, 'shop_orders_requeued_total')).toBeGreaterThanOrEqual(gone);
  });
});
