import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { acceptedAnswer, requestHash, takeStock, type CheckoutAnswer, type CheckoutOptions, type CheckoutRequest } from './checkout.js';
import type { Db } from './db.js';
import type { DbTopology } from './db-topology.js';
import { emitEvent } from './domain-events.js';
import { resolveReservation, storeAnswer } from './reservations.js';
import { getShard, mintId, shardOfId } from './shards.js';

/*
 * Checkout across shards (docs/reference-stack.md#sharded-carts-and-orders):
 * stock is on the catalog primary, the order on its customer's shard, and no
 * transaction spans both. So it is a reservation followed by the order:
 *   1. primary, one tx: claim the idempotency key (and the cart: one open reservation per cart), take the stock,
 *      write the reservation (its id is the order's);
 *   2. shard, one tx: the order, its outbox row and OrderCreated (and the cart, gone);
 *   3. primary, one tx: the reservation committed and the answer stored with the key.
 * When step 2 fails, the reservation is resolved at once (reservations.ts):
 * the order is made impossible on the shard, then the stock goes back. A crash
 * between the steps leaves a 'reserved' row the reconciler resolves the same way.
 */

/**
 * How long, in all, a checkout waits for another in flight, with its key (for its answer) or its cart (for the
 * cart to be free), before it is told to retry (409).
 */
const IN_FLIGHT_WAIT_MS = 10_000;
const IN_FLIGHT_POLL_MS = 25;

type Lines = { productId: number; qty: number }[];

export interface ShardedCheckoutOptions extends CheckoutOptions {
  /** The customer (x-customer-id); without one, the idempotency key stands for it (a cart's shard is in its id). */
  customerId?: string;
}

/** Checkout with more than one shard: reservation on the primary, then the order on its shard, with compensation. */
export async function shardedCheckout(dbs: DbTopology, key: string, req: CheckoutRequest, opts: ShardedCheckoutOptions = {}): Promise<CheckoutAnswer> {
  const n = dbs.shards.length;
  const shard = req.cartId ? shardOfId(req.cartId, n) : getShard(opts.customerId ?? key, n);
  const orderId = mintId(shard, n);
  const step1 = await reserve(dbs, shard, key, req, opts, orderId);
  if ('status' in step1) return step1;
  const shardDb = dbs.shards[shard]!;
  let placed: 'placed' | CheckoutAnswer;
  try {
    placed = await placeOnShard(shardDb, orderId, step1.lines, step1.total, req.cartId, opts.traceparent);
  } catch (err) {
    // The commit may or may not have happened (a connection lost at COMMIT): the resolution finds out.
    // If the shard is unreachable, the reservation stays for the reconciler.
    await resolveReservation(dbs, orderId).catch(() => undefined);
    throw err;
  }
  if (placed !== 'placed') {
    const resolved = await resolveReservation(dbs, orderId, placed);
    // Only a reconciler that voided the order first can make it 'committed' here: impossible, the order was not placed.
    return resolved === 'released' ? placed : { status: 503, body: { error: 'unavailable', message: 'checkout interrupted; retry' }, result: 'rejected' };
  }
  const answer = acceptedAnswer(orderId, step1.total);
  // The order is placed: if the primary fails now, the reconciler marks the reservation committed and stores this answer.
  await dbs.primary.transaction(async (c) => {
    await c.query(`UPDATE reservations SET state = 'committed', resolved_at = now() WHERE id = $1 AND state = 'reserved'`, [orderId]);
    await storeAnswer(c, key, answer);
  }).catch(() => undefined);
  return answer;
}

/** Thrown in step 1's transaction (rolling it back: key and stock untouched) when another checkout of the cart holds it. */
class CartBusy extends Error {}

const KEY_IN_USE: CheckoutAnswer = { status: 409, body: { error: 'idempotency_key_in_use', message: 'a checkout with this Idempotency-Key is still in progress; retry shortly' }, result: 'conflict' };
const CART_BUSY: CheckoutAnswer = { status: 409, body: { error: 'cart_in_checkout', message: 'another checkout of this cart is still in progress; retry shortly' }, result: 'conflict' };

/** Step 1. Either a final answer (replay, conflict, rejected, sold out: stored with the key) or the reserved lines. */
async function reserve(dbs: DbTopology, shard: number, key: string, req: CheckoutRequest, opts: CheckoutOptions, orderId: string): Promise<CheckoutAnswer | { lines: Lines; total: number }> {
  const hash = requestHash(req);
  const deadline = Date.now() + IN_FLIGHT_WAIT_MS;
  // Bounded by the deadline (each wait below ends by it) and by a count (each round waits at least one poll).
  for (let round = 0; round < IN_FLIGHT_WAIT_MS / IN_FLIGHT_POLL_MS; round++) {
    let r: CheckoutAnswer | { lines: Lines; total: number } | 'in_flight' | 'cart_busy';
    try {
      r = await dbs.primary.transaction(async (c) => {
        const claimed = await c.query('INSERT INTO idempotency_keys (key, request_hash) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, hash]);
        if (claimed.rowCount === 0) return priorAnswer(c, key, hash);
        const answer = await takeReservation(c, dbs.shards[shard]!, shard, key, req, opts, orderId);
        if ('status' in answer) await storeAnswer(c, key, answer);
        return answer;
      });
    } catch (err) {
      if (!(err instanceof CartBusy)) throw err;
      r = 'cart_busy';
    }
    if (r === 'in_flight') {
      // The same key is being checked out by another request (steps 2 and 3 to go): wait for its answer.
      const answer = await awaitAnswer(dbs.primary, key, hash, deadline);
      if (answer) return answer;
      if (Date.now() >= deadline) return KEY_IN_USE;
    } else if (r === 'cart_busy') {
      // Another checkout of the cart is between its steps: as with one shard (where it would wait on the cart's
      // lock), wait for it to end, then read the cart again (gone: 404; still there: check it out).
      if (!(await awaitCartFree(dbs.primary, req.cartId!, deadline))) return CART_BUSY;
    } else {
      return r;
    }
  }
  return KEY_IN_USE;
}

async function priorAnswer(c: pg.PoolClient, key: string, hash: string): Promise<CheckoutAnswer | 'in_flight'> {
  const prior = (await c.query<{ request_hash: string; status_code: number | null; response: Record<string, unknown> }>(
    'SELECT request_hash, status_code, response FROM idempotency_keys WHERE key = $1', [key])).rows[0]!;
  if (prior.request_hash !== hash) {
    return { status: 422, body: { error: 'idempotency_key_reused', message: 'this Idempotency-Key was used with a different request body' }, result: 'conflict' };
  }
  if (prior.status_code === null) return 'in_flight';
  return { status: prior.status_code, body: prior.response, result: 'replayed' };
}

/** Polls the key until its answer is stored (a replay), it is gone (released: the caller claims it again), or `deadline` (undefined). */
async function awaitAnswer(primary: Db, key: string, hash: string, deadline: number): Promise<CheckoutAnswer | undefined> {
  while (Date.now() < deadline) {
    await sleep(IN_FLIGHT_POLL_MS);
    const row = (await primary.query<{ request_hash: string; status_code: number | null; response: Record<string, unknown> }>(
      'SELECT request_hash, status_code, response FROM idempotency_keys WHERE key = $1', [key])).rows[0];
    if (!row) return undefined;
    if (row.request_hash !== hash) return { status: 422, body: { error: 'idempotency_key_reused', message: 'this Idempotency-Key was used with a different request body' }, result: 'conflict' };
    if (row.status_code !== null) return { status: row.status_code, body: row.response, result: 'replayed' };
  }
  return undefined;
}

/** Polls until the cart has no open reservation (true) or `deadline` (false). */
async function awaitCartFree(primary: Db, cartId: string, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    await sleep(IN_FLIGHT_POLL_MS);
    if ((await primary.query(`SELECT 1 FROM reservations WHERE cart_id = $1 AND state = 'reserved'`, [cartId])).rowCount === 0) return true;
  }
  return false;
}

/** In step 1's transaction: the cart claimed, the lines (a cart's are read from its shard), the stock taken, StockLow, the reservation row. */
async function takeReservation(c: pg.PoolClient, shardDb: Db, shard: number, key: string, req: CheckoutRequest, opts: CheckoutOptions, orderId: string): Promise<CheckoutAnswer | { lines: Lines; total: number }> {
  // Written first, so the cart is claimed before it is read: a second checkout of it waits here for this
  // transaction, then finds the claim (reservations_open_cart) and waits for this checkout to end.
  const claim = await c.query(
    `INSERT INTO reservations (id, shard, idempotency_key, items, total_cents, cart_id) VALUES ($1, $2, $3, '[]', 0, $4)
     ON CONFLICT (cart_id) WHERE state = 'reserved' DO NOTHING`, [orderId, shard, key, req.cartId ?? null]);
  if (claim.rowCount === 0) throw new CartBusy();
  const answer = await takeLines(c, shardDb, req, opts);
  if ('status' in answer) {
    await c.query('DELETE FROM reservations WHERE id = $1', [orderId]);
    return answer;
  }
  // Its age starts now: the waits on the hot product rows above must not count toward the reconciler's floor.
  await c.query('UPDATE reservations SET items = $2, total_cents = $3, created_at = clock_timestamp() WHERE id = $1', [orderId, JSON.stringify(answer.lines), answer.total]);
  return answer;
}

async function takeLines(c: pg.PoolClient, shardDb: Db, req: CheckoutRequest, opts: CheckoutOptions): Promise<CheckoutAnswer | { lines: Lines; total: number }> {
  const lines = req.items ? itemLines(req.items) : await cartLines(shardDb, req.cartId!);
  if (!Array.isArray(lines)) return lines;
  const threshold = opts.stockLowThreshold ?? 0;
  const taken = await takeStock(c, lines, threshold);
  if (!('total' in taken)) return taken;
  for (const l of taken.low) await emitEvent(c, 'StockLow', { productId: l.productId, stock: l.stock, threshold }, opts.traceparent);
  return { lines, total: taken.total };
}

/** One line per product, in product order (the lock order of takeStock). */
function itemLines(items: { productId: number; qty: number }[]): Lines {
  const qty = new Map<number, number>();
  for (const i of items) qty.set(i.productId, (qty.get(i.productId) ?? 0) + i.qty);
  return [...qty].sort((a, b) => a[0] - b[0]).map(([productId, q]) => ({ productId, qty: q }));
}

async function cartLines(shardDb: Db, cartId: string): Promise<Lines | CheckoutAnswer> {
  const r = await shardDb.query<{ product_id: number | null; qty: number | null }>(
    'SELECT i.product_id, i.qty FROM carts c LEFT JOIN cart_items i ON i.cart_id = c.id WHERE c.id = $1 ORDER BY i.product_id', [cartId]);
  if (r.rows.length === 0) return { status: 404, body: { error: 'not_found', message: 'no such cart' }, result: 'rejected' };
  const lines = r.rows.filter((x) => x.product_id !== null).map((x) => ({ productId: x.product_id!, qty: x.qty! }));
  if (lines.length === 0) return { status: 422, body: { error: 'empty_cart', message: 'the cart is empty' }, result: 'rejected' };
  return lines;
}

/**
 * Step 2, on the shard. 'placed', or the answer when the order cannot be
 * placed: the cart went (another checkout of it) or changed since step 1, or
 * the reconciler voided this order id (a tombstone) while step 2 was late.
 */
async function placeOnShard(shardDb: Db, orderId: string, lines: Lines, total: number, cartId: string | undefined, traceparent: string | undefined): Promise<'placed' | CheckoutAnswer> {
  return shardDb.transaction(async (c) => {
    if (cartId) {
      // Locked: a second checkout of the same cart waits here, then finds it gone (and gives its stock back).
      const cart = await c.query('SELECT 1 FROM carts WHERE id = $1 FOR UPDATE', [cartId]);
      if (cart.rowCount === 0) return { status: 404, body: { error: 'not_found', message: 'no such cart' }, result: 'rejected' } as const;
      const now = (await c.query<{ product_id: number; qty: number }>('SELECT product_id, qty FROM cart_items WHERE cart_id = $1 ORDER BY product_id', [cartId])).rows;
      if (JSON.stringify(now.map((x) => ({ productId: x.product_id, qty: x.qty }))) !== JSON.stringify(lines)) {
        return { status: 409, body: { error: 'cart_changed', message: 'the cart changed during checkout; check it out again' }, result: 'rejected' } as const;
      }
    }
    const inserted = await c.query(
      `INSERT INTO orders (id, items, total_cents, status, traceparent) VALUES ($1, $2, $3, 'accepted', $4) ON CONFLICT (id) DO NOTHING`,
      [orderId, JSON.stringify(lines), total, traceparent ?? null]);
    if (inserted.rowCount === 0) return { status: 503, body: { error: 'unavailable', message: 'checkout interrupted; retry' }, result: 'rejected' } as const;
    await c.query('INSERT INTO outbox (order_id) VALUES ($1)', [orderId]);
    await emitEvent(c, 'OrderCreated', { orderId, items: lines, totalCents: total }, traceparent);
    if (cartId) await c.query('DELETE FROM carts WHERE id = $1', [cartId]);
    return 'placed' as const;
  });
}
