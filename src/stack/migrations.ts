import type { Db } from './db.js';

/** Catalog seed settings. */
export interface SeedOptions {
  products: number;
  hotProducts: number;
  hotStock: number;
}

/*
 * Migrations run once, in the primary, before any worker starts. The pending
 * ones run together in one transaction (all or none) and each is recorded in
 * schema_migrations, so a restart against the same database applies only
 * what is new.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE products (
     id integer PRIMARY KEY,
     name text NOT NULL,
     description text NOT NULL,
     price_cents integer NOT NULL CHECK (price_cents >= 0),
     stock integer NOT NULL CHECK (stock >= 0),
     hot boolean NOT NULL DEFAULT false
   );
   CREATE INDEX products_hot ON products (id) WHERE hot;
   CREATE TABLE carts (
     id uuid PRIMARY KEY,
     created_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE cart_items (
     cart_id uuid NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
     product_id integer NOT NULL REFERENCES products (id),
     qty integer NOT NULL CHECK (qty > 0),
     PRIMARY KEY (cart_id, product_id)
   );
   CREATE TABLE orders (
     id uuid PRIMARY KEY,
     items jsonb NOT NULL,
     total_cents bigint NOT NULL,
     status text NOT NULL CHECK (status IN ('accepted', 'processing', 'done', 'failed')),
     times_processed integer NOT NULL DEFAULT 0,
     created_at timestamptz NOT NULL DEFAULT now(),
     processed_at timestamptz
   );
   CREATE INDEX orders_status ON orders (status);
   CREATE TABLE idempotency_keys (
     key text PRIMARY KEY,
     request_hash text NOT NULL,
     status_code integer,
     response jsonb,
     created_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE outbox (
     id bigserial PRIMARY KEY,
     order_id uuid NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE jobs (
     id uuid PRIMARY KEY,
     state text NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'active', 'failed')),
     attempts integer NOT NULL DEFAULT 0,
     run_at timestamptz NOT NULL DEFAULT now(),
     locked_until timestamptz,
     last_error text
   );
   CREATE INDEX jobs_ready ON jobs (run_at) WHERE state = 'waiting';`,
  // The reconciler (order-processing.ts) checks each unfinished order's job once per requeueAfter
  // (checked_at) and flags those the queue did not hold (job_missing, shop_orders_overdue); the
  // indexes find the next batch and count the overdue without reading a whole backlog.
  `ALTER TABLE orders ADD COLUMN checked_at timestamptz;
   ALTER TABLE orders ADD COLUMN job_missing boolean NOT NULL DEFAULT false;
   CREATE INDEX orders_unfinished_checked ON orders (greatest(created_at, checked_at)) WHERE status IN ('accepted', 'processing');
   CREATE INDEX orders_job_missing ON orders (id) WHERE job_missing AND status IN ('accepted', 'processing');
   CREATE INDEX outbox_order ON outbox (order_id);`,
  // Domain events (domain-events.ts) wait here, written by the transaction of their change, until the relay hands them over;
  // an order keeps the trace context of the request that placed it, so its background work joins the same trace.
  `CREATE TABLE events_outbox (
     id uuid PRIMARY KEY,
     seq bigserial NOT NULL,
     type text NOT NULL,
     data jsonb NOT NULL,
     traceparent text,
     created_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE INDEX events_outbox_seq ON events_outbox (seq);
   ALTER TABLE orders ADD COLUMN traceparent text;`,
  // With shards, checkout reserves stock here (on the catalog primary) before the order is written on its
  // shard; the id is the order's. A reservation is resolved committed (the order exists) or released (stock back).
  `CREATE TABLE reservations (
     id uuid PRIMARY KEY,
     shard integer NOT NULL,
     idempotency_key text NOT NULL,
     items jsonb NOT NULL,
     total_cents bigint NOT NULL,
     state text NOT NULL DEFAULT 'reserved' CHECK (state IN ('reserved', 'committed', 'released')),
     created_at timestamptz NOT NULL DEFAULT now(),
     resolved_at timestamptz
   );
   CREATE INDEX reservations_open ON reservations (created_at) WHERE state = 'reserved';`,
  // The event consumers (event-consumers.ts): each records the ids it applied in processed_events, in the
  // transaction of its effect, so a redelivered event changes nothing. emails_sent has no unique key on
  // purpose: a mail sent twice would show as two rows. event_jobs: the events' job queue when no broker
  // is configured, embedded (event-queue.ts).
  `CREATE TABLE processed_events (
     consumer text NOT NULL,
     event_id uuid NOT NULL,
     processed_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (consumer, event_id)
   );
   CREATE TABLE inventory_projection (
     product_id integer PRIMARY KEY,
     units_ordered bigint NOT NULL DEFAULT 0,
     orders bigint NOT NULL DEFAULT 0,
     low_stock boolean NOT NULL DEFAULT false,
     last_low_stock integer,
     updated_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE emails_sent (
     id bigserial PRIMARY KEY,
     event_id uuid NOT NULL,
     order_id uuid,
     kind text NOT NULL,
     sent_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE analytics_counts (
     type text PRIMARY KEY,
     events bigint NOT NULL DEFAULT 0,
     revenue_cents bigint NOT NULL DEFAULT 0
   );
   CREATE TABLE event_jobs (
     consumer text NOT NULL,
     event_id uuid NOT NULL,
     event jsonb NOT NULL,
     state text NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'active')),
     attempts integer NOT NULL DEFAULT 0,
     run_at timestamptz NOT NULL DEFAULT now(),
     locked_until timestamptz,
     PRIMARY KEY (consumer, event_id)
   );
   CREATE INDEX event_jobs_ready ON event_jobs (consumer, run_at) WHERE state = 'waiting';`,
  // A cart's checkout claims the cart here in its reservation (at most one open per cart), so a second checkout
  // of it waits for the first instead of reserving stock too. created_at is when the row is written, not when
  // its transaction began (lock waits before it do not age it): the reconciler's clock starts there.
  `ALTER TABLE reservations ADD COLUMN cart_id uuid;
   CREATE UNIQUE INDEX reservations_open_cart ON reservations (cart_id) WHERE state = 'reserved';
   ALTER TABLE reservations ALTER COLUMN created_at SET DEFAULT clock_timestamp();`,
  // The e-mail consumer claims a send before it starts (event-consumers.ts): one copy of an event sends at a
  // time, and attempts counts the sends started, so a mail sent twice shows (emails_sent only records it once).
  `CREATE TABLE email_sends (
     event_id uuid PRIMARY KEY,
     attempts integer NOT NULL,
     sending_until timestamptz NOT NULL
   );`,
];

/*
 * A shard's own tables (shards.ts): carts and orders with what order
 * processing needs next to them (outbox, events_outbox). No foreign key to
 * products (they are on the primary). An order of status 'void' is a
 * tombstone: the reservation reconciler wrote it so that a checkout cut off
 * by a crash can never place that order afterwards.
 */
export const SHARD_MIGRATIONS: readonly string[] = [
  `CREATE TABLE carts (
     id uuid PRIMARY KEY,
     created_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE cart_items (
     cart_id uuid NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
     product_id integer NOT NULL,
     qty integer NOT NULL CHECK (qty > 0),
     PRIMARY KEY (cart_id, product_id)
   );
   CREATE TABLE orders (
     id uuid PRIMARY KEY,
     items jsonb NOT NULL,
     total_cents bigint NOT NULL,
     status text NOT NULL CHECK (status IN ('accepted', 'processing', 'done', 'failed', 'void')),
     times_processed integer NOT NULL DEFAULT 0,
     created_at timestamptz NOT NULL DEFAULT now(),
     processed_at timestamptz,
     checked_at timestamptz,
     job_missing boolean NOT NULL DEFAULT false,
     traceparent text
   );
   CREATE INDEX orders_status ON orders (status);
   CREATE INDEX orders_unfinished_checked ON orders (greatest(created_at, checked_at)) WHERE status IN ('accepted', 'processing');
   CREATE INDEX orders_job_missing ON orders (id) WHERE job_missing AND status IN ('accepted', 'processing');
   CREATE TABLE outbox (
     id bigserial PRIMARY KEY,
     order_id uuid NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE INDEX outbox_order ON outbox (order_id);
   CREATE TABLE events_outbox (
     id uuid PRIMARY KEY,
     seq bigserial NOT NULL,
     type text NOT NULL,
     data jsonb NOT NULL,
     traceparent text,
     created_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE INDEX events_outbox_seq ON events_outbox (seq);`,
];

/** Creates the schema and tables, applying migrations not yet applied (the primary's by default, or a shard's). */
export async function migrate(db: Db, schema: string, migrations: readonly string[] = MIGRATIONS): Promise<void> {
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await db.transaction(async (c) => {
    // Two stacks starting against one database must not race.
    await c.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`scalectl-migrate:${schema}`]);
    await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    // A newer scalectl migrated this schema: this one would read tables it does not know.
    const newest = Math.max(0, ...done);
    if (newest > migrations.length) {
      throw new Error(`the database schema ${schema} was migrated by a newer scalectl (migration ${newest}; this one knows ${migrations.length}): upgrade scalectl, or use another dbSchema`);
    }
    for (const [i, sql] of migrations.entries()) {
      if (done.has(i + 1)) continue;
      await c.query(sql);
      await c.query('INSERT INTO schema_migrations (version) VALUES ($1)', [i + 1]);
    }
  });
}

/**
 * Seeds the catalog deterministically: products 1..hotProducts are the flash
 * sale's, with hotStock units each; the rest have plenty. Idempotent: existing
 * rows are left as they are, so a restart keeps what was sold.
 */
export async function seed(db: Db, opts: SeedOptions): Promise<void> {
  await db.query(
    `INSERT INTO products (id, name, description, price_cents, stock, hot)
     SELECT i,
            CASE WHEN i <= $2 THEN 'Flash deal #' || i ELSE 'Product #' || i END,
            'A deterministic catalog item, number ' || i || '.',
            499 + (i * 7919) % 20000,
            CASE WHEN i <= $2 THEN $3 ELSE 1000000 END,
            i <= $2
     FROM generate_series(1, $1) AS i
     ON CONFLICT (id) DO NOTHING`,
    [opts.products, opts.hotProducts, opts.hotStock],
  );
}
