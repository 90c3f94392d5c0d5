import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/stack/db.js';
import type { DomainEvent } from '../../src/stack/domain-events.js';
import { applyEvent } from '../../src/stack/event-consumers.js';
import { createBullEventQueue, EVENT_JOB_ATTEMPTS, eventJobQueue } from '../../src/stack/event-queue.js';
import { migrate } from '../../src/stack/migrations.js';
import { dropRunData, eventually, PG_URL, REDIS_URL, uniqueName } from '../helpers/shop.js';

// Delivery guarantees of the event consumers and the job-queue fallback (domain-events.test.ts: end to end).

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f().catch(() => undefined);
});

function ownedRun(): string {
  const name = uniqueName();
  cleanups.push(() => dropRunData(name));
  return name;
}

const count = async (db: Db, sql: string, values: unknown[] = []): Promise<number> => Number((await db.query<{ n: string }>(sql, values)).rows[0]?.n ?? 0);

describe('the e-mail consumer', () => {
  it('sends one copy of an event at a time: a copy delivered during the send is handed back, and attempts count the sends', async () => {
    const name = ownedRun();
    const db = createDb({ connection: PG_URL, schema: name, poolSize: 4 });
    cleanups.push(() => db.close());
    await migrate(db, name);
    const e: DomainEvent = { id: randomUUID(), type: 'OrderCreated', occurredAt: new Date().toISOString(), data: { orderId: randomUUID(), items: [], totalCents: 0 } };
    const first = applyEvent(db, 'email', e, { emailLatencyMs: 300 });
    await eventually(async () => (await count(db, 'SELECT count(*) AS n FROM email_sends')) === 1, 5_000, 'the send claimed');
    // A redelivery racing the first: it must not send too.
    await expect(applyEvent(db, 'email', e, { emailLatencyMs: 300 })).rejects.toThrow(/being sent by another copy/);
    expect(await first).toBe('done');
    expect(await applyEvent(db, 'email', e, { emailLatencyMs: 300 })).toBe('duplicate');
    expect(await count(db, 'SELECT attempts AS n FROM email_sends WHERE event_id = $1', [e.id])).toBe(1);
    expect(await count(db, 'SELECT count(*) AS n FROM emails_sent')).toBe(1);
  });
});

describe('the BullMQ event queue', () => {
  it('BullMQ: an event job is not given up after 1,000 failures (it would stay failed, and a relay again would not revive it)', async () => {
    const name = ownedRun();
    const bus = createBullEventQueue({ url: REDIS_URL, keyPrefix: name });
    cleanups.push(() => bus.close(0));
    const e: DomainEvent = { id: randomUUID(), type: 'StockLow', occurredAt: new Date().toISOString(), data: { productId: 1, stock: 0 } };
    await bus.publish([e]);
    const q = new Queue(eventJobQueue('analytics'), { connection: { url: REDIS_URL }, prefix: `${name}:bull` });
    cleanups.push(() => q.close());
    const job = await q.getJob(e.id);
    expect(job?.opts.attempts).toBe(EVENT_JOB_ATTEMPTS);
    expect(EVENT_JOB_ATTEMPTS).toBeGreaterThanOrEqual(1e9);
  });

});
