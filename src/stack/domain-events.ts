import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { EventType } from './protocol.js';

/*
 * Domain events, written to the transactional outbox (`events_outbox`) in
 * the same transaction as the change they describe: an event exists if and
 * only if its transaction committed. A relay hands them to the broker (or
 * the job queue) and deletes them once handed over (docs/reference-stack.md#domain-events).
 */

/** An event as consumers receive it. `id` is unique: consumers are idempotent by it. */
export interface DomainEvent {
  id: string;
  type: EventType;
  /** When its transaction wrote it (ISO 8601). */
  occurredAt: string;
  data: Record<string, unknown>;
  /** W3C trace context of the request that caused it, when traced. */
  traceparent?: string;
}

/** Writes an event to the outbox through `c`, the transaction of the change; returns its id. */
export async function emitEvent(c: pg.PoolClient, type: EventType, data: Record<string, unknown>, traceparent?: string): Promise<string> {
  const id = randomUUID();
  await c.query('INSERT INTO events_outbox (id, type, data, traceparent) VALUES ($1, $2, $3, $4)', [id, type, data, traceparent ?? null]);
  return id;
}
