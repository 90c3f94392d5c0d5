import { Counter, Gauge, type Registry } from 'prom-client';
import type { Db } from './db.js';
import type { EventBus } from './event-routing.js';
import { bullWaitList, EVENT_CONSUMERS, EVENT_TYPES, SHOP_SERIES } from './protocol.js';

/** The domain-event series of one process (docs/reference-stack.md#metrics). */
export interface EventMetrics {
  published: Counter<'type'>;
  consumed: Counter<'consumer' | 'result'>;
}

/**
 * Registers the event series in `registry`. Every process exports the
 * counters (summed by the primary) and `shop_events_info`; a process that
 * relays (`pools`: the write pools) also reads the outbox and the queues'
 * depths at scrape time (the same in every worker: combined with max).
 * `bullKeyPrefix`: the keyPrefix of BullMQ event queues (external backends
 * without a broker), whose waiting lists the info series then names.
 */
export function createEventMetrics(registry: Registry, bus: EventBus, pools?: readonly Db[], bullKeyPrefix?: string): EventMetrics {
  const registers = [registry];
  const published = new Counter({
    name: SHOP_SERIES.eventsPublished, help: 'Domain events handed to the broker (or the job queue) and confirmed, by type.', labelNames: ['type'] as const, registers,
  });
  for (const type of EVENT_TYPES) published.inc({ type }, 0);
  const consumed = new Counter({
    name: SHOP_SERIES.eventsConsumed, help: 'Domain events each consumer handled: done, duplicate (already applied), failed (handed back for redelivery).',
    labelNames: ['consumer', 'result'] as const, registers,
  });
  for (const consumer of EVENT_CONSUMERS) for (const result of ['done', 'duplicate', 'failed']) consumed.inc({ consumer, result }, 0);
  // Constant: lets scalectl name KEDA's rabbitmq trigger queueName, or the redis trigger's listName of a BullMQ
  // event queue, instead of guessing it. No wait_list label with RabbitMQ or the embedded event_jobs table (no list).
  const info = new Gauge({
    name: SHOP_SERIES.eventsInfo, help: 'Always 1 per event consumer: the broker (rabbitmq or queue), the queue it reads, and its BullMQ waiting list when it has one.',
    labelNames: ['broker', 'consumer', 'queue', 'wait_list'] as const, registers, aggregator: 'max',
  });
  for (const consumer of EVENT_CONSUMERS) {
    const queue = bus.queueName(consumer);
    const list = bus.broker === 'queue' && bullKeyPrefix !== undefined ? { wait_list: bullWaitList(bullKeyPrefix, queue) } : {};
    info.set({ broker: bus.broker, consumer, queue, ...list }, 1);
  }
  if (pools) {
    new Gauge({
      name: SHOP_SERIES.eventsOutboxPending, help: 'Domain events committed and not yet handed to the broker (or the job queue).', registers, aggregator: 'max',
      // Absent, not stale, while any pool cannot be read: a partial sum would look like progress.
      async collect() {
        const counts = await Promise.all(pools.map((db) => db.query<{ n: string }>('SELECT count(*) AS n FROM events_outbox').then((r) => Number(r.rows[0]!.n))))
          .catch(() => undefined);
        if (counts) this.set(counts.reduce((a, b) => a + b, 0));
        else this.remove(); // reset() would leave an unlabelled gauge at 0
      },
    });
    new Gauge({
      name: SHOP_SERIES.eventQueueMessages, help: 'Domain events waiting for each consumer in its queue (not those being handled).',
      labelNames: ['consumer', 'queue'] as const, registers, aggregator: 'max',
      // A queue that cannot be read has no series (the others keep theirs), rather than its last value.
      async collect() {
        this.reset();
        await Promise.all(EVENT_CONSUMERS.map(async (consumer) => {
          const n = await bus.depth(consumer).catch(() => undefined);
          if (n !== undefined) this.set({ consumer, queue: bus.queueName(consumer) }, n);
        }));
      },
    });
  }
  return { published, consumed };
}
