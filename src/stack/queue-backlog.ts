import type { Redis } from 'ioredis';
import { bullWaitList } from './protocol.js';
import { fastFailRedis, redisReady } from './cache.js';
import { createDb, type Db, type DbConnection } from './db.js';
import { createEventBus } from './event-bus.js';
import type { EventBus } from './event-routing.js';
import { EVENT_CONSUMERS } from './protocol.js';
import type { StackConfig } from './stack-config.js';

/** The consumers' backlog as the consumer autoscaler reads it, on small connections of the primary's own. */
export interface BacklogReader {
  /** Jobs waiting to be taken (not running, not waiting for a retry). Throws when the queue cannot be read. */
  read: () => Promise<number>;
  close: () => Promise<void>;
}

/** The backlog the consumer autoscaler reads: orders and events (consumerBacklog). */
export function createBacklogReader(config: StackConfig, connection: DbConnection, log?: (level: 'info' | 'warn', msg: string) => void): BacklogReader {
  const db = config.backends === 'embedded'
    ? createDb({ connection, schema: config.dbSchema, poolSize: 1, applicationName: `scalectl-${config.dbSchema}-autoscaler` }) : undefined;
  const orders = orderBacklog(config, db);
  const bus = createEventBus(config, db);
  let unreadBefore = '';
  return {
    async read() {
      const { count, unread } = await consumerBacklog(orders.read, bus);
      // One line when the set of unreadable queues changes, not one per poll.
      const now = unread.join(', ');
      if (now !== unreadBefore) log?.(now ? 'warn' : 'info', now ? `consumer backlog: cannot read ${now}; scaling on the others` : 'consumer backlog: every queue readable again');
      unreadBefore = now;
      return count;
    },
    async close() {
      await bus.close(0);
      await orders.close();
    },
  };
}

/**
 * The event consumers run in the order consumers' processes, so one count
 * scales them all: the largest of the order backlog and each event queue's
 * waiting messages. KEDA with one trigger per queue (the redis list and each
 * rabbitmq queue, each with this target) takes the largest replica count of
 * its triggers, which is the same number. A queue that cannot be read (the
 * broker is down) is left out, so an outage of one does not stop scaling on
 * the others; only when none can be read does it throw.
 */
export async function consumerBacklog(orders: () => Promise<number>, bus: Pick<EventBus, 'depth' | 'queueName'>): Promise<{ count: number; unread: string[] }> {
  const names = ['orders', ...EVENT_CONSUMERS.map((c) => bus.queueName(c))];
  const results = await Promise.allSettled([orders(), ...EVENT_CONSUMERS.map((c) => bus.depth(c))]);
  const counts = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const unread = results.flatMap((r, i) => (r.status === 'rejected' ? [`${names[i]} (${r.reason instanceof Error ? r.reason.message : String(r.reason)})`] : []));
  if (counts.length === 0) throw new Error(`no consumer queue could be read: ${unread.join(', ')}`);
  return { count: Math.max(...counts), unread };
}

/**
 * KEDA's redis trigger counts the length of one list (LLEN of BullMQ's
 * `<keyPrefix>:bull:orders:wait`), so that is what is counted here: waiting
 * jobs only, not running ones, not the outbox. The embedded queue's
 * equivalent is its rows `waiting` and due (pg-queue.ts counts them the same
 * way for `shop_queue_jobs{state="waiting"}`).
 */
function orderBacklog(config: StackConfig, db: Db | undefined): BacklogReader {
  if (!db) {
    const redis: Redis = fastFailRedis(config.redisUrl!, undefined, 2_000);
    const list = bullWaitList(config.keyPrefix);
    return {
      async read() {
        // The first poll may come before the connection is up (commands are not queued while disconnected).
        if (redis.status !== 'ready') await redisReady(redis, 2_000);
        return redis.llen(list);
      },
      close: async () => { await redis.quit().catch(() => redis.disconnect()); },
    };
  }
  return {
    async read() {
      const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM jobs WHERE state = 'waiting' AND run_at <= now()`);
      return Number(r.rows[0]!.n);
    },
    close: () => db.close(),
  };
}
