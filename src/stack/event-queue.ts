import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { fastFailRedis } from './cache.js';
import type { Db } from './db.js';
import type { DomainEvent } from './domain-events.js';
import { eventRetryMs, subscribers, type EventBus, type EventHandler } from './event-routing.js';
import { EVENT_CONSUMERS, type EventConsumer } from './protocol.js';

/*
 * Domain events without a broker (`broker: queue`): one job queue per
 * consumer, on the stack's queue backend, so the embedded mode needs nothing
 * installed. The relay adds one job per consumer that hears the event (the
 * fan-out a topic exchange does), keyed by the event id, so an event relayed
 * twice while its job waits is queued once. An event's job is retried until
 * its handler succeeds: events are never given up (embedded: a failed job
 * goes back to waiting; BullMQ: attempts and stalls without a practical limit,
 * since a job BullMQ keeps as failed would never run again — its job id, the
 * event id, makes a later relay of the same event a no-op).
 */

/** The job queue of one consumer's events: `events.email`. */
export const eventJobQueue = (consumer: EventConsumer): string => `events.${consumer}`;

/** Embedded: the `event_jobs` table of the catalog primary, claimed with SKIP LOCKED like the order queue (pg-queue.ts). */
export function createPgEventQueue(db: Db, opts: { pollMs?: number; leaseMs?: number } = {}): EventBus {
  const pollMs = opts.pollMs ?? 100;
  const leaseMs = opts.leaseMs ?? 30_000;
  let stopping = false;
  const loops: Promise<void>[] = [];
  const idle = (): Promise<void> => new Promise((r) => setTimeout(r, pollMs));

  const claim = (consumer: EventConsumer) => db.query<{ event: DomainEvent; attempts: number }>(
    `UPDATE event_jobs SET state = 'active', attempts = attempts + 1, locked_until = now() + $2 * interval '1 millisecond'
     WHERE (consumer, event_id) = (SELECT consumer, event_id FROM event_jobs WHERE consumer = $1 AND state = 'waiting' AND run_at <= now()
                                   ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED)
     RETURNING event, attempts`, [consumer, leaseMs]).then((r) => r.rows[0]);

  const loop = async (consumer: EventConsumer, handler: EventHandler): Promise<void> => {
    while (!stopping) {
      const job = await claim(consumer).catch(() => undefined); // database unavailable: wait and try again
      if (!job) {
        await idle();
        continue;
      }
      const err = await handler(job.event).then(() => undefined, (e: unknown) => e ?? new Error('handler failed'));
      const settle = err === undefined
        ? db.query('DELETE FROM event_jobs WHERE consumer = $1 AND event_id = $2', [consumer, job.event.id])
        : db.query(`UPDATE event_jobs SET state = 'waiting', locked_until = NULL, run_at = now() + $3 * interval '1 millisecond' WHERE consumer = $1 AND event_id = $2`,
          [consumer, job.event.id, eventRetryMs(job.attempts)]);
      await settle.catch(() => undefined); // a lost settle is retried when the lease runs out (the handler dedupes)
    }
  };

  // Jobs whose consumer died (kill -9) go back to waiting once their lease runs out.
  const reaper = setInterval(() => {
    db.query(`UPDATE event_jobs SET state = 'waiting', locked_until = NULL WHERE state = 'active' AND locked_until < now()`).catch(() => undefined);
  }, Math.min(leaseMs, 5_000));
  reaper.unref();

  return {
    broker: 'queue',
    queueName: eventJobQueue,
    async publish(events, from) {
      const rows = events.flatMap((e) => subscribers(e.type).map((c) => [c, e.id, JSON.stringify(e)]));
      if (rows.length === 0) return;
      const sql = `INSERT INTO event_jobs (consumer, event_id, event) SELECT * FROM unnest($1::text[], $2::uuid[], $3::jsonb[]) ON CONFLICT DO NOTHING`;
      const values = [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])];
      // The relay of this same database: in its transaction (no second connection, and the hand-over is atomic).
      await (from?.db === db ? from.tx.query(sql, values) : db.query(sql, values));
    },
    consume(consumer, handler, prefetch) {
      for (let i = 0; i < prefetch; i++) loops.push(loop(consumer, handler));
    },
    async depth(consumer) {
      const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM event_jobs WHERE consumer = $1 AND state = 'waiting' AND run_at <= now()`, [consumer]);
      return Number(r.rows[0]!.n);
    },
    async close(deadlineMs) {
      stopping = true;
      clearInterval(reaper);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(loops), new Promise((r) => { timer = setTimeout(r, deadlineMs); })]);
      clearTimeout(timer);
    },
  };
}

/**
 * Attempts and stalls (a worker killed while holding the job) of an event's
 * job before BullMQ gives it up: unlimited in practice (over 150 years of
 * retries 5 s apart), since a failed job is never retried (see above).
 */
export const EVENT_JOB_ATTEMPTS = 1_000_000_000;

/** External: a BullMQ queue per consumer (`<keyPrefix>:bull:events.email:wait` is its waiting list), job id = event id. */
export function createBullEventQueue(opts: { url: string; keyPrefix: string }): EventBus {
  const prefix = `${opts.keyPrefix}:bull`;
  const producer = fastFailRedis(opts.url, undefined, 2_000);
  const queues = new Map(EVENT_CONSUMERS.map((c) => {
    const q = new Queue(eventJobQueue(c), { connection: producer, prefix });
    q.on('error', () => undefined);
    return [c, q] as const;
  }));
  const workers: Worker[] = [];
  let workerConnection: Redis | undefined;
  return {
    broker: 'queue',
    queueName: eventJobQueue,
    async publish(events) {
      await Promise.all(EVENT_CONSUMERS.map((c) => {
        const mine = events.filter((e) => subscribers(e.type).includes(c));
        return mine.length === 0 ? undefined : queues.get(c)!.addBulk(mine.map((e) => ({
          name: e.type, data: e,
          opts: { jobId: e.id, attempts: EVENT_JOB_ATTEMPTS, backoff: { type: 'fixed', delay: 5_000 }, removeOnComplete: true, removeOnFail: false },
        })));
      }));
    },
    consume(consumer, handler, prefetch) {
      // Blocking commands need retries without limit (BullMQ's requirement for workers).
      workerConnection ??= new Redis(opts.url, { maxRetriesPerRequest: null, retryStrategy: (t) => Math.min(t * 100, 1_000) });
      workerConnection.on('error', () => undefined);
      const w = new Worker<DomainEvent>(eventJobQueue(consumer), (job) => handler(job.data), {
        connection: workerConnection, prefix, concurrency: prefetch, maxStalledCount: EVENT_JOB_ATTEMPTS,
      });
      w.on('error', () => undefined);
      workers.push(w);
    },
    depth: (consumer) => queues.get(consumer)!.getWaitingCount(),
    async close(deadlineMs) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), deadlineMs)));
      // Past the deadline the connection is dropped: the unfinished jobs' locks expire and another worker takes them.
      await Promise.race([Promise.all(workers.map((w) => w.close().catch(() => undefined))), late]);
      clearTimeout(timer);
      await Promise.all([...queues.values()].map((q) => q.close().catch(() => undefined)));
      workerConnection?.disconnect();
      producer.disconnect();
    },
  };
}
