import type { Redis } from 'ioredis';
import { bullWaitList } from './protocol.js';
import { fastFailRedis, redisReady } from './cache.js';
import { createDb, type Db, type DbConnection } from './db.js';
import type { StackConfig } from './stack-config.js';

/** The order queue's backlog as the consumer autoscaler reads it, on a small connection of the primary's own. */
export interface BacklogReader {
  /** Jobs waiting to be taken (not running, not waiting for a retry). Throws when the queue cannot be read. */
  read: () => Promise<number>;
  close: () => Promise<void>;
}

/**
 * KEDA's redis trigger counts the length of one list (LLEN of BullMQ's
 * `<keyPrefix>:bull:orders:wait`), so that is what is counted here: waiting
 * jobs only, not running ones, not the outbox. The embedded queue's
 * equivalent is its rows `waiting` and due (pg-queue.ts counts them the same
 * way for `shop_queue_jobs{state="waiting"}`).
 */
export function createBacklogReader(config: StackConfig, connection: DbConnection): BacklogReader {
  if (config.backends === 'external') {
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
  const db: Db = createDb({ connection, schema: config.dbSchema, poolSize: 1, applicationName: `scalectl-${config.dbSchema}-autoscaler` });
  return {
    async read() {
      const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM jobs WHERE state = 'waiting' AND run_at <= now()`);
      return Number(r.rows[0]!.n);
    },
    close: () => db.close(),
  };
}
