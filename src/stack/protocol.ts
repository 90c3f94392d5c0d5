/*
 * What the shop and whoever starts or measures it agree on, written once:
 * the environment and messages of a shop started by a parent process, the
 * shop's exit codes, its Redis keys and the names of the series the load
 * tool reads. A leaf of src/stack/ (it imports nothing), re-exported by
 * contract.ts, the stack's public face.
 */

/**
 * Environment variable a parent (`scalectl run` for `target: reference`) sets
 * on the shop it starts: a scenario's `stack:` block as JSON, already
 * validated (durations in milliseconds). Stronger than SHOP_* variables,
 * weaker than flags.
 */
export const STACK_CONFIG_ENV = 'SCALECTL_STACK_CONFIG';

/**
 * Messages a shop started with an IPC channel sends its parent. `failed`: it
 * could not start (the reason); `stopped`: it stopped on its own after it
 * was ready (its embedded PostgreSQL died for good). With a parent, the shop
 * leaves saying these to the parent; alone, it prints them.
 */
export type ShopMessage =
  | { type: 'ready'; url: string }
  | { type: 'failed'; message: string }
  | { type: 'stopped'; message: string };

/** The shop process's exit codes: the same numbers as scalectl's (docs/exit-codes.md), a test keeps them equal. */
export const SHOP_EXIT = {
  /** Stopped by a signal (or its parent went away) after a clean drain. */
  ok: 0,
  /** A crash of the shop's own code. */
  internal: 1,
  /** Invalid settings (every problem listed). */
  usage: 2,
  /** It could not start, or it stopped because its database died for good. */
  stackFailed: 7,
  /** A second signal while it drained: exited at once. */
  forcedExit: 130,
} as const;

/** What one shop (a primary and the processes it forks) runs: `all` (web workers and consumers), `web` (no consumers) or `consumer` (no web workers). */
export const STACK_ROLES = ['all', 'web', 'consumer'] as const;
export type StackRole = (typeof STACK_ROLES)[number];

/** Prefix of every Redis key of the shop (the `keyPrefix` knob's default). */
export const DEFAULT_KEY_PREFIX = 'shop';

/** The order queue's name, on either backend. */
export const ORDER_QUEUE = 'orders';

/**
 * The Redis list BullMQ keeps a queue's waiting jobs in, with the shop's
 * `keyPrefix`: `shop:bull:orders:wait` by default (what KEDA's redis trigger watches).
 */
export function bullWaitList(keyPrefix: string, queue = ORDER_QUEUE): string {
  return `${keyPrefix}:bull:${queue}:wait`;
}

/** Names of the Prometheus series the load tool reads from the shop's /metrics (docs/reference-stack.md#metrics lists them all). */
export const SHOP_SERIES = {
  cacheRequests: 'shop_cache_requests_total',
  queueJobs: 'shop_queue_jobs',
  queueInfo: 'shop_queue_info',
  outboxPending: 'shop_outbox_pending',
  orders: 'shop_orders',
  workerCpuSeconds: 'shop_worker_cpu_seconds_total',
  workerEventLoopLag: 'shop_worker_event_loop_lag_seconds',
  replicas: 'shop_replicas',
  /** Statements sent, by the database's role (`primary`, `replica`, `shard`) and pool (`primary`, `replica-1`, `shard-0`). */
  dbQueries: 'shop_db_queries_total',
  /** Catalog reads (product list, product, flash-sale view) by the pool that served them: `primary` or `replica-N`. */
  catalogReads: 'shop_catalog_reads_total',
  /** How far each replica's replay is behind the primary: seconds, and bytes of WAL (label `replica`). */
  replicaLagSeconds: 'shop_db_replica_lag_seconds',
  replicaLagBytes: 'shop_db_replica_lag_bytes',
  /** Domain events handed to the broker (or the job queue), by `type`. */
  eventsPublished: 'shop_events_published_total',
  /** Domain events committed and not yet handed over. */
  eventsOutboxPending: 'shop_events_outbox_pending',
  /** Events waiting for each consumer (label `consumer`, and `queue`: the RabbitMQ queue or the job queue's name). */
  eventQueueMessages: 'shop_event_queue_messages',
  /** Events each consumer handled (label `consumer`; `result`: `done`, `duplicate`, `failed`). */
  eventsConsumed: 'shop_events_consumed_total',
  /** Always 1 per consumer: the broker (`rabbitmq` or `queue`) and the queue it reads (what KEDA's rabbitmq trigger watches). */
  eventsInfo: 'shop_events_info',
} as const;

/** The domain events the shop publishes from its transactional outbox (docs/reference-stack.md#domain-events). */
export const EVENT_TYPES = ['OrderCreated', 'OrderProcessed', 'StockLow'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The event consumers, each with a queue of its own: the inventory projection, the e-mail sender and the analytics counter. */
export const EVENT_CONSUMERS = ['inventory', 'email', 'analytics'] as const;
export type EventConsumer = (typeof EVENT_CONSUMERS)[number];

/** The RabbitMQ topic exchange the events are published to, with the shop's keyPrefix: `shop.events`. */
export function eventExchange(keyPrefix: string): string {
  return `${keyPrefix}.events`;
}

/** The durable RabbitMQ queue of one consumer: `shop.events.email` (what KEDA's rabbitmq trigger reads as queueName). */
export function eventQueue(keyPrefix: string, consumer: EventConsumer): string {
  return `${keyPrefix}.events.${consumer}`;
}
