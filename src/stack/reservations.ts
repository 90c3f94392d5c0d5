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

/** What resolving a reservation found: its state after, or that it is on a shard this shop does not have, or that another worker holds it. */
export type Resolution = 'committed' | 'released' | 'unknown' | 'stranded' | 'busy';

/**
 * Resolves a reservation, its row locked on the primary throughout: on its
 * shard, in one transaction, either finds its order, or writes a tombstone
 * under the order's id (a 'void' order) so that a late step 2 can never place
 * it; then marks it committed (storing the 202 with its key, unless an answer
 * is there), or released: its stock goes back, and its key is freed (a retry
 * checks out afresh) or keeps `answer` when the checkout gave a final one
 * (the cart was gone). Safe to run concurrently and repeatedly: the row lock
 * and the tombstone decide once. `skipLocked` (the reconciler): a reservation
 * another worker is resolving is left to it ('busy'). A reservation on a shard
 * the shop does not have (the shard count was lowered) is left as it is
 * ('stranded'): only a shop with that shard can tell whether its order exists.
 */
export async function resolveReservation(dbs: DbTopology, id: string, answer?: CheckoutAnswer, opts: { skipLocked?: boolean } = {}): Promise<Resolution> {
  return dbs.primary.transaction(async (c): Promise<Resolution> => {
    const r = (await c.query<{ shard: number; state: 'reserved' | 'committed' | 'released'; idempotency_key: string; items: { productId: number; qty: number }[]; total_cents: string }>(
      `SELECT shard, state, idempotency_key, items, total_cents FROM reservations WHERE id = $1 FOR UPDATE${opts.skipLocked ? ' SKIP LOCKED' : ''}`, [id])).rows[0];
    if (!r) return opts.skipLocked ? 'busy' : 'unknown';
    if (r.state !== 'reserved') return r.state;
    // With one shard the primary holds the orders, which have no tombstones: every reservation is stranded.
    const shard = dbs.shards.length > 1 ? dbs.shards[r.shard] : undefined;
    if (!shard) return 'stranded';
    const placed = await shard.transaction(async (s) => {
      // Waits for a step 2 still running with this id (the primary key), then sees its outcome.
      await s.query(`INSERT INTO orders (id, items, total_cents, status) VALUES ($1, '[]', 0, 'void') ON CONFLICT (id) DO NOTHING`, [id]);
      const order = (await s.query<{ status: string }>('SELECT status FROM orders WHERE id = $1', [id])).rows[0]!;
      return order.status !== 'void';
    });
    await c.query('UPDATE reservations SET state = $2, resolved_at = now() WHERE id = $1', [id, placed ? 'committed' : 'released']);
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

/** Reservations one batch reads; a round reads batches until none is left (at most RESOLVE_BATCHES). */
const RESOLVE_BATCH = 100;
const RESOLVE_BATCHES = 50;

/**
 * The youngest a reservation the reconciler resolves may be, whatever `requeueAfter` says: above the
 * statement timeout (10 s, db.ts), so a live checkout whose step 2 waits on a lock is not voided under it
 * (safe, it answers 503, but wasteful).
 */
export const RESERVATION_MIN_AGE_MS = 12_000;

export interface ReconcileResult {
  committed: number;
  released: number;
  /** On a shard the shop does not have (the shard count was lowered): their stock stays taken. */
  stranded: number;
  /** Could not be resolved this round (a shard or the primary unreachable); tried again next round. */
  failed: number;
  /** The first failure's error, for the log. */
  error?: unknown;
}

/**
 * Resolves the reservations still 'reserved' `afterMs` after they were made (their checkout crashed or lost
 * a database), oldest first, in batches; one that fails is counted and skipped (the others still resolve),
 * one another worker holds is left to it.
 */
export async function reconcileReservations(dbs: DbTopology, afterMs: number): Promise<ReconcileResult> {
  const out: ReconcileResult = { committed: 0, released: 0, stranded: 0, failed: 0 };
  let cursor: { at: string; id: string } = { at: '-infinity', id: '00000000-0000-0000-0000-000000000000' };
  for (let batch = 0; batch < RESOLVE_BATCHES; batch++) {
    const rows = (await dbs.primary.query<{ id: string; at: string }>(
      `SELECT id, created_at::text AS at FROM reservations
       WHERE state = 'reserved' AND created_at < clock_timestamp() - $1 * interval '1 millisecond' AND (created_at, id) > ($2::timestamptz, $3::uuid)
       ORDER BY created_at, id LIMIT $4`, [afterMs, cursor.at, cursor.id, RESOLVE_BATCH])).rows;
    for (const row of rows) {
      try {
        const state = await resolveReservation(dbs, row.id, undefined, { skipLocked: true });
        if (state === 'committed' || state === 'released' || state === 'stranded') out[state]++;
      } catch (err) {
        out.failed++;
        out.error ??= err;
      }
    }
    if (rows.length < RESOLVE_BATCH) break;
    cursor = rows[rows.length - 1]!;
  }
  return out;
}

export interface ReservationReconcilerOptions {
  /** A reservation this old is presumed abandoned: `requeueAfter`, at least RESERVATION_MIN_AGE_MS. Resolving a live one is safe (its checkout answers 503), only wasteful. */
  afterMs: number;
  /** After a round that resolved, stranded or failed any; `strandedChanged`: the stranded count differs from the last round's (log it once, not every round). */
  onRound?: (r: ReconcileResult, strandedChanged: boolean) => void;
  onError?: (err: unknown) => void;
}

/** Runs `reconcileReservations` every `reconcileIntervalMs` of its age until stopped. */
export function startReservationReconciler(dbs: DbTopology, opts: ReservationReconcilerOptions): { stop: () => Promise<void> } {
  const afterMs = Math.max(opts.afterMs, RESERVATION_MIN_AGE_MS);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();
  let lastStranded = 0;
  const tick = (): void => {
    round = reconcileReservations(dbs, afterMs)
      .then((r) => {
        const strandedChanged = r.stranded !== lastStranded;
        lastStranded = r.stranded;
        if (r.committed + r.released + r.failed > 0 || strandedChanged) opts.onRound?.(r, strandedChanged);
      }, (err: unknown) => opts.onError?.(err))
      .finally(() => { if (!stopped) timer = setTimeout(tick, reconcileIntervalMs(afterMs)); });
  };
  timer = setTimeout(tick, reconcileIntervalMs(afterMs));
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round;
    },
  };
}
