import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, MIGRATIONS, seed } from '../../src/stack/migrations.js';
import { shardSchema } from '../../src/stack/shards.js';
import { buy, dropRunData, eventually, http, startInProcessShop, uniqueName, type InProcessShop } from '../helpers/shop.js';

// One shop worker in this process on the machine's PostgreSQL (a schema of
// this run's own) with the Redis cache and BullMQ queue (a key prefix of its own).
const name = uniqueName();
let shop: InProcessShop;
const HOT_STOCK = 100;

beforeAll(async () => {
  shop = await startInProcessShop(name, { hotStock: String(HOT_STOCK), dbPool: '20', rateLimit: '0' });
});
afterAll(async () => {
  await shop?.stop();
  await dropRunData(name);
});

const stockOf = async (id: number) => (await shop.db.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [id])).rows[0]!.stock;

/** 1,000 concurrent checkouts for HOT_STOCK units of product 1: exactly HOT_STOCK orders (on `orderTables`), processed once each. */
async function neverOversells(s: InProcessShop, orderTables: string[]): Promise<void> {
  const answers = await Promise.all(Array.from({ length: 1000 }, () => buy(s.url, 1)));
  const byStatus = new Map<number, number>();
  for (const a of answers) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
  expect(Object.fromEntries(byStatus)).toEqual({ 202: HOT_STOCK, 409: 1000 - HOT_STOCK });
  expect((await s.db.query<{ stock: number }>('SELECT stock FROM products WHERE id = 1')).rows[0]!.stock).toBe(0);
  const all = orderTables.map((t) => `SELECT * FROM ${t}`).join(' UNION ALL ');
  const orders = await s.db.query<{ n: string }>(`SELECT count(*) AS n FROM (${all}) o WHERE items @> '[{"productId": 1}]'`);
  expect(Number(orders.rows[0]!.n)).toBe(HOT_STOCK);
  // Every accepted order is processed in the background, each exactly once.
  // A 'void' order (a tombstone of a sharded checkout the reconciler resolved) is no order: never processed.
  await eventually(async () => (await s.db.query(`SELECT 1 FROM (${all}) o WHERE status NOT IN ('done', 'void')`)).rowCount === 0, 30_000, 'all orders done');
  const processed = await s.db.query<{ times_processed: number }>(`SELECT DISTINCT times_processed FROM (${all}) o WHERE status <> 'void'`);
  expect(processed.rows.map((r) => r.times_processed)).toEqual([1]);
}

describe('checkout with --shards 3 (stock on the primary, orders on their shards)', () => {
  const sharded = uniqueName();
  let s3: InProcessShop | undefined;
  afterAll(async () => {
    await s3?.stop();
    await dropRunData(sharded);
  });

  it('never oversells: 1,000 concurrent checkouts for 100 units give exactly 100 orders, spread over the shards', async () => {
    // A pool of 8 per database: (1 + 3) x 8 connections, within a shared server's budget.
    s3 = await startInProcessShop(sharded, { hotStock: String(HOT_STOCK), dbPool: '8', rateLimit: '0', shards: '3' });
    const tables = [0, 1, 2].map((i) => `${shardSchema(sharded, i)}.orders`);
    await neverOversells(s3, tables);
    for (const t of tables) expect(Number((await s3.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]!.n), t).toBeGreaterThan(0);
    const r = await s3.db.query<{ state: string; n: string }>('SELECT state, count(*) AS n FROM reservations GROUP BY state');
    expect(Object.fromEntries(r.rows.map((x) => [x.state, Number(x.n)]))).toEqual({ committed: HOT_STOCK });
  });
});

describe('checkout (external backends: PostgreSQL + Redis + BullMQ)', () => {
  it('never oversells: 1,000 concurrent checkouts for 100 units give exactly 100 orders', async () => {
    await neverOversells(shop, ['orders']);
  });

  it('migrates and seeds idempotently: a restart keeps what was sold', async () => {
    await migrate(shop.db, name);
    await seed(shop.db, { products: 200, hotProducts: 3, hotStock: HOT_STOCK });
    expect(await stockOf(1)).toBe(0);
    expect((await shop.db.query<{ n: string }>('SELECT count(*) AS n FROM products')).rows[0]!.n).toBe('200');
    expect((await shop.db.query<{ n: string }>('SELECT count(*) AS n FROM schema_migrations')).rows[0]!.n).toBe(String(MIGRATIONS.length));
    // A schema a newer scalectl migrated is refused, not read with the wrong tables.
    await shop.db.query('INSERT INTO schema_migrations (version) VALUES ($1)', [MIGRATIONS.length + 1]);
    await expect(migrate(shop.db, name)).rejects.toThrow(`was migrated by a newer scalectl (migration ${MIGRATIONS.length + 1}; this one knows ${MIGRATIONS.length})`);
    await shop.db.query('DELETE FROM schema_migrations WHERE version = $1', [MIGRATIONS.length + 1]);
  });

  it('is idempotent: the same key sent 50 times at once places one order, and every answer is the first one', async () => {
    const key = `same-${name}`;
    const before = await stockOf(2);
    const answers = await Promise.all(Array.from({ length: 50 }, () => buy(shop.url, 2, key)));
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([202]));
    expect(new Set(answers.map((a) => a.json.orderId)).size).toBe(1);
    expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(49);
    expect(await stockOf(2)).toBe(before - 1);
    // The same key with another body is refused; no key at all is refused.
    const other = await http(`${shop.url}/api/checkout`, { body: { items: [{ productId: 3, qty: 2 }] }, headers: { 'idempotency-key': key } });
    expect(other.status).toBe(422);
    // The same lines with keys in another order are the same request: replayed, not refused.
    const reordered = await http(`${shop.url}/api/checkout`, { raw: '{"items":[{"qty":1,"productId":2}]}', headers: { 'idempotency-key': key } });
    expect([reordered.status, reordered.headers['idempotent-replayed']]).toEqual([202, 'true']);
    const none = await http(`${shop.url}/api/checkout`, { body: { items: [{ productId: 3, qty: 1 }] } });
    expect(none.status).toBe(400);
    expect(none.json.error).toBe('idempotency_key_required');
  });

  it('checks out a cart, and shows the order until it is done', async () => {
    const cart = await http(`${shop.url}/api/carts`, { method: 'POST' });
    expect(cart.status).toBe(201);
    const add = await http(`${shop.url}/api/carts/${cart.json.id}/items`, { body: { productId: 150, qty: 2 } });
    expect(add.status).toBe(201);
    expect(add.json.items).toEqual([expect.objectContaining({ productId: 150, qty: 2 })]);
    const order = await http(`${shop.url}/api/checkout`, { body: { cartId: cart.json.id }, headers: { 'idempotency-key': `cart-${name}` } });
    expect(order.status).toBe(202);
    expect(order.headers.location).toBe(`/api/orders/${order.json.orderId}`);
    await eventually(async () => (await http(`${shop.url}/api/orders/${order.json.orderId}`)).json.status === 'done', 20_000, 'order done');
    // The cart is gone once ordered; an unknown cart or product is a 404.
    expect((await http(`${shop.url}/api/carts/${cart.json.id}`)).status).toBe(404);
    const noProduct = await http(`${shop.url}/api/carts/${(await http(`${shop.url}/api/carts`, { method: 'POST' })).json.id}/items`, { body: { productId: 99_999, qty: 1 } });
    expect(noProduct.status).toBe(404);
  });

  it('checks a cart out once, even when two checkouts of it (different keys) race', async () => {
    for (let round = 0; round < 10; round++) {
      const cart = await http(`${shop.url}/api/carts`, { method: 'POST' });
      await http(`${shop.url}/api/carts/${cart.json.id}/items`, { body: { productId: 160, qty: 1 } });
      const before = await stockOf(160);
      const answers = await Promise.all([1, 2].map((n) =>
        http(`${shop.url}/api/checkout`, { body: { cartId: cart.json.id }, headers: { 'idempotency-key': `race-${round}-${n}-${name}` } })));
      expect(answers.map((a) => a.status).sort()).toEqual([202, 404]);
      expect(await stockOf(160)).toBe(before - 1);
    }
  });

  it('rejects malformed bodies with 4xx and leaves stock unchanged', async () => {
    const before = await stockOf(3);
    const send = (raw: string, extra: Record<string, string> = {}) =>
      http(`${shop.url}/api/checkout`, { raw, headers: { 'idempotency-key': `bad-${Math.random()}`, ...extra } });
    const cases: [string, string, number][] = [
      ['bad JSON', '{"items": [', 400],
      ['qty -1', '{"items":[{"productId":3,"qty":-1}]}', 400],
      ['qty 0', '{"items":[{"productId":3,"qty":0}]}', 400],
      ['qty 1e9', '{"items":[{"productId":3,"qty":1e9}]}', 400],
      ['qty "1"', '{"items":[{"productId":3,"qty":"1"}]}', 400],
      ['extra field', '{"items":[{"productId":3,"qty":1}],"discount":100}', 400],
      ['extra field in a line', '{"items":[{"productId":3,"qty":1,"price":0}]}', 400],
      ['__proto__', '{"__proto__":{"admin":true},"items":[{"productId":3,"qty":1}]}', 400],
      ['both cart and items', `{"cartId":"00000000-0000-4000-8000-000000000000","items":[{"productId":3,"qty":1}]}`, 400],
      ['huge body', JSON.stringify({ items: [{ productId: 3, qty: 1 }], pad: 'x'.repeat(100_000) }), 413],
    ];
    for (const [what, raw, status] of cases) {
      const r = await send(raw);
      expect(r.status, what).toBe(status);
      expect(r.text, what).not.toMatch(/\bat \S+:\d+:\d+/); // no stack trace
      expect(r.headers['x-request-id'], what).toBeTruthy();
    }
    expect(await stockOf(3)).toBe(before);
    const notJson = await send('qty=1', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(notJson.status).toBe(415);
  });

  it('serves product reads through the cache and counts hits and misses', async () => {
    const first = await http(`${shop.url}/api/products/42`);
    const second = await http(`${shop.url}/api/products/42`);
    expect([first.headers['x-cache'], second.headers['x-cache']]).toEqual(['miss', 'hit']);
    expect(second.json).toEqual(first.json);
    const page = await http(`${shop.url}/api/products?page=2&limit=500`);
    expect(page.json.pagination).toEqual({ page: 2, limit: 100, total: 200, pages: 2 });
    expect(page.headers['x-total-count']).toBe('200');
    expect(page.json.items[0].id).toBe(101);
    expect((await http(`${shop.url}/api/products/999999`)).status).toBe(404);
  });

  it('echoes a given x-request-id and makes one when none (or an unsafe one) is sent', async () => {
    expect((await http(`${shop.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } })).headers['x-request-id']).toBe('abc-123');
    const made = (await http(`${shop.url}/healthz`, { headers: { 'x-request-id': 'a b<script>' } })).headers['x-request-id'];
    expect(made).toMatch(/^[0-9a-f-]{36}$/);
  });
});
