import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { DatabaseError } from 'pg';
import { checkout, type CheckoutRequest } from '../checkout.js';
import type { ShopDeps } from '../shop-deps.js';
import { currentTraceparent } from '../tracing.js';

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const uuidParams = { type: 'object', properties: { id: { type: 'string', pattern: UUID } }, required: ['id'] } as const;
const productId = { type: 'integer', minimum: 1, maximum: 2_147_483_647 } as const;
const qty = { type: 'integer', minimum: 1, maximum: 10 } as const;
const line = { type: 'object', additionalProperties: false, required: ['productId', 'qty'], properties: { productId, qty } } as const;
/** Idempotency keys: printable, at most 200 characters. */
const KEY_RE = /^[\x21-\x7e]{1,200}$/;

/** Carts, checkout and orders. */
export function orderRoutes(app: FastifyInstance, deps: ShopDeps): void {
  app.post('/api/carts', async (_req, reply) => {
    const id = randomUUID();
    await deps.db.query('INSERT INTO carts (id) VALUES ($1)', [id]);
    return reply.status(201).header('location', `/api/carts/${id}`).send({ id, items: [] });
  });

  app.post('/api/carts/:id/items', { schema: { params: uuidParams, body: line } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const item = req.body as { productId: number; qty: number };
    try {
      await deps.db.query(
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
    const answer = await checkout(deps.db, key, req.body as CheckoutRequest, { stockLowThreshold: deps.config.stockLowThreshold, traceparent: currentTraceparent() });
    deps.metrics.checkouts.inc({ result: answer.result });
    if (answer.result === 'accepted') deps.orderPlaced();
    if (answer.result === 'replayed') reply.header('idempotent-replayed', 'true');
    if (answer.status === 202) reply.header('location', `/api/orders/${String(answer.body.orderId)}`);
    return reply.status(answer.status).send(answer.body);
  });

  app.get('/api/orders/:id', { schema: { params: uuidParams } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const row = (await deps.db.query<{ id: string; status: string; items: unknown; total_cents: string; created_at: Date; processed_at: Date | null }>(
      'SELECT id, status, items, total_cents, created_at, processed_at FROM orders WHERE id = $1', [id])).rows[0];
    if (!row) return reply.status(404).send({ error: 'not_found', message: 'no such order' });
    return { id: row.id, status: row.status, items: row.items, totalCents: Number(row.total_cents), createdAt: row.created_at, processedAt: row.processed_at };
  });
}

async function readCart(deps: ShopDeps, id: string) {
  const r = await deps.db.query<{ exists: boolean; product_id: number | null; qty: number | null; name: string | null; price_cents: number | null }>(
    `SELECT true AS exists, i.product_id, i.qty, p.name, p.price_cents
     FROM carts c LEFT JOIN cart_items i ON i.cart_id = c.id LEFT JOIN products p ON p.id = i.product_id
     WHERE c.id = $1 ORDER BY i.product_id`, [id]);
  if (r.rows.length === 0) return undefined;
  const items = r.rows.filter((x) => x.product_id !== null).map((x) => ({ productId: x.product_id!, qty: x.qty!, name: x.name!, priceCents: x.price_cents! }));
  return { id, items, totalCents: items.reduce((s, i) => s + i.qty * i.priceCents, 0) };
}
