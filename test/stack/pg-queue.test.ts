import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/stack/db.js';
import { migrate } from '../../src/stack/migrations.js';
import { failOrder } from '../../src/stack/order-processing.js';
import { createPgQueue } from '../../src/stack/pg-queue.js';
import { dropRunData, eventually, PG_URL, uniqueName } from '../helpers/shop.js';

// The embedded backends' job queue, on the machine's PostgreSQL in a schema of this run's own.
const name = uniqueName();
let db: Db;

beforeAll(async () => {
  db = createDb({ connection: PG_URL, schema: name, poolSize: 5 });
  await migrate(db, name);
});
afterAll(async () => {
  await db.close();
  await dropRunData(name);
});

async function newOrder(): Promise<string> {
  const id = randomUUID();
  await db.query(`INSERT INTO orders (id, items, total_cents, status) VALUES ($1, '[]', 0, 'accepted')`, [id]);
  return id;
}

describe('PostgreSQL job queue', () => {
  it('retries a failing job with backoff, then marks the job and its order failed', async () => {
    const queue = createPgQueue(db, { concurrency: 2, pollMs: 20 });
    const order = await newOrder();
    let calls = 0;
    queue.start(async () => {
      calls++;
      throw new Error('payment provider down');
    }, (id) => failOrder(db, id));
    try {
      await queue.enqueue([order, order]); // twice: one job
      // The order is marked failed by the give-up handler before the job itself is: wait for both.
      await eventually(async () => (await db.query(`SELECT 1 FROM orders WHERE id = $1 AND status = 'failed'`, [order])).rowCount === 1
        && (await queue.counts()).failed === 1, 20_000, 'order and job failed');
      expect(calls).toBe(5);
      expect(await queue.counts()).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 1 });
      const job = (await db.query<{ last_error: string }>('SELECT last_error FROM jobs WHERE id = $1', [order])).rows[0]!;
      expect(job.last_error).toBe('payment provider down');
    } finally {
      // Closed either way: a consumer left running would take the next test's job.
      await queue.close(1_000);
    }
  });

  it('on close, hands a job still running at the deadline back to the queue for another consumer', async () => {
    const queue = createPgQueue(db, { concurrency: 1, pollMs: 20 });
    const order = await newOrder();
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    queue.start(() => {
      started();
      return new Promise<void>(() => undefined); // never finishes
    }, async () => undefined);
    await queue.enqueue([order]);
    await running;
    await queue.close(100);
    const job = (await db.query<{ state: string; attempts: number }>('SELECT state, attempts FROM jobs WHERE id = $1', [order])).rows[0]!;
    expect(job).toEqual({ state: 'waiting', attempts: 0 });
    // Another consumer picks it up and finishes it.
    const next = createPgQueue(db, { concurrency: 1, pollMs: 20 });
    const done: string[] = [];
    next.start(async (id) => void done.push(id), async () => undefined);
    await eventually(async () => (await db.query('SELECT 1 FROM jobs WHERE id = $1', [order])).rowCount === 0, 10_000, 'job done');
    expect(done).toEqual([order]);
    await next.close(1_000);
  });
});
