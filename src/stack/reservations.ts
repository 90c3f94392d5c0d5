import type pg from 'pg';
import { acceptedAnswer, type CheckoutAnswer } from './checkout.js';
import type { DbTopology } from './db-topology.js';
import { reconcileIntervalMs } from './order-processing.js';

/*
 * Stock reservations of a sharded checkout (sharded-checkout.ts): a row on
 * the catalog primary per checkout, 'reserved' from the moment its stock is
 * taken until it is resolved. Invariants kept, whatever crashes: stock plus
 * the units of placed orders equals the initial stock; every placed order
 * has a committed reservation; a released reservation's order never exists.
 */

/** Stores a checkout's answer with its idempotency key (replays get it). */
export async function storeAnswer(c: pg.PoolClient, key: string, answer: CheckoutAnswer): Promise<void> {
  await c.query('UPDATE idempotency_keys SET status_code = $2, response = $3 WHERE key = $1', [key, answer.status, answer.body]);
}

/**
 * Resolves a reservation: on its shard, in one transaction, either finds its
 * order, or writes a tombstone under the order's id (a 'void' order) so that
 * a late step 2 can never place it; then on the primary marks it committed
 * (storing the 202 with its key, unless an answer is there), or released:
 * its stock goes back, and its key is freed (a retry checks out afresh) or
 * keeps `answer` when the checkout gave a final one (the cart was gone).
 * Safe to run concurrently and repeatedly: the tombstone decides once, and
 * only a 'reserved' row changes. Returns the reservation's state after.
 */
export async function resolveReservation(dbs: DbTopology, id: string, answer?: CheckoutAnswer): Promise<'committed' | 'released' | 'unknown'> {
  const row = (await dbs.primary.query<{ shard: number }>('SELECT shard FROM reservations WHERE id = $1', [id])).rows[0];
  if (!row) return 'unknown';
  const shard = dbs.shards[row.shard];
  if (!shard) throw new Error(`reservation ${id} is on shard ${row.shard}, but the shop has ${dbs.shards.length} shards`);
  const placed = await shard.transaction(async (c) => {
    // Waits for a step 2 still running with this id (the primary key), then sees its outcome.
    await c.query(`INSERT INTO orders (id, items, total_cents, status) VALUES ($1, '[]', 0, 'void') ON CONFLICT (id) DO NOTHING`, [id]);
    const order = (await c.query<{ status: string }>('SELECT status FROM orders WHERE id = $1', [id])).rows[0]!;
    return order.status !== 'void';
  });
  return dbs.primary.transaction(async (c) => {
    const r = (await c.query<{ idempotency_key: string; items: { productId: number; qty: number }[]; total_cents: string }>(
      `UPDATE reservations SET state = $2, resolved_at = now() WHERE id = $1 AND state = 'reserved' RETURNING idempotency_key, items, total_cents`,
      [id, placed ? 'committed' : 'released'])).rows[0];
    if (!r) {
      return (await c.query<{ state: 'committed' | 'released' }>('SELECT state FROM reservations WHERE id = $1', [id])).rows[0]!.state;
    }
    if (placed) {
      await c.query('UPDATE idempotency_keys SET status_code = 202, response = $2 WHERE key = $1 AND status_code IS NULL', [r.idempotency_key, acceptedAnswer(id, Number(r.total_cents)).body]);
      return 'committed';
    }
    // In product order, as takeStock locks them: no deadlock with a checkout.
    for (const l of [...r.items].sort((a, b) => a.productId - b.productId)) {
      await c.query('UPDATE products SET stock = stock + $2 WHERE id = $1', [l.productId, l.qty]);
    }
    if (answer && answer.status < 500) await storeAnswer(c, r.idempotency_key, answer);
    else await c.query('DELETE FROM idempotency_keys WHERE key = $1 AND status_code IS NULL', [r.idempotency_key]);
    return 'released';
  });
}

/** Reservations one round resolves at most. */
const RESOLVE_BATCH = 100;

/** Resolves the reservations still 'reserved' `afterMs` after they were made (their checkout crashed or lost a database); returns how many. */
export async function reconcileReservations(dbs: DbTopology, afterMs: number): Promise<{ committed: number; released: number }> {
  const ids = (await dbs.primary.query<{ id: string }>(
    `SELECT id FROM reservations WHERE state = 'reserved' AND created_at < now() - $1 * interval '1 millisecond' ORDER BY created_at LIMIT $2`,
    [afterMs, RESOLVE_BATCH])).rows.map((r) => r.id);
  const out = { committed: 0, released: 0 };
  for (const id of ids) {
    const state = await resolveReservation(dbs, id);
    if (state === 'committed') out.committed++;
    if (state === 'released') out.released++;
  }
  return out;
}

export interface ReservationReconcilerOptions {
  /** A reservation this old is presumed abandoned: `requeueAfter`. Resolving a live one is safe (its checkout answers 503), only wasteful. */
  afterMs: number;
  onResolved?: (r: { committed: number; released: number }) => void;
  onError?: (err: unknown) => void;
}

/** Runs `reconcileReservations` every `reconcileIntervalMs(afterMs)` until stopped. */
export function startReservationReconciler(dbs: DbTopology, opts: ReservationReconcilerOptions): { stop: () => Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();
  const tick = (): void => {
    round = reconcileReservations(dbs, opts.afterMs)
      .then((r) => { if (r.committed + r.released > 0) opts.onResolved?.(r); }, (err: unknown) => opts.onError?.(err))
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
