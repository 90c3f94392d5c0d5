import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from './db.js';
import { emitEvent } from './domain-events.js';
import { startRelayLoop, type RelayLoop } from './relay-loop.js';
import type { JobQueue } from './job-queue.js';
import { ORDER_QUEUE } from './protocol.js';
import { currentTraceparent, recording, startSpan, withSpan } from './tracing.js';

/**
 * The background work of an order (payment and confirmation e-mail,
 * simulated by `workMs` of waiting). Runs at least once per order; the status
 * guard makes a repeat a no-op, so each order is completed exactly once.
 */
export async function processOrder(db: Db, orderId: string, workMs: number): Promise<void> {
  const r = await db.query<{ traceparent: string | null }>(
    `UPDATE orders SET status = 'processing' WHERE id = $1 AND status IN ('accepted', 'processing') RETURNING traceparent`, [orderId]);
  if (r.rowCount === 0) return; // done already (a redelivery), or unknown
  // The queue hop: the work continues the trace of the checkout that placed the order.
  await withSpan('order process', async () => {
    if (workMs > 0) await sleep(workMs);
    // Done and OrderProcessed commit together: the event exists exactly when the order is done.
    await db.transaction(async (c) => {
      const done = await c.query(`UPDATE orders SET status = 'done', processed_at = now(), times_processed = times_processed + 1 WHERE id = $1 AND status <> 'done' RETURNING id`, [orderId]);
      if (done.rowCount) await emitEvent(c, 'OrderProcessed', { orderId }, currentTraceparent());
    });
  }, { kind: 'consumer', parent: r.rows[0]!.traceparent ?? undefined, attributes: { 'messaging.destination.name': ORDER_QUEUE, 'messaging.operation.type': 'process', 'scalectl.order_id': orderId } });
}

/** An order whose job failed its last attempt: marked failed, so it shows up instead of waiting forever. */
export async function failOrder(db: Db, orderId: string): Promise<void> {
  await db.query(`UPDATE orders SET status = 'failed' WHERE id = $1 AND status IN ('accepted', 'processing')`, [orderId]);
}

/** nudge: look now (a checkout just committed); stop: after the current batch. */
export type OutboxRelay = RelayLoop;

export interface OutboxRelayOptions {
  pollMs?: number;
  batch?: number;
  /** Called when a batch could not be handed over (queue down); the rows stay and are retried. */
  onError?: (err: unknown) => void;
  /**
   * A queue kept in PostgreSQL writes through the relay's transaction: only when it is on this
   * database. A shard's relay enqueues on the queue's own (at least once: a crash before the
   * delete enqueues again, and the job id is the order id). Default true.
   */
  queueInTx?: boolean;
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
  const relayOnce = (): Promise<number> => db.transaction(async (c) => {
    const rows = (await c.query<{ id: string; order_id: string; traceparent: string | null }>(
      'SELECT id, order_id, (SELECT traceparent FROM orders WHERE orders.id = outbox.order_id) AS traceparent FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED', [batch])).rows;
    if (rows.length === 0) return 0;
    await enqueueTraced(queue, rows, opts.queueInTx === false ? undefined : c);
    await c.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
    return rows.length;
  });

  // While the queue is failing the backoff holds: a checkout's nudge does not trigger another failing attempt.
  return startRelayLoop(relayOnce, { pollMs, batch, onError: (err) => opts.onError?.(err) });
}

/**
 * The queue hop's first half: while spans are recorded, each order of the
 * batch gets a PRODUCER span in its checkout's trace (the consumer's span is
 * the second half), ended when the batch is handed over.
 */
async function enqueueTraced(queue: JobQueue, rows: { order_id: string; traceparent: string | null }[], tx: Parameters<JobQueue['enqueue']>[1]): Promise<void> {
  const spans = recording() ? rows.filter((r) => r.traceparent).map((r) => startSpan('order enqueue', {
    kind: 'producer', parent: r.traceparent!,
    attributes: { 'messaging.destination.name': ORDER_QUEUE, 'messaging.operation.type': 'send', 'messaging.batch.message_count': rows.length, 'scalectl.order_id': r.order_id },
  })) : [];
  try {
    await queue.enqueue(rows.map((r) => r.order_id), tx);
  } catch (err) {
    for (const s of spans) s.end(true);
    throw err;
  }
  for (const s of spans) s.end();
}

/** Orders the reconciler looks at: placed, and not finished (or failed) yet. */
const UNFINISHED = `status IN ('accepted', 'processing')`;

/** Orders the reconciler checks in one transaction. */
export const RECONCILE_BATCH = 500;
/** Batches in one round at most: a long backlog is checked a bounded part at a time. */
export const RECONCILE_MAX_BATCHES = 10;

export interface RequeueOptions {
  /** Orders checked per transaction (default `RECONCILE_BATCH`). */
  batch?: number;
  /** Batches per round at most (default `RECONCILE_MAX_BATCHES`). */
  maxBatches?: number;
  /** The queue is on `db` (OutboxRelayOptions.queueInTx). Default true. */
  queueInTx?: boolean;
}

/**
 * One batch: the unfinished orders not looked at for `afterMs` (since checkout
 * or their last check), oldest first, are checked against the queue. Those
 * with a live job (a backlog waiting its turn, a job waiting for a retry) are
 * left alone; those without one go back in the outbox and are flagged
 * `job_missing` until they are done or seen queued again. Every order checked
 * gets `checked_at`, so it is checked again only after another `afterMs`.
 */
function reconcileBatch(db: Db, queue: JobQueue, afterMs: number, batch: number, queueInTx: boolean): Promise<{ checked: number; missing: number }> {
  return db.transaction(async (c) => {
    // One worker at a time per schema; the others skip the round.
    const lock = await c.query<{ got: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext('scalectl-requeue:' || current_schema())) AS got`);
    if (!lock.rows[0]!.got) return { checked: 0, missing: 0 };
    const ids = (await c.query<{ id: string }>(
      `SELECT id FROM orders
       WHERE ${UNFINISHED} AND greatest(created_at, checked_at) < now() - $1 * interval '1 millisecond'
         AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.order_id = orders.id)
       ORDER BY greatest(created_at, checked_at) LIMIT $2`, [afterMs, batch])).rows.map((r) => r.id);
    if (ids.length === 0) return { checked: 0, missing: 0 };
    const reported = await queue.missingJobs(ids, queueInTx ? c : undefined);
    // A job leaves the queue only after its order is done (or failed): an order a worker
    // finished since the SELECT above has no job any more, yet lost nothing. Read the
    // statuses again (a new snapshot) and keep only the orders still unfinished.
    const missing = reported.length === 0 ? [] : (await c.query<{ id: string }>(
      `SELECT id FROM orders WHERE id = ANY($1::uuid[]) AND ${UNFINISHED}`, [reported])).rows.map((r) => r.id);
    await c.query(`UPDATE orders SET checked_at = now(), job_missing = (id = ANY($2::uuid[])) WHERE id = ANY($1::uuid[])`, [ids, missing]);
    if (missing.length) await c.query('INSERT INTO outbox (order_id) SELECT unnest($1::uuid[])', [missing]);
    return { checked: ids.length, missing: missing.length };
  });
}

/**
 * Puts orders whose job the queue does not hold, `afterMs` after checkout (or
 * after their last check), back in the outbox, so the relay queues them
 * again: the database, not the queue, is the source of truth, and a queue
 * that lost its jobs (Redis restarted without its data) or gave one up
 * without marking its order failed (the database was down) loses no order.
 * Orders still queued are not touched. Processing is idempotent, so a
 * re-queue is safe. Works in batches, at most `maxBatches` per round; one
 * worker at a time per schema (an advisory lock). Returns how many orders
 * were re-queued.
 */
export async function requeueOverdueOrders(db: Db, queue: JobQueue, afterMs: number, opts: RequeueOptions = {}): Promise<number> {
  const batch = opts.batch ?? RECONCILE_BATCH;
  let requeued = 0;
  for (let i = 0; i < (opts.maxBatches ?? RECONCILE_MAX_BATCHES); i++) {
    const r = await reconcileBatch(db, queue, afterMs, batch, opts.queueInTx ?? true);
    requeued += r.missing;
    if (r.checked < batch) break;
  }
  return requeued;
}

/** Unfinished orders the reconciler found without a job (re-queued, not done yet): `shop_orders_overdue`. */
export async function countOverdueOrders(db: Db): Promise<number> {
  const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM orders WHERE ${UNFINISHED} AND job_missing`);
  return Number(r.rows[0]!.n);
}

export interface OrderReconcilerOptions {
  /** The bound: `requeueAfter`. */
  afterMs: number;
  /** Some orders went back in the outbox. */
  onRequeued: (count: number) => void;
  /** A round failed (the database or the queue was unreachable); the next one tries again. */
  onError?: (err: unknown) => void;
  /** The queue is on `db` (OutboxRelayOptions.queueInTx). Default true. */
  queueInTx?: boolean;
}

/** How often the reconciler looks: a quarter of the bound, between 100 ms and 5 s. */
export function reconcileIntervalMs(afterMs: number): number {
  return Math.min(5_000, Math.max(100, Math.round(afterMs / 4)));
}

/** Runs `requeueOverdueOrders` every `reconcileIntervalMs` until stopped. */
export function startOrderReconciler(db: Db, queue: JobQueue, opts: OrderReconcilerOptions): { stop: () => Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();
  const tick = (): void => {
    round = requeueOverdueOrders(db, queue, opts.afterMs, { queueInTx: opts.queueInTx }).then((n) => { if (n > 0) opts.onRequeued(n); }, (err: unknown) => opts.onError?.(err))
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
