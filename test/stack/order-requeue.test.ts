import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/stack/db.js';
import { migrate } from '../../src/stack/migrations.js';
import { createBullQueue } from '../../src/stack/bullmq-queue.js';
import { ORDER_QUEUE } from '../../src/stack/protocol.js';
import { countOverdueOrders, requeueOverdueOrders } from '../../src/stack/order-processing.js';
import { createPgQueue } from '../../src/stack/pg-queue.js';
import { buy, dropRunData, eventually, http, PG_URL, REDIS_URL, startInProcessShop, uniqueName, type InProcessShop } from '../helpers/shop.js';
import { startOwnRedis, type OwnRedis } from '../helpers/redis-server.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

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

/** An order `ageSec` old, optionally already in the outbox or checked `checkedAgoSec` ago. */
async function order(d: Db, status: string, ageSec: number, opts: { inOutbox?: boolean; checkedAgoSec?: number } = {}): Promise<string> {
  const id = randomUUID();
  await d.query(`INSERT INTO orders (id, items, total_cents, status, created_at, checked_at)
    VALUES ($1, '[]', 100, $2, now() - $3 * interval '1 second', now() - $4 * interval '1 second')`, [id, status, ageSec, opts.checkedAgoSec ?? null]);
  if (opts.inOutbox) await d.query('INSERT INTO outbox (order_id) VALUES ($1)', [id]);
  return id;
}

const outbox = async (d: Db): Promise<string[]> => (await d.query<{ order_id: string }>('SELECT order_id FROM outbox')).rows.map((r) => r.order_id);

describe('requeueOverdueOrders', () => {
  it('embedded: re-queues only orders without a live job, in batches; a queued backlog is neither overdue nor re-queued', async () => {
    name = uniqueName();
    db = createDb({ connection: PG_URL, schema: name, poolSize: 4 });
    await migrate(db, name);
    const queue = createPgQueue(db, { concurrency: 1 }); // never started: every job stays where it is
    const backlog = [await order(db, 'accepted', 3600), await order(db, 'accepted', 3600)];
    await queue.enqueue(backlog);
    const lost = [await order(db, 'accepted', 3600), await order(db, 'processing', 3600), await order(db, 'accepted', 3600, { checkedAgoSec: 120 })];
    // Given up while the database was down: the job failed, the order could not be marked failed.
    const gaveUp = await order(db, 'processing', 3600);
    await queue.enqueue([gaveUp]);
    await db.query(`UPDATE jobs SET state = 'failed' WHERE id = $1`, [gaveUp]);
    await order(db, 'done', 3600);
    await order(db, 'failed', 3600);
    const waiting = await order(db, 'accepted', 3600, { inOutbox: true }); // waiting for the relay already
    await order(db, 'accepted', 1); // not overdue yet
    await order(db, 'accepted', 3600, { checkedAgoSec: 5 }); // checked within the bound

    // 6 orders to check, 2 per batch, 2 batches per round: a round checks 4 (the oldest first).
    expect(await requeueOverdueOrders(db, queue, 60_000, { batch: 2, maxBatches: 2 })).toBe(2);
    expect(await requeueOverdueOrders(db, queue, 60_000, { batch: 2, maxBatches: 2 })).toBe(2);
    expect((await outbox(db)).sort()).toEqual([waiting, ...lost, gaveUp].sort());
    expect(await countOverdueOrders(db)).toBe(4);
    expect((await db.query(`SELECT id FROM jobs ORDER BY id`)).rows.map((r) => r.id)).toEqual([...backlog].sort());
    expect(await requeueOverdueOrders(db, queue, 60_000)).toBe(0);
    // Processed after the re-queue: no longer overdue.
    await db.query(`UPDATE orders SET status = 'done' WHERE id = ANY($1::uuid[])`, [lost]);
    expect(await countOverdueOrders(db)).toBe(1);
  });

  it('an order finished while its job was being looked up (job gone because it is done) is not re-queued', async () => {
    name = uniqueName();
    db = createDb({ connection: PG_URL, schema: name, poolSize: 4 });
    await migrate(db, name);
    const finishing = await order(db, 'processing', 3600);
    const lost = await order(db, 'accepted', 3600);
    const d = db;
    // A worker finishes `finishing` (and its job is removed) between the reconciler's read and its look-up.
    const racing = createPgQueue(db, { concurrency: 1 });
    racing.missingJobs = async (ids) => {
      await d.query(`UPDATE orders SET status = 'done' WHERE id = $1`, [finishing]);
      return ids;
    };
    expect(await requeueOverdueOrders(db, racing, 60_000)).toBe(1);
    expect(await outbox(db)).toEqual([lost]);
    expect(await countOverdueOrders(db)).toBe(1);
  });

  it('external: an order whose BullMQ job is waiting is left alone, one without a job is re-queued', async () => {
    name = uniqueName();
    db = createDb({ connection: PG_URL, schema: name, poolSize: 4 });
    await migrate(db, name);
    const queue = createBullQueue({ url: REDIS_URL, keyPrefix: name, concurrency: 1 }); // no consumer
    try {
      const queued = await order(db, 'accepted', 3600);
      await queue.enqueue([queued]);
      const lost = await order(db, 'accepted', 3600);
      expect(await requeueOverdueOrders(db, queue, 60_000)).toBe(1);
      expect(await outbox(db)).toEqual([lost]);
      expect(await countOverdueOrders(db)).toBe(1);
      expect((await queue.counts()).waiting).toBe(1);
    } finally {
      await queue.close(1_000);
    }
  });

  it('one round at a time per schema: while another session holds the lock, a round does nothing', async () => {
    name = uniqueName();
    db = createDb({ connection: PG_URL, schema: name, poolSize: 4 });
    await migrate(db, name);
    const queue = createPgQueue(db, { concurrency: 1 });
    const lost = await order(db, 'accepted', 3600);
    const holder = createDb({ connection: PG_URL, schema: name, poolSize: 1 });
    try {
      await holder.transaction(async (c) => {
        await c.query(`SELECT pg_advisory_xact_lock(hashtext('scalectl-requeue:' || current_schema()))`);
        expect(await requeueOverdueOrders(db!, queue, 60_000)).toBe(0);
        expect(await outbox(db!)).toEqual([]);
      });
    } finally {
      await holder.close();
    }
    expect(await requeueOverdueOrders(db, queue, 60_000)).toBe(1);
    expect(await outbox(db)).toEqual([lost]);
  });
});

describe('orders whose jobs were lost are queued again', () => {
  it('external: Redis restarted without its data loses no accepted order; the orders it lost are queued again and processed once', async () => {
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
    // The queue cannot be asked which jobs it holds: nothing is re-queued or counted as overdue yet.
    expect((await http(`${url}/readyz`)).json).toEqual({ status: 'degraded', db: 'ok', cache: 'down', orders: 'ok' });

    await redis.start(); // empty: the jobs it held are gone
    await eventually(async () => (await unfinished(shopDb)) === 0, 30_000, 'every order processed after Redis came back empty');
    const times = (await shopDb.query<{ times_processed: number }>('SELECT times_processed FROM orders')).rows.map((r) => r.times_processed);
    expect(times).toEqual(Array(10).fill(1));
    const text = (await http(`${url}/metrics`)).text;
    expect(metric(text, 'shop_orders_requeued_total')).toBeGreaterThanOrEqual(5);
    expect(metric(text, 'shop_orders_overdue')).toBe(0);
    await eventually(async () => (await http(`${url}/readyz`)).json.status === 'ok', 10_000, 'readiness back to ok');
  });

  it('external: a job given up while PostgreSQL was down (its order could not be marked failed) is queued again once it is back', async () => {
    name = uniqueName();
    const proxy = await startTcpProxy(Number(new URL(PG_URL).port || 5432));
    const connection = new Redis(REDIS_URL);
    const jobs = new Queue(ORDER_QUEUE, { connection, prefix: `${name}:bull` });
    try {
      const viaProxy = new URL(PG_URL);
      viaProxy.port = String(proxy.port);
      shop = await startInProcessShop(name, { databaseUrl: viaProxy.toString(), requeueAfter: '1s', queueConcurrency: '1', jobDuration: '600ms', rateLimit: '0' });
      const { url, db: shopDb } = shop;
      const placed = await buy(url, 1);
      expect(placed.status).toBe(202);
      const id = placed.json.orderId as string;
      const status = async (): Promise<string> => (await shopDb.query<{ status: string }>('SELECT status FROM orders WHERE id = $1', [id])).rows[0]!.status;
      await eventually(async () => (await status()) === 'processing', 10_000, 'the job started');
      await proxy.cut();
      // Every attempt fails while the database is away, then the job is given up; failOrder cannot reach it either.
      await eventually(async () => (await jobs.getJobState(id)) === 'failed', 15_000, 'the job used up its attempts');
      await proxy.restore();
      await eventually(async () => (await status()) === 'done', 15_000, 'the order processed after the database came back');
      expect((await shopDb.query('SELECT times_processed FROM orders WHERE id = $1', [id])).rows[0]!.times_processed).toBe(1);
      expect(metric((await http(`${url}/metrics`)).text, 'shop_orders_overdue')).toBe(0);
    } finally {
      await proxy.restore().catch(() => undefined);
      await shop?.stop();
      shop = undefined;
      await jobs.close();
      connection.disconnect();
      await proxy.close();
    }
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
