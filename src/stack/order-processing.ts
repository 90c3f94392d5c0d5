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
