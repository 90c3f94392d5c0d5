import { randomInt } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DatabaseError } from 'pg';
import { checkout, type CheckoutRequest } from '../checkout.js';
import type { Db } from '../db.js';
import { shardedCheckout } from '../sharded-checkout.js';
import { getShard, mintId, shardOfId } from '../shards.js';
import type { ShopDeps } from '../shop-deps.js';
import { currentTraceparent } from '../tracing.js';

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const uuidParams = { type: 'object', properties: { id: { type: 'string', pattern: UUID } }, required: ['id'] } as const;
const productId = { type: 'integer', minimum: 1, maximum: 2_147_483_647 } as const;
const qty = { type: 'integer', minimum: 1, maximum: 10 } as const;
const line = { type: 'object', additionalProperties: false, required: ['productId', 'qty'], properties: { productId, qty } } as const;
/** Idempotency keys and customer ids: printable, at most 200 characters. */
const KEY_RE = /^[\x21-\x7e]{1,200}$/;

/** The request's customer (`x-customer-id`), undefined when anonymous, or 'invalid'. */
function customerOf(req: FastifyRequest): string | undefined | 'invalid' {
  const c = req.headers['x-customer-id'];
  if (c === undefined) return undefined;
  return typeof c === 'string' && KEY_RE.test(c) ? c : 'invalid';
}

const BAD_CUSTOMER = { error: 'bad_customer_id', message: 'x-customer-id must be 1-200 printable characters' };

/** The shard holding a cart or order: its id says which (shards.ts); the primary with one shard. */

/** Carts, checkout and orders. */
export function orderRoutes(app: FastifyInstance, deps: ShopDeps): void {
  app.post('/api/carts', async (req, reply) => {
    const customer = customerOf(req);
    if (customer === 'invalid') return reply.status(400).send(BAD_CUSTOMER);
    // A customer's carts go to its shard; an anonymous cart is a customer of its own (a shard at random).
    const n = deps.dbs.shards.length;
    const id = mintId(customer === undefined ? randomInt(n) : getShard(customer, n), n);
    await deps.dbs.shardOfId(id).query('INSERT INTO carts (id) VALUES ($1)', [id]);
    return reply.status(201).header('location', `/api/carts/${id}`).send({ id, items: [] });
  });

  app.post('/api/carts/:id/items', { schema: { params: uuidParams, body: line } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const item = req.body as { productId: number; qty: number };
    // On a shard, cart_items has no foreign key to products (they are on the primary): checked here.
    if (deps.dbs.shards.length > 1 && (await deps.dbs.primary.query('SELECT 1 FROM products WHERE id = $1', [item.productId])).rowCount === 0) {
      return reply.status(404).send({ error: 'not_found', message: `no product ${item.productId}` });
    }
    try {
      await deps.dbs.shardOfId(id).query(
        `INSERT INTO cart_items (cart_id, product_id, qty) VALUES ($1, $2, $3)
         ON CONFLICT (cart_id, product_id) DO UPDATE SET qty = least(cart_items.qty + EXCLUDED.qty, 100)`, [id, item.productId, item.qty]);
    } catch (err) {
      if (err instanceof DatabaseError && err.code === '23503') {
        const what = err.constraint?.includes('product') ? `no product ${item.productId}` : 'no such cart';
        return reply.status(404).send({ error: 'not_found', message: what });
      }
      throw err;
    }
    return reply.status(201).send(await readCart(deps, id));
  });

  app.get('/api/carts/:id', { schema: { params: uuidParams } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const cart = await readCart(deps, id);
    return cart ? cart : reply.status(404).send({ error: 'not_found', message: 'no such cart' });
  });

  app.post('/api/checkout', {
    schema: {
      body: {
        type: 'object', additionalProperties: false,
        properties: { cartId: { type: 'string', pattern: UUID }, items: { type: 'array', minItems: 1, maxItems: 20, items: line } },
        oneOf: [{ required: ['cartId'] }, { required: ['items'] }],
      },
    },
  }, async (req, reply) => {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || !KEY_RE.test(key)) {
      deps.metrics.checkouts.inc({ result: 'rejected' });
      return reply.status(400).send({ error: 'idempotency_key_required', message: 'send an Idempotency-Key header (1-200 printable characters)' });
    }
    const customerId = customerOf(req);
    if (customerId === 'invalid') {
      deps.metrics.checkouts.inc({ result: 'rejected' });
      return reply.status(400).send(BAD_CUSTOMER);
    }
    const opts = { stockLowThreshold: deps.config.stockLowThreshold, traceparent: currentTraceparent() };
    const answer = deps.dbs.shards.length > 1
      ? await shardedCheckout(deps.dbs, key, req.body as CheckoutRequest, { ...opts, customerId })
      : await checkout(deps.db, key, req.body as CheckoutRequest, opts);
    deps.metrics.checkouts.inc({ result: answer.result });
    if (answer.result === 'accepted') {
      if (deps.dbs.shards.length > 1) deps.metrics.shardCheckouts.inc({ shard: String(shardOfId(String(answer.body.orderId), deps.dbs.shards.length)) });
      deps.orderPlaced();
    }
    if (answer.result === 'replayed') reply.header('idempotent-replayed', 'true');
    if (answer.status === 202) reply.header('location', `/api/orders/${String(answer.body.orderId)}`);
    return reply.status(answer.status).send(answer.body);
  });

  app.get('/api/orders/:id', { schema: { params: uuidParams } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    // A 'void' order is a reservation's tombstone (reservations.ts): never placed.
    const row = (await deps.dbs.shardOfId(id).query<{ id: string; status: string; items: unknown; total_cents: string; created_at: Date; processed_at: Date | null }>(
      `SELECT id, status, items, total_cents, created_at, processed_at FROM orders WHERE id = $1 AND status <> 'void'`, [id])).rows[0];
    if (!row) return reply.status(404).send({ error: 'not_found', message: 'no such order' });
    return { id: row.id, status: row.status, items: row.items, totalCents: Number(row.total_cents), createdAt: row.created_at, processedAt: row.processed_at };
  });
}

type CartLine = { productId: number; qty: number; name: string; priceCents: number };

async function readCart(deps: ShopDeps, id: string) {
  const items = deps.dbs.shards.length > 1 ? await readShardCart(deps, id) : await readLocalCart(deps.db, id);
  if (!items) return undefined;
  return { id, items, totalCents: items.reduce((s, i) => s + i.qty * i.priceCents, 0) };
}

/** One database: the cart and its products in one join. */
async function readLocalCart(db: Db, id: string): Promise<CartLine[] | undefined> {
  const r = await db.query<{ exists: boolean; product_id: number | null; qty: number | null; name: string | null; price_cents: number | null }>(
    `SELECT true AS exists, i.product_id, i.qty, p.name, p.price_cents
     FROM carts c LEFT JOIN cart_items i ON i.cart_id = c.id LEFT JOIN products p ON p.id = i.product_id
     WHERE c.id = $1 ORDER BY i.product_id`, [id]);
  if (r.rows.length === 0) return undefined;
  return r.rows.filter((x) => x.product_id !== null).map((x) => ({ productId: x.product_id!, qty: x.qty!, name: x.name!, priceCents: x.price_cents! }));
}

/** Sharded: the lines from the cart's shard, names and prices from the catalog. */
async function readShardCart(deps: ShopDeps, id: string): Promise<CartLine[] | undefined> {
  const r = await deps.dbs.shardOfId(id).query<{ product_id: number | null; qty: number | null }>(
    'SELECT i.product_id, i.qty FROM carts c LEFT JOIN cart_items i ON i.cart_id = c.id WHERE c.id = $1 ORDER BY i.product_id', [id]);
  if (r.rows.length === 0) return undefined;
  const lines = r.rows.filter((x) => x.product_id !== null);
  if (lines.length === 0) return [];
  const products = new Map((await deps.dbs.primary.query<{ id: number; name: string; price_cents: number }>(
    'SELECT id, name, price_cents FROM products WHERE id = ANY($1::int[])', [lines.map((x) => x.product_id)])).rows.map((p) => [p.id, p]));
  return lines.map((x) => ({ productId: x.product_id!, qty: x.qty!, name: products.get(x.product_id!)?.name ?? '', priceCents: products.get(x.product_id!)?.price_cents ?? 0 }));
}
