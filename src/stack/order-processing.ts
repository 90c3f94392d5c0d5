import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from './db.js';
import type { JobQueue } from './job-queue.js';

/**
 * The background work of an order (payment and confirmation e-mail,
 * simulated by `workMs` of waiting). Runs at least once per order; the status
 * guard makes a repeat a no-op, so each order is completed exactly once.
 */
export async function processOrder(db: Db, orderId: string, workMs: number): Promise<void> {
  const r = await db.query(`UPDATE orders SET status = 'processing' WHERE id = $1 AND status IN ('accepted', 'processing') RETURNING id`, [orderId]);
  if (r.rowCount === 0) return; // done already (a redelivery), or unknown
  if (workMs > 0) await sleep(workMs);
  await db.query(`UPDATE orders SET status = 'done', processed_at = now(), times_processed = times_processed + 1 WHERE id = $1 AND status <> 'done'`, [orderId]);
}

/** An order whose job failed its last attempt: marked failed, so it shows up instead of waiting forever. */
export async function failOrder(db: Db, orderId: string): Promise<void> {
  await db.query(`UPDATE orders SET status = 'failed' WHERE id = $1 AND status IN ('accepted', 'processing')`, [orderId]);
}

export interface OutboxRelay {
  /** Look now (a checkout just committed) instead of at the next poll. */
  nudge: () => void;
  /** Stops after the current batch. */
  stop: () => Promise<void>;
}

export interface OutboxRelayOptions {
  pollMs?: number;
  batch?: number;
  /** Called when a batch could not be handed over (queue down); the rows stay and are retried. */
  onError?: (err: unknown) => void;
}

/**
 * Moves outbox rows onto the job queue: a batch is locked (SKIP LOCKED, so
 * relays in every worker share the work), enqueued, then deleted in the same
 * transaction. If the queue is down, the transaction rolls back and the
 * orders wait in the outbox until it returns; if the process dies between
 * enqueue and commit, the rows are enqueued again (at least once).
 */
export function startOutboxRelay(db: Db, queue: JobQueue, opts: OutboxRelayOptions = {}): OutboxRelay {
  const pollMs = opts.pollMs ?? 100;
  const batch = opts.batch ?? 200;
  let stopped = false;
  let wake: (() => void) | undefined;
  let pending = false;

  const relayOnce = (): Promise<number> => db.transaction(async (c) => {
    const rows = (await c.query<{ id: string; order_id: string }>(
      'SELECT id, order_id FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED', [batch])).rows;
    if (rows.length === 0) return 0;
    await queue.enqueue(rows.map((r) => r.order_id), c);
    await c.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
    return rows.length;
  });

  const wait = (ms: number): Promise<void> => new Promise((resolve) => {
    if (pending) {
      pending = false;
      resolve();
      return;
    }
    const timer = setTimeout(() => { wake = undefined; resolve(); }, ms);
    wake = () => { clearTimeout(timer); wake = undefined; resolve(); };
  });

  let failures = 0;
  const loop = (async () => {
    while (!stopped) {
      let moved = 0;
      try {
        moved = await relayOnce();
        failures = 0;
      } catch (err) {
        failures++;
        opts.onError?.(err);
      }
      if (stopped) break;
      if (moved < batch) await wait(failures ? Math.min(5_000, pollMs * 2 ** failures) : pollMs);
    }
  })();

  return {
    nudge() {
      // While the queue is failing, keep the backoff: a checkout must not trigger another failing attempt.
      if (failures > 0) return;
      if (wake) wake();
      else pending = true;
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}

/** Orders the reconciler looks at: placed, and not finished (or failed) yet. */
const UNFINISHED = `status IN ('accepted', 'processing')`;

/**
 * Puts orders that are still unfinished `afterMs` after checkout (or after
 * their last re-queue) back in the outbox, so the relay queues them again:
 * the database, not the queue, is the source of truth, and a queue that lost
 * its jobs (Redis restarted without its data) loses no order. An order whose
 * job still exists makes no second job (BullMQ job ids and the jobs table's
 * key are the order id), and processing is idempotent, so a re-queue is safe.
 * One run at a time per schema (an advisory lock; other workers skip the
 * round). Returns how many orders were re-queued.
 */
export function requeueOverdueOrders(db: Db, afterMs: number): Promise<number> {
  return db.transaction(async (c) => {
    const lock = await c.query<{ got: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext('scalectl-requeue:' || current_schema())) AS got`);
    if (!lock.rows[0]!.got) return 0;
    const r = await c.query(
      `WITH overdue AS (
         UPDATE orders SET requeued_at = now()
         WHERE ${UNFINISHED} AND coalesce(requeued_at, created_at) < now() - $1 * interval '1 millisecond'
           AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.order_id = orders.id)
         RETURNING id)
       INSERT INTO outbox (order_id) SELECT id FROM overdue`, [afterMs]);
    return r.rowCount ?? 0;
  });
}

/** Orders unfinished more than `afterMs` after checkout: `shop_orders_overdue`. */
export async function countOverdueOrders(db: Db, afterMs: number): Promise<number> {
  const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM orders WHERE ${UNFINISHED} AND created_at < now() - $1 * interval '1 millisecond'`, [afterMs]);
  return Number(r.rows[0]!.n);
}

export interface OrderReconcilerOptions {
  /** The bound: `requeueAfter`. */
  afterMs: number;
  /** Some orders went back in the outbox. */
  onRequeued: (count: number) => void;
  /** A round failed (the database was unreachable); the next one tries again. */
  onError?: (err: unknown) => void;
}

/** How often the reconciler looks: a quarter of the bound, between 100 ms and 5 s. */
export function reconcileIntervalMs(afterMs: number): number {
  return Math.min(5_000, Math.max(100, Math.round(afterMs / 4)));
}

/** Runs `requeueOverdueOrders` every `reconcileIntervalMs` until stopped. */
export function startOrderReconciler(db: Db, opts: OrderReconcilerOptions): { stop: () => Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();
  const tick = (): void => {
    round = requeueOverdueOrders(db, opts.afterMs).then((n) => { if (n > 0) opts.onRequeued(n); }, (err: unknown) => opts.onError?.(err))
      .finally(() => { if (!stopped) timer = setTimeout(tick, reconcileIntervalMs(opts.afterMs)); });
  };
  timer = setTimeout(tick, reconcileIntervalMs(opts.afterMs));
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round;
    },
  };
}
