import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/stack/db.js';
import { singleDbTopology, withShards, type DbTopology } from '../../src/stack/db-topology.js';
import { reconcileReservations, resolveReservation } from '../../src/stack/reservations.js';
import { getShard, mintId, openShardPools, shardOfId, shardSchema } from '../../src/stack/shards.js';
import {
  dropRunData, eventually, http, PG_URL, REDIS_URL, startInProcessShop, startStackProcess, uniqueName, type InProcessShop, type StackProcess,
} from '../helpers/shop.js';

// Carts and orders on 3 shards (schemas of the machine's PostgreSQL), stock on the primary.
const SHARDS = 3;
const shards = [0, 1, 2];

/** A connection of the test's own, to hold locks that stop a checkout between its steps. */
async function lockHolder(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  return c;
}

const checkoutAs = (url: string, customer: string, key: string, body: unknown) =>
  http(`${url}/api/checkout`, { body, headers: { 'idempotency-key': key, 'x-customer-id': customer }, fresh: true });

describe('sharded carts and orders (in process, --shards 3)', () => {
  const name = uniqueName();
  let shop: InProcessShop | undefined;
  afterAll(async () => {
    await shop?.stop();
    await dropRunData(name);
  });

  it('keeps a customer on one shard, finds carts and orders by id, replays a key, and lets the loser of a cart race reserve nothing', async () => {
    shop = await startInProcessShop(name, { shards: String(SHARDS), dbPool: '4', rateLimit: '0' });
    const { url, db } = shop;
    // The documented hash, computed by PostgreSQL: the shop's getShard agrees with it.
    for (const who of ['alice', 'bob', 'carol', 'dave', 'émile']) {
      const sql = (await db.query<{ s: string }>(`SELECT (('x' || substr(encode(sha256(convert_to($1, 'UTF8')), 'hex'), 1, 8))::bit(32)::bigint % $2) AS s`, [who, SHARDS])).rows[0]!.s;
      expect(getShard(who, SHARDS), who).toBe(Number(sql));
    }
    const customer = 'alice';
    const home = getShard(customer, SHARDS);
    const cart = await http(`${url}/api/carts`, { method: 'POST', headers: { 'x-customer-id': customer } });
    expect(cart.status).toBe(201);
    expect(shardOfId(cart.json.id, SHARDS)).toBe(home);
    expect((await db.query(`SELECT 1 FROM ${shardSchema(name, home)}.carts WHERE id = $1`, [cart.json.id])).rowCount).toBe(1);
    expect((await http(`${url}/api/carts/${cart.json.id}/items`, { body: { productId: 150, qty: 2 } })).status).toBe(201);
    expect((await http(`${url}/api/carts/${cart.json.id}/items`, { body: { productId: 99_999, qty: 1 } })).status).toBe(404);
    const read = await http(`${url}/api/carts/${cart.json.id}`);
    expect(read.json.items).toEqual([expect.objectContaining({ productId: 150, qty: 2, name: 'Product #150' })]);
    expect(read.json.totalCents).toBe(2 * read.json.items[0].priceCents);

    const stock = async (id: number) => (await db.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [id])).rows[0]!.stock;
    const before = await stock(150);
    const key = `cart-${name}`;
    const order = await checkoutAs(url, customer, key, { cartId: cart.json.id });
    expect(order.status).toBe(202);
    expect(shardOfId(order.json.orderId, SHARDS)).toBe(home);
    const replay = await checkoutAs(url, customer, key, { cartId: cart.json.id });
    expect([replay.status, replay.json.orderId, replay.headers['idempotent-replayed']]).toEqual([202, order.json.orderId, 'true']);
    expect(await stock(150)).toBe(before - 2);
    await eventually(async () => (await http(`${url}/api/orders/${order.json.orderId}`)).json.status === 'done', 20_000, 'order done on its shard');
    expect((await http(`${url}/api/carts/${cart.json.id}`)).status).toBe(404);
    expect((await http(`${url}/api/carts`, { method: 'POST', headers: { 'x-customer-id': 'a b' } })).status).toBe(400);

    // Two checkouts of one cart (different keys): one order, and the loser never reserves stock (the first claims the
    // cart in its reservation; the second waits for it, then finds the cart gone). In the first round the cart is held
    // locked on its shard (the winner stuck in step 2) until the loser is seen waiting for the cart.
    const holder = new pg.Client({ connectionString: PG_URL });
    await holder.connect();
    try {
      for (let round = 0; round < 5; round++) {
        const c = await http(`${url}/api/carts`, { method: 'POST' });
        await http(`${url}/api/carts/${c.json.id}/items`, { body: { productId: 160, qty: 1 } });
        const was = await stock(160);
        const keys = [1, 2].map((n) => `race-${round}-${n}-${name}`);
        if (round === 0) {
          await holder.query('BEGIN');
          await holder.query(`SELECT 1 FROM ${shardSchema(name, shardOfId(c.json.id, SHARDS))}.carts WHERE id = $1 FOR UPDATE`, [c.json.id]);
        }
        const racing = Promise.all(keys.map((k, n) => checkoutAs(url, `anon-${round}-${n}`, k, { cartId: c.json.id })));
        if (round === 0) {
          // Without the claim, both would reserve here; with it, the loser polls for the cart to be free.
          await eventually(async () => (await db.query('SELECT 1 FROM reservations WHERE idempotency_key = ANY($1)', [keys])).rowCount === 2
            || (await db.query(`SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT 1 FROM reservations WHERE cart_id%'`)).rowCount! > 0, 10_000, 'the loser waiting for the cart');
          await holder.query('COMMIT');
        }
        const answers = await racing;
        expect(answers.map((a) => a.status).sort()).toEqual([202, 404]);
        expect(await stock(160)).toBe(was - 1);
        expect((await db.query('SELECT state FROM reservations WHERE idempotency_key = ANY($1)', [keys])).rows).toEqual([{ state: 'committed' }]);
      }
    } finally {
      await holder.end();
    }
    // One key sent 20 times at once: one reservation and one order; the others wait for its answer and replay it.
    const same = await Promise.all(Array.from({ length: 20 }, () => checkoutAs(url, 'bob', `same-${name}`, { items: [{ productId: 170, qty: 1 }] })));
    expect(new Set(same.map((a) => a.status))).toEqual(new Set([202]));
    expect(new Set(same.map((a) => a.json.orderId)).size).toBe(1);
    expect(same.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(19);
    expect(shardOfId(same[0]!.json.orderId, SHARDS)).toBe(getShard('bob', SHARDS));
    const states = await db.query<{ state: string; n: string }>('SELECT state, count(*) AS n FROM reservations GROUP BY state ORDER BY state');
    // No race's loser reserved anything.
    const byState = Object.fromEntries(states.rows.map((r) => [r.state, Number(r.n)]));
    expect(byState).toEqual({ committed: 7 });
  });
});

describe('reservations resolved under a live checkout, and a reconciler round that meets bad rows (in process, --shards 3)', () => {
  const name = uniqueName();
  let shop: InProcessShop | undefined;
  let dbs: DbTopology | undefined;
  const holders: pg.Client[] = [];
  afterAll(async () => {
    for (const h of holders) await h.end().catch(() => undefined);
    await dbs?.close();
    await shop?.stop();
    await dropRunData(name);
  });

  it('a step 2 that meets the tombstone answers 503, the stock is back, and a retry with the same key is accepted', async () => {
    shop = await startInProcessShop(name, { shards: String(SHARDS), dbPool: '4', rateLimit: '0' });
    const { url, db } = shop;
    // The test's own pools on the shop's databases, to resolve a reservation as the reconciler would.
    dbs = withShards(singleDbTopology(createDb({ connection: PG_URL, schema: name, poolSize: 2 })), openShardPools(shop.config, PG_URL, { poolSize: 2 }));
    const stock = async (id: number) => (await db.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [id])).rows[0]!.stock;
    const cart = await http(`${url}/api/carts`, { method: 'POST', headers: { 'x-customer-id': 'trent' } });
    await http(`${url}/api/carts/${cart.json.id}/items`, { body: { productId: 190, qty: 3 } });
    const was = await stock(190);
    // Step 2 held on the cart's lock (its first statement), after step 1 reserved.
    const holder = await lockHolder();
    holders.push(holder);
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM ${shardSchema(name, shardOfId(cart.json.id, SHARDS))}.carts WHERE id = $1 FOR UPDATE`, [cart.json.id]);
    const key = `live-${name}`;
    const live = checkoutAs(url, 'trent', key, { cartId: cart.json.id });
    await eventually(async () => (await db.query(`SELECT 1 FROM reservations WHERE idempotency_key = $1 AND state = 'reserved' AND items <> '[]'`, [key])).rowCount === 1, 10_000, 'reserved');
    const id = (await db.query<{ id: string }>('SELECT id FROM reservations WHERE idempotency_key = $1', [key])).rows[0]!.id;
    expect(await stock(190)).toBe(was - 3);
    expect(await resolveReservation(dbs, id)).toBe('released');
    expect(await stock(190)).toBe(was);
    await holder.query('COMMIT');
    const answer = await live;
    expect([answer.status, answer.json.error]).toEqual([503, 'unavailable']);
    expect(await stock(190)).toBe(was);
    const retry = await checkoutAs(url, 'trent', key, { cartId: cart.json.id });
    expect(retry.status).toBe(202);
    expect(retry.json.orderId).not.toBe(id);
    expect(await stock(190)).toBe(was - 3);

    // The cart changed between the steps (by the holder of its lock): 409 cart_changed, the stock back, no order.
    const other = await http(`${url}/api/carts`, { method: 'POST', headers: { 'x-customer-id': 'trent' } });
    await http(`${url}/api/carts/${other.json.id}/items`, { body: { productId: 190, qty: 1 } });
    const before = await stock(190);
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM ${shardSchema(name, shardOfId(other.json.id, SHARDS))}.carts WHERE id = $1 FOR UPDATE`, [other.json.id]);
    const changing = checkoutAs(url, 'trent', `changed-${name}`, { cartId: other.json.id });
    await eventually(async () => (await db.query(`SELECT 1 FROM reservations WHERE idempotency_key = $1 AND items <> '[]'`, [`changed-${name}`])).rowCount === 1, 10_000, 'reserved');
    await holder.query(`UPDATE ${shardSchema(name, shardOfId(other.json.id, SHARDS))}.cart_items SET qty = 2 WHERE cart_id = $1`, [other.json.id]);
    await holder.query('COMMIT');
    expect([(await changing).status, (await changing).json.error]).toEqual([409, 'cart_changed']);
    expect(await stock(190)).toBe(before);
    expect((await db.query<{ state: string }>('SELECT state FROM reservations WHERE idempotency_key = $1', [`changed-${name}`])).rows).toEqual([{ state: 'released' }]);
  });

  it('resolves every abandoned reservation of a round, past one that fails and one on a shard the shop does not have', async () => {
    const { db } = shop!;
    const stock = async (id: number) => (await db.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [id])).rows[0]!.stock;
    const was = await stock(191);
    // Oldest first: a row whose items cannot be read (it throws), one on shard 7 of 3, then a plain abandoned one.
    const rows = [
      { id: mintId(0, SHARDS), shard: 0, items: '{}', age: 30 },
      { id: mintId(1, SHARDS), shard: 7, items: JSON.stringify([{ productId: 191, qty: 1 }]), age: 20 },
      { id: mintId(2, SHARDS), shard: 2, items: JSON.stringify([{ productId: 191, qty: 2 }]), age: 10 },
    ];
    await db.query('UPDATE products SET stock = stock - 3 WHERE id = 191');
    for (const r of rows) {
      await db.query('INSERT INTO idempotency_keys (key, request_hash) VALUES ($1, $2)', [`bad-${r.id}`, 'x']);
      await db.query(`INSERT INTO reservations (id, shard, idempotency_key, items, total_cents, created_at) VALUES ($1, $2, $3, $4, 0, now() - $5 * interval '1 minute')`,
        [r.id, r.shard, `bad-${r.id}`, r.items, r.age]);
    }
    // The shop's own reconciler would only wait RESERVATION_MIN_AGE_MS for these; the test resolves at once.
    const out = await reconcileReservations(dbs!, 60_000);
    expect({ ...out, error: undefined }).toEqual({ committed: 0, released: 1, stranded: 1, failed: 1, error: undefined });
    expect(await stock(191)).toBe(was - 1);
    const states = await db.query<{ id: string; state: string }>('SELECT id, state FROM reservations WHERE id = ANY($1) ORDER BY created_at', [rows.map((r) => r.id)]);
    expect(states.rows.map((r) => r.state)).toEqual(['reserved', 'reserved', 'released']);
    // The open ones show by the shard they name (7: stranded); every pool's connections show, shards included.
    const { text } = await http(`${shop!.url}/metrics`, { fresh: true });
    expect(text).toMatch(/^shop_reservations_open\{shard="7"\} 1$/m);
    expect(text).toMatch(/^shop_reservations_open\{shard="0"\} 1$/m);
    for (const pool of ['primary', 'shard-0', 'shard-1', 'shard-2']) expect(text).toMatch(new RegExp(`^shop_db_pool_connections\\{state="idle",pool="${pool}"\\} \\d+$`, 'm'));
  });
});

describe('sharded checkout under kill -9 between its steps (stack up --shards 3)', () => {
  const name = uniqueName();
  let stack: StackProcess | undefined;
  const holders: pg.Client[] = [];
  afterAll(async () => {
    for (const h of holders) await h.end().catch(() => undefined);
    await stack?.stop('SIGKILL');
    await dropRunData(name);
  });

  it('restores the invariants after a crash during the reservation, between reservation and order, and between order and commit', async () => {
    // A reservation waits at least RESERVATION_MIN_AGE_MS (12 s, above requeueAfter here) for its order before the
    // reconciler settles it: long enough that a checkout this test holds between its steps is not settled under it.
    stack = await startStackProcess(['--backends', 'external', '--database-url', PG_URL, '--redis-url', REDIS_URL, '--db-schema', name, '--key-prefix', name,
      '--workers', '1', '--consumers', '1', '--products', '20', '--hot-stock', '50', '--rate-limit', '0', '--shards', String(SHARDS),
      '--db-pool', '4', '--requeue-after', '4s', '--shutdown-timeout', '2s']);
    const url = stack.url;
    const check = await lockHolder();
    holders.push(check);
    const q = async <R extends pg.QueryResultRow>(sql: string, values: unknown[] = []) => (await check.query<R>(sql, values)).rows;
    const customer = 'mallory';
    const home = shardSchema(name, getShard(customer, SHARDS));
    const allOrders = shards.map((i) => `SELECT id, items, status FROM ${shardSchema(name, i)}.orders`).join(' UNION ALL ');
    const initial = (await q<{ stock: number }>(`SELECT stock FROM ${name}.products WHERE id = 2`))[0]!.stock;
    const body = { items: [{ productId: 2, qty: 1 }] };
    let worker = (await http(`${url}/healthz`)).json.pid as number;
    const killWorker = async () => {
      process.kill(worker, 'SIGKILL');
      const dead = worker;
      // Reaped by the stack's primary: from then on it hands no connection to the dead worker.
      const gone = async () => { try { process.kill(dead, 0); return false; } catch { return true; } };
      await eventually(gone, 10_000, 'killed worker reaped');
      await eventually(async () => {
        const pid = (await http(`${url}/healthz`, { fresh: true })).json?.pid as number | undefined;
        if (pid && pid !== dead) worker = pid;
        return worker !== dead;
      }, 30_000, 'worker re-forked');
    };
    const reservationOf = async (key: string) => (await q<{ id: string; state: string }>(`SELECT id, state FROM ${name}.reservations WHERE idempotency_key = $1`, [key]))[0];
    const lockWaiter = async (like: string) => (await q(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`, [like])).length > 0;

    // 1. Killed inside the reservation transaction: nothing of it stays.
    const a = await lockHolder();
    holders.push(a);
    await a.query(`BEGIN; LOCK TABLE ${name}.reservations IN ACCESS EXCLUSIVE MODE`);
    void checkoutAs(url, customer, `k1-${name}`, body).catch(() => undefined);
    await eventually(() => lockWaiter('INSERT INTO reservations%'), 10_000, 'checkout stuck in its reservation');
    await killWorker();
    await a.query('COMMIT');
    // Its transaction is gone with its connection (nothing waits on the lock any more): no key, no reservation, no stock taken.
    await eventually(async () => !(await lockWaiter('INSERT INTO reservations%')), 10_000, 'killed reservation rolled back');
    expect(await q(`SELECT 1 FROM ${name}.idempotency_keys WHERE key = $1`, [`k1-${name}`])).toHaveLength(0);
    expect(await reservationOf(`k1-${name}`)).toBeUndefined();
    expect((await q<{ stock: number }>(`SELECT stock FROM ${name}.products WHERE id = 2`))[0]!.stock).toBe(initial);

    // 2 and 3 share one kill (the reconciler waits RESERVATION_MIN_AGE_MS before it resolves either), on two shards:
    // 2. killed between the reservation (committed) and the order: the reconciler voids the order and gives the stock back;
    // 3. killed between the order (committed on its shard) and the reservation's commit: the reconciler commits it.
    const other = ['oscar', 'peggy', 'trent', 'victor', 'walter'].find((c) => getShard(c, SHARDS) !== getShard(customer, SHARDS))!;
    const away = shardSchema(name, getShard(other, SHARDS));
    await a.query(`BEGIN; LOCK TABLE ${home}.orders IN ACCESS EXCLUSIVE MODE`);
    void checkoutAs(url, customer, `k2-${name}`, body).catch(() => undefined);
    await eventually(async () => (await reservationOf(`k2-${name}`))?.state === 'reserved' && lockWaiter('INSERT INTO orders%'), 10_000, 'checkout stuck before its order');
    const b = await lockHolder();
    const c = await lockHolder();
    holders.push(b, c);
    await c.query(`BEGIN; LOCK TABLE ${away}.orders IN ACCESS EXCLUSIVE MODE`);
    void checkoutAs(url, other, `k3-${name}`, body).catch(() => undefined);
    await eventually(async () => (await reservationOf(`k3-${name}`))?.state === 'reserved', 10_000, 'reservation made');
    const placed = (await reservationOf(`k3-${name}`))!.id;
    await b.query('BEGIN');
    await b.query(`SELECT 1 FROM ${name}.reservations WHERE id = $1 FOR UPDATE`, [placed]);
    await c.query('COMMIT');
    // Placed (its consumer may already have processed it: any status but a tombstone's), its reservation's commit held.
    await eventually(async () => (await q(`SELECT 1 FROM ${away}.orders WHERE id = $1 AND status <> 'void'`, [placed])).length === 1
      && lockWaiter('UPDATE reservations%'), 10_000, 'order placed, commit stuck');
    await killWorker();
    await a.query('COMMIT');
    await b.query('COMMIT');
    await eventually(async () => (await reservationOf(`k2-${name}`))?.state === 'released', 40_000, 'abandoned reservation released');
    await eventually(async () => (await reservationOf(`k3-${name}`))?.state === 'committed', 20_000, 'placed order\'s reservation committed');
    const voided = (await reservationOf(`k2-${name}`))!.id;
    expect(await q(`SELECT status FROM ${home}.orders WHERE id = $1`, [voided])).toEqual([{ status: 'void' }]);
    expect((await http(`${url}/api/orders/${voided}`)).status).toBe(404);
    // The key was freed: the client's retry checks out afresh.
    expect((await checkoutAs(url, customer, `k2-${name}`, body)).status).toBe(202);
    const replay = await checkoutAs(url, other, `k3-${name}`, body);
    expect([replay.status, replay.json.orderId, replay.headers['idempotent-replayed']]).toEqual([202, placed, 'true']);

    // The invariants, over everything that happened: no stock lost or sold twice, no order without its committed reservation.
    expect(await q(`SELECT id FROM ${name}.reservations WHERE state = 'reserved'`)).toEqual([]);
    const sold = (await q<{ n: string }>(`SELECT coalesce(sum((l->>'qty')::int), 0) AS n FROM (${allOrders}) o, jsonb_array_elements(o.items) l WHERE o.status <> 'void' AND (l->>'productId')::int = 2`))[0]!.n;
    const stockNow = (await q<{ stock: number }>(`SELECT stock FROM ${name}.products WHERE id = 2`))[0]!.stock;
    expect(stockNow + Number(sold)).toBe(initial);
    expect(Number(sold)).toBe(2);
    const orphans = await q(`SELECT o.id FROM (${allOrders}) o LEFT JOIN ${name}.reservations r ON r.id = o.id WHERE o.status <> 'void' AND r.state IS DISTINCT FROM 'committed'`);
    expect(orphans).toEqual([]);
    const unplaced = await q(`SELECT r.id FROM ${name}.reservations r LEFT JOIN (${allOrders}) o ON o.id = r.id WHERE r.state = 'committed' AND (o.id IS NULL OR o.status = 'void')`);
    expect(unplaced).toEqual([]);
  });
});
