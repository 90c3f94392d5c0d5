import { createAmqpBroker, type AmqpBrokerOptions } from './amqp-broker.js';
import type { Db } from './db.js';
import { createBullEventQueue, createPgEventQueue } from './event-queue.js';
import { eventLeaseMs, type EventBus } from './event-routing.js';
import type { StackConfig } from './stack-config.js';

/**
 * The transport of domain events the settings ask for: RabbitMQ with
 * `broker: rabbitmq`; otherwise the job queue's backend (BullMQ with external
 * backends, the `event_jobs` table of `db`, the catalog primary, embedded).
 */
export function createEventBus(config: StackConfig, db: Db | undefined, log?: AmqpBrokerOptions['log']): EventBus {
  if (config.broker === 'rabbitmq') return createAmqpBroker({ url: config.amqpUrl!, keyPrefix: config.keyPrefix, log });
  if (config.backends === 'external') return createBullEventQueue({ url: config.redisUrl!, keyPrefix: config.keyPrefix });
  if (!db) throw new Error('the embedded event queue needs the catalog primary');
  return createPgEventQueue(db, { leaseMs: eventLeaseMs(config.emailLatency) });
}
