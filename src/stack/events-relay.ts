import type { Db } from './db.js';
import type { DbTopology } from './db-topology.js';
import type { DomainEvent } from './domain-events.js';
import type { EventBus } from './event-routing.js';
import type { EventType } from './protocol.js';
import { startRelayLoop, type RelayLoop } from './relay-loop.js';

/** nudge: look now (a transaction just wrote events); stop: after the current batch. */
export type EventsRelay = RelayLoop;

export interface EventsRelayOptions {
  pollMs?: number;
  batch?: number;
  /** The broker (or queue) confirmed these. */
  onPublished?: (events: DomainEvent[]) => void;
  /**
   * A batch could not be handed over; its rows stay and are retried. `failures`: in a row, this one included.
   * `failed`: the broker (or job queue) refused or did not answer, or the pool's database failed.
   */
  onError?: (err: unknown, failures: number, failed: 'broker' | 'database') => void;
}

/** The pools events are written to: the catalog primary and every shard, each once (replicas are read-only). */
export function writePools(dbs: DbTopology): Db[] {
  return [...new Set([dbs.primary, ...dbs.shards])];
}

interface OutboxRow { id: string; type: EventType; data: Record<string, unknown>; traceparent: string | null; created_at: Date }

/**
 * Moves events from one pool's `events_outbox` to the bus: a batch is
 * locked (SKIP LOCKED, so relays in every web worker share the work),
 * published, and deleted only once the broker confirmed it, in the same
 * transaction. A broker that is down rolls the transaction back: the events
 * wait. A relay that dies between the confirm and the commit publishes them
 * again: consumers dedupe by event id (at least once to the broker, effects
 * once). No order is promised between events (concurrent relays).
 */
export function startEventsRelay(db: Db, bus: EventBus, opts: EventsRelayOptions = {}): EventsRelay {
  const pollMs = opts.pollMs ?? 100;
  const batch = opts.batch ?? 200;
  let brokerFailed = false;

  const relayOnce = (): Promise<number> => db.transaction(async (c) => {
    const rows = (await c.query<OutboxRow>(
      'SELECT id, type, data, traceparent, created_at FROM events_outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED', [batch])).rows;
    if (rows.length === 0) return 0;
    const events: DomainEvent[] = rows.map((r) => ({
      id: r.id, type: r.type, occurredAt: r.created_at.toISOString(), data: r.data, ...(r.traceparent ? { traceparent: r.traceparent } : {}),
    }));
    brokerFailed = false;
    await bus.publish(events, { db, tx: c }).catch((err: unknown) => {
      brokerFailed = true;
      throw err;
    });
    await c.query('DELETE FROM events_outbox WHERE id = ANY($1::uuid[])', [rows.map((r) => r.id)]);
    opts.onPublished?.(events);
    return rows.length;
  });

  return startRelayLoop(relayOnce, { pollMs, batch, onError: (err, failures) => opts.onError?.(err, failures, brokerFailed ? 'broker' : 'database') });
}
