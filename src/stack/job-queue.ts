import type pg from 'pg';

/** Jobs by state, as `shop_queue_jobs{state}` reports them. */
export interface QueueCounts {
  waiting: number;
  active: number;
  /** Waiting for a retry after a failure. */
  delayed: number;
  /** Gave up after the last attempt. */
  failed: number;
}

/**
 * The order-processing queue. Delivery is at least once: a job may run again
 * after a crash or a redelivery, so the handler must be idempotent.
 */
export interface JobQueue {
  /**
   * Adds one job per order id. Throws when the queue cannot be reached (the
   * caller retries). A queue kept in PostgreSQL writes through `tx`, the
   * caller's transaction, so it needs no second connection and commits with it.
   */
  enqueue: (orderIds: string[], tx?: pg.PoolClient) => Promise<void>;
  /**
   * Of these orders, the ones the queue holds no live job for (waiting,
   * active or waiting for a retry): never queued, lost (a Redis restarted
   * without its data), or failed for good. A failed job of one of them is
   * removed, so queuing the order again adds a new job. Throws when the queue
   * cannot be reached. A queue kept in PostgreSQL reads and writes through `tx`.
   */
  missingJobs: (orderIds: string[], tx?: pg.PoolClient) => Promise<string[]>;
  /**
   * Starts consuming with the configured concurrency. `onGiveUp` runs when a
   * job failed its last attempt.
   */
  start: (handler: (orderId: string) => Promise<void>, onGiveUp: (orderId: string, err: unknown) => Promise<void>) => void;
  counts: () => Promise<QueueCounts>;
  /**
   * Stops taking jobs, lets active ones finish for up to `deadlineMs`, then
   * hands the unfinished ones back to the queue for another worker.
   */
  close: (deadlineMs: number) => Promise<void>;
}

/** Retry delay after `attempt` failures: 200 ms doubling, at most 10 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(10_000, 200 * 2 ** Math.max(0, attempt - 1));
}

/** Attempts before a job is marked failed. */
export const MAX_ATTEMPTS = 5;
