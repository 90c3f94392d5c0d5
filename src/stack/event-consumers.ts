import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { Db } from './db.js';
import type { DomainEvent } from './domain-events.js';
import type { EventBus } from './event-routing.js';
import type { EventMetrics } from './event-metrics.js';
import { EVENT_CONSUMERS, type EventConsumer } from './protocol.js';
import { withSpan } from './tracing.js';

/*
 * The three consumers of domain events. Each applies its effect and records
 * the event id in `processed_events` in ONE transaction of the catalog
 * primary: a redelivered event (a relay that crashed after the broker's
 * confirm, a consumer killed before its acknowledgement) finds its id there
 * and changes nothing, so every effect happens once per event even though
 * delivery is at least once. The acknowledgement follows the commit.
 */

export interface EffectSettings {
  /** Simulated time to send one e-mail (emailLatency). */
  emailLatencyMs: number;
}

type Effect = (c: pg.PoolClient, e: DomainEvent, s: EffectSettings) => Promise<void>;

interface Line { productId: number; qty: number }

const EFFECTS: Record<EventConsumer, Effect> = {
  // A projection of what was ordered per product, and which products ran low, apart from the stock itself.
  async inventory(c, e) {
    if (e.type === 'OrderCreated') {
      const lines = (e.data.items as Line[] | undefined) ?? [];
      // Lines come in product order (checkout sorts them): two projections never deadlock.
      for (const l of lines) {
        await c.query(`INSERT INTO inventory_projection (product_id, units_ordered, orders) VALUES ($1, $2, 1)
          ON CONFLICT (product_id) DO UPDATE SET units_ordered = inventory_projection.units_ordered + $2, orders = inventory_projection.orders + 1, updated_at = now()`,
        [l.productId, l.qty]);
      }
    } else if (e.type === 'StockLow') {
      await c.query(`INSERT INTO inventory_projection (product_id, low_stock, last_low_stock) VALUES ($1, true, $2)
        ON CONFLICT (product_id) DO UPDATE SET low_stock = true, last_low_stock = $2, updated_at = now()`, [e.data.productId, e.data.stock]);
    }
  },
  // The send itself (its latency) happened before the transaction (applyEvent); the row is the mail "sent".
  async email(c, e) {
    const kind = e.type === 'OrderCreated' ? 'order-received' : 'order-confirmed';
    await c.query('INSERT INTO emails_sent (event_id, order_id, kind) VALUES ($1, $2, $3)', [e.id, e.data.orderId, kind]);
  },
  async analytics(c, e) {
    const revenue = e.type === 'OrderCreated' ? Number(e.data.totalCents ?? 0) : 0;
    await c.query(`INSERT INTO analytics_counts (type, events, revenue_cents) VALUES ($1, 1, $2)
      ON CONFLICT (type) DO UPDATE SET events = analytics_counts.events + 1, revenue_cents = analytics_counts.revenue_cents + $2`, [e.type, revenue]);
  },
};

/** Applies one event's effect for `consumer`, at most once per event id: `duplicate` when it was applied already. */
export async function applyEvent(db: Db, consumer: EventConsumer, e: DomainEvent, s: EffectSettings): Promise<'done' | 'duplicate'> {
  if (consumer === 'email' && s.emailLatencyMs > 0) {
    // The simulated send holds no database connection: a duplicate seen now skips it; one delivered at the
    // same time as the first sends too, but only one of them records it (below), so it counts once.
    if ((await db.query('SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2', [consumer, e.id])).rowCount) return 'duplicate';
    await sleep(s.emailLatencyMs);
  }
  return db.transaction(async (c) => {
    const fresh = await c.query('INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [consumer, e.id]);
    if (fresh.rowCount === 0) return 'duplicate';
    await EFFECTS[consumer](c, e, s);
    return 'done';
  });
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
