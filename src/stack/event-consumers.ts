import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from './db.js';
import type { DomainEvent } from './domain-events.js';
import type { EventBus } from './event-routing.js';
import type { EventMetrics } from './event-metrics.js';
import { EVENT_CONSUMERS, type EventConsumer } from './protocol.js';
import { withSpan } from './tracing.js';

/*
 * The three consumers of domain events. Each applies its effect and records
 * the event id in `processed_events` in ONE statement (one transaction) of
 * the catalog primary: a redelivered event (a relay that crashed after the broker's
 * confirm, a consumer killed before its acknowledgement) finds its id there
 * and changes nothing, so every effect happens once per event even though
 * delivery is at least once. The acknowledgement follows the commit.
 */

export interface EffectSettings {
  /** Simulated time to send one e-mail (emailLatency). */
  emailLatencyMs: number;
}

/**
 * One consumer's effect of one event, as the tail of a single statement:
 * `fresh` holds the event's id when this consumer had not applied it yet (and
 * nothing otherwise), so the effect happens only then. One statement is one
 * transaction: the effect and the id commit together, in one round trip.
 * Parameters from $3 on are the effect's.
 */
type Effect = (e: DomainEvent) => { sql: string; values: unknown[] } | undefined;

interface Line { productId: number; qty: number }

const EFFECTS: Record<EventConsumer, Effect> = {
  // A projection of what was ordered per product, and which products ran low, apart from the stock itself.
  // Lines come one per product, in product order (checkout sorts them): two projections never deadlock.
  inventory(e) {
    if (e.type === 'OrderCreated') {
      const lines = (e.data.items as Line[] | undefined) ?? [];
      return {
        sql: `INSERT INTO inventory_projection (product_id, units_ordered, orders)
          SELECT l.product_id, l.qty, 1 FROM fresh, unnest($3::integer[], $4::integer[]) AS l(product_id, qty)
          ON CONFLICT (product_id) DO UPDATE SET units_ordered = inventory_projection.units_ordered + EXCLUDED.units_ordered,
            orders = inventory_projection.orders + 1, updated_at = now()`,
        values: [lines.map((l) => l.productId), lines.map((l) => l.qty)],
      };
    }
    if (e.type === 'StockLow') {
      return {
        sql: `INSERT INTO inventory_projection (product_id, low_stock, last_low_stock) SELECT $3::integer, true, $4::integer FROM fresh
          ON CONFLICT (product_id) DO UPDATE SET low_stock = true, last_low_stock = EXCLUDED.last_low_stock, updated_at = now()`,
        values: [e.data.productId, e.data.stock],
      };
    }
    return undefined;
  },
  // The send itself (its latency) happened before (applyEvent); the row is the mail "sent".
  email(e) {
    return {
      sql: 'INSERT INTO emails_sent (event_id, order_id, kind) SELECT event_id, $3::uuid, $4::text FROM fresh',
      values: [e.data.orderId, e.type === 'OrderCreated' ? 'order-received' : 'order-confirmed'],
    };
  },
  analytics(e) {
    return {
      sql: `INSERT INTO analytics_counts (type, events, revenue_cents) SELECT $3::text, 1, $4::bigint FROM fresh
        ON CONFLICT (type) DO UPDATE SET events = analytics_counts.events + 1, revenue_cents = analytics_counts.revenue_cents + EXCLUDED.revenue_cents`,
      values: [e.type, e.type === 'OrderCreated' ? Number(e.data.totalCents ?? 0) : 0],
    };
  },
};

/**
 * How long a claimed send is held: twice the send with a margin, so a live sender keeps it to the end, and
 * shorter than the queues' leases: a send cut by a kill -9 is made again (by the redelivered copy) soon after.
 */
export function emailClaimMs(emailLatencyMs: number): number {
  return 2 * emailLatencyMs + 5_000;
}

/**
 * Applies one event's effect for `consumer`, at most once per event id:
 * `duplicate` when it was applied already. A duplicate delivered while the
 * first is being applied waits for its row of processed_events, then finds it.
 */
export async function applyEvent(db: Db, consumer: EventConsumer, e: DomainEvent, s: EffectSettings): Promise<'done' | 'duplicate'> {
  if (consumer === 'email') {
    // The simulated send holds no database connection: a duplicate seen now skips it.
    if ((await db.query('SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2', [consumer, e.id])).rowCount) return 'duplicate';
    // A copy delivered while another is sending (a redelivery racing the first) must not send too: the send
    // is claimed for a lease first. Only a consumer that died mid-send (its lease ran out) is sent again.
    const claim = await db.query(
      `INSERT INTO email_sends (event_id, attempts, sending_until) VALUES ($1, 1, now() + $2 * interval '1 millisecond')
       ON CONFLICT (event_id) DO UPDATE SET attempts = email_sends.attempts + 1, sending_until = EXCLUDED.sending_until
         WHERE email_sends.sending_until < now() AND NOT EXISTS (SELECT 1 FROM processed_events WHERE consumer = 'email' AND event_id = $1)
       RETURNING attempts`, [e.id, emailClaimMs(s.emailLatencyMs)]);
    if (claim.rowCount === 0) throw new Error(`event ${e.id}: its mail is being sent by another copy or was sent`);
    if (s.emailLatencyMs > 0) await sleep(s.emailLatencyMs);
  }
  const effect = EFFECTS[consumer](e);
  const r = await db.query<{ n: string }>(
    `WITH fresh AS (INSERT INTO processed_events (consumer, event_id) VALUES ($1::text, $2::uuid) ON CONFLICT DO NOTHING RETURNING event_id)
     ${effect ? `, effect AS (${effect.sql})` : ''}
     SELECT count(*) AS n FROM fresh`, [consumer, e.id, ...(effect?.values ?? [])]);
  return Number(r.rows[0]!.n) > 0 ? 'done' : 'duplicate';
}

/** Starts the three consumers on `bus`, each handling up to `prefetch` events at once; effects go to `db`, the catalog primary. */
export function startEventConsumers(bus: EventBus, db: Db, metrics: EventMetrics, opts: EffectSettings & { prefetch: number }): void {
  for (const consumer of EVENT_CONSUMERS) {
    bus.consume(consumer, async (e) => {
      try {
        const result = await withSpan(`${consumer} ${e.type}`, () => applyEvent(db, consumer, e, opts),
          { kind: 'consumer', parent: e.traceparent, attributes: { 'messaging.consumer.group.name': consumer, 'messaging.message.id': e.id } });
        metrics.consumed.inc({ consumer, result });
      } catch (err) {
        metrics.consumed.inc({ consumer, result: 'failed' });
        throw err;
      }
    }, opts.prefetch);
  }
}
