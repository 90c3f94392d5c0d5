import type pg from 'pg';
import type { Db } from './db.js';
import type { DomainEvent } from './domain-events.js';
import type { EventConsumer, EventType } from './protocol.js';

/*
 * Who hears which domain event, and what a transport of events (RabbitMQ, or
 * the job queue when no broker is configured) offers the relay and the
 * consumers (docs/reference-stack.md#domain-events).
 */

/** The event types each consumer's queue is bound to. */
export const CONSUMER_TYPES: Readonly<Record<EventConsumer, readonly EventType[]>> = {
  // Units ordered per product, and which products ran low.
  inventory: ['OrderCreated', 'StockLow'],
  // "Order received" and "order confirmed" mails.
  email: ['OrderCreated', 'OrderProcessed'],
  // Counts (and revenue) per event type.
  analytics: ['OrderCreated', 'OrderProcessed', 'StockLow'],
};

/** The consumers an event of this type goes to. */
export function subscribers(type: EventType): EventConsumer[] {
  return (Object.keys(CONSUMER_TYPES) as EventConsumer[]).filter((c) => CONSUMER_TYPES[c].includes(type));
}

/** Handles one event; resolving acknowledges it, throwing hands it back for a later redelivery. */
export type EventHandler = (event: DomainEvent) => Promise<void>;

/**
 * Where the relay hands events and consumers read them. Delivery is at least
 * once: a consumer may see an event again (a relay crash after the hand-over,
 * a consumer killed before its acknowledgement), so handlers dedupe by event id.
 */
export interface EventBus {
  /** `rabbitmq` or `queue` (shop_events_info). */
  broker: 'rabbitmq' | 'queue';
  /** The queue a consumer reads: the RabbitMQ queue, or the job queue's name. */
  queueName: (consumer: EventConsumer) => string;
  /**
   * Hands the events over; resolves once they are held durably (the broker confirmed them), throws when it
   * cannot. `from`: the relay's pool and transaction; a queue kept in that same database writes through it,
   * so the hand-over commits with the outbox's DELETE.
   */
  publish: (events: DomainEvent[], from?: { db: Db; tx: pg.PoolClient }) => Promise<void>;
  /** Starts a consumer: at most `prefetch` events handled at once. */
  consume: (consumer: EventConsumer, handler: EventHandler, prefetch: number) => void;
  /** Events waiting for this consumer (not the ones being handled). Throws when the broker cannot be read. */
  depth: (consumer: EventConsumer) => Promise<number>;
  /** Stops consuming, lets handlers finish for up to `deadlineMs` (unfinished events are redelivered later), closes. */
  close: (deadlineMs: number) => Promise<void>;
}

/** Retry delay of a handler that failed, or of a reconnect: 200 ms doubling, at most 5 s. */
export function eventRetryMs(attempt: number): number {
  return Math.min(5_000, 200 * 2 ** Math.max(0, attempt - 1));
}

/**
 * How long a consumer holds an event before it counts as dead (its claim expires and another copy may run):
 * at least 30 s, and past twice a mail's send with a margin, so a live consumer's send is never run twice.
 */
export function eventLeaseMs(emailLatencyMs: number): number {
  return Math.max(30_000, 2 * emailLatencyMs + 10_000);
}
