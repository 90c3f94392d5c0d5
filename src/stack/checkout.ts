import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Db } from './db.js';
import { emitEvent } from './domain-events.js';

/** A checkout: a cart, or the items themselves. */
export interface CheckoutRequest {
  cartId?: string;
  items?: { productId: number; qty: number }[];
}

/** Settings a checkout reads. */
export interface CheckoutOptions {
  /** A line that leaves its product with fewer units than this publishes StockLow (0: never). Default 0. */
  stockLowThreshold?: number;
  /** The request's W3C traceparent: kept on the order and its events, so their background work joins the trace. */
  traceparent?: string;
}

/** What the client gets; the same answer is replayed for a retried key. */
export interface CheckoutAnswer {
  status: number;
  body: Record<string, unknown>;
  /** accepted, sold_out, replayed, conflict or rejected (the shop_checkouts_total label). */
  result: 'accepted' | 'sold_out' | 'replayed' | 'conflict' | 'rejected';
}

export function requestHash(req: CheckoutRequest): string {
  // Lines as [productId, qty] tuples, sorted: neither line order nor key order in the JSON changes the hash.
  const items = req.items ? req.items.map((i) => [i.productId, i.qty]).sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!) : null;
  return createHash('sha256').update(JSON.stringify({ cartId: req.cartId ?? null, items })).digest('hex');
}

/** The order's lines, one per product, in product order (a fixed lock order, so two checkouts never deadlock). */
export async function orderLines(c: Pick<pg.PoolClient, 'query'>, req: CheckoutRequest): Promise<{ productId: number; qty: number }[] | CheckoutAnswer> {
  if (req.items) {
    const qty = new Map<number, number>();
    for (const i of req.items) qty.set(i.productId, (qty.get(i.productId) ?? 0) + i.qty);
    return [...qty].sort((a, b) => a[0] - b[0]).map(([productId, n]) => ({ productId, qty: n }));
  }
  // Locked: a second checkout of the same cart (another key: a double click, two tabs) waits here, then finds it gone.
  const cart = await c.query('SELECT 1 FROM carts WHERE id = $1 FOR UPDATE', [req.cartId]);
  if (cart.rowCount === 0) return { status: 404, body: { error: 'not_found', message: 'no such cart' }, result: 'rejected' };
  const r = await c.query<{ product_id: number; qty: number }>('SELECT product_id, qty FROM cart_items WHERE cart_id = $1 ORDER BY product_id', [req.cartId]);
  if (r.rows.length === 0) return { status: 422, body: { error: 'empty_cart', message: 'the cart is empty' }, result: 'rejected' };
  return r.rows.map((row) => ({ productId: row.product_id, qty: row.qty }));
}

/**
 * Takes stock and places the order in one transaction: the key is claimed
 * first (a concurrent request with the same key waits on it, then replays
 * this answer), each line's stock is taken with a conditional UPDATE (so
 * stock never goes below zero, whatever the concurrency), and the order and
 * its outbox row are written with it. A sold-out line undoes the others.
 */
export async function checkout(db: Db, key: string, req: CheckoutRequest, opts: CheckoutOptions = {}): Promise<CheckoutAnswer> {
  const hash = requestHash(req);
  return db.transaction(async (c) => {
    const claimed = await c.query('INSERT INTO idempotency_keys (key, request_hash) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, hash]);
    if (claimed.rowCount === 0) {
      const prior = (await c.query<{ request_hash: string; status_code: number; response: Record<string, unknown> }>(
        'SELECT request_hash, status_code, response FROM idempotency_keys WHERE key = $1', [key])).rows[0]!;
      if (prior.request_hash !== hash) {
        return { status: 422, body: { error: 'idempotency_key_reused', message: 'this Idempotency-Key was used with a different request body' }, result: 'conflict' };
      }
      return { status: prior.status_code, body: prior.response, result: 'replayed' };
    }
    const answer = await placeOrder(c, req, opts);
    await c.query('UPDATE idempotency_keys SET status_code = $2, response = $3 WHERE key = $1', [key, answer.status, answer.body]);
    return answer;
  });
}

/** Stock taken for an order: its total, and the products it took below the StockLow threshold. */
export interface TakenStock { total: number; low: { productId: number; stock: number }[] }

/**
 * Takes each line's stock with a conditional UPDATE (stock never goes below
 * zero, whatever the concurrency), in the caller's transaction; a sold-out or
 * unknown line undoes the others and answers 409 or 404.
 */
export async function takeStock(c: pg.PoolClient, lines: { productId: number; qty: number }[], stockLowThreshold: number): Promise<TakenStock | CheckoutAnswer> {
  await c.query('SAVEPOINT take_stock');
  let total = 0;
  const low: { productId: number; stock: number }[] = [];
  for (const line of lines) {
    const r = await c.query<{ price_cents: number; stock: number }>(
      'UPDATE products SET stock = stock - $2 WHERE id = $1 AND stock >= $2 RETURNING price_cents, stock', [line.productId, line.qty]);
    if (r.rowCount === 0) {
      await c.query('ROLLBACK TO SAVEPOINT take_stock');
      const exists = (await c.query('SELECT 1 FROM products WHERE id = $1', [line.productId])).rowCount! > 0;
      return exists
        ? { status: 409, body: { error: 'sold_out', message: `product ${line.productId} does not have ${line.qty} left`, productId: line.productId }, result: 'sold_out' }
        : { status: 404, body: { error: 'not_found', message: `no product ${line.productId}` }, result: 'rejected' };
    }
    const { price_cents: price, stock } = r.rows[0]!;
    total += price * line.qty;
    // Once per crossing: this line took the product from at or above the threshold to below it.
    if (stock < stockLowThreshold && stock + line.qty >= stockLowThreshold) low.push({ productId: line.productId, stock });
  }
  return { total, low };
}

/** The answer a placed order gets (and its replays). */
export function acceptedAnswer(orderId: string, totalCents: number): CheckoutAnswer {
  return { status: 202, body: { orderId, status: 'accepted', totalCents }, result: 'accepted' };
}

async function placeOrder(c: pg.PoolClient, req: CheckoutRequest, opts: CheckoutOptions): Promise<CheckoutAnswer> {
  const stockLowThreshold = opts.stockLowThreshold ?? 0;
  const traceparent = opts.traceparent ?? null;
  const lines = await orderLines(c, req);
  if (!Array.isArray(lines)) return lines;
  const taken = await takeStock(c, lines, stockLowThreshold);
  if (!('total' in taken)) return taken;
  const { total, low } = taken;
  const orderId = randomUUID();
  await c.query(`INSERT INTO orders (id, items, total_cents, status, traceparent) VALUES ($1, $2, $3, 'accepted', $4)`, [orderId, JSON.stringify(lines), total, traceparent]);
  await c.query('INSERT INTO outbox (order_id) VALUES ($1)', [orderId]);
  await emitEvent(c, 'OrderCreated', { orderId, items: lines, totalCents: total }, opts.traceparent);
  for (const l of low) await emitEvent(c, 'StockLow', { productId: l.productId, stock: l.stock, threshold: stockLowThreshold }, opts.traceparent);
  if (req.cartId) await c.query('DELETE FROM carts WHERE id = $1', [req.cartId]);
  return acceptedAnswer(orderId, total);
}
