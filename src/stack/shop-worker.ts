import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { createBullQueue } from './bullmq-queue.js';
import { bullWaitList, ORDER_QUEUE } from './protocol.js';
import { DRAIN_KILL_GRACE_MS } from './cluster-messages.js';
import { createMemoryCache, createNoCache, createRedisCache, fastFailRedis, redisReady, type Cache } from './cache.js';
import { trackConnections } from './connection-rebalance.js';
import type { Db, DbConnection } from './db.js';
import { createDbMetrics, type DbMetrics } from './db-metrics.js';
import { openTopology, withShards, type DbTopology } from './db-topology.js';
import { createEventBus } from './event-bus.js';
import { startEventConsumers } from './event-consumers.js';
import { createEventMetrics } from './event-metrics.js';
import type { EventBus } from './event-routing.js';
import { startEventsRelay, writePools } from './events-relay.js';
import type { JobQueue } from './job-queue.js';
import { failOrder, processOrder, startOrderReconciler, startOutboxRelay } from './order-processing.js';
import { createPgQueue } from './pg-queue.js';
import { startReservationReconciler } from './reservations.js';
import { openShardPools } from './shards.js';
import type { RateLimitCounter } from './rate-limit.js';
import { buildShopApp } from './shop-app.js';
import { createConsumerMetrics, createShopMetrics } from './shop-metrics.js';
import type { StackConfig } from './stack-config.js';
import { startTracing } from './trace-export.js';
import { withSpan } from './tracing.js';
import { traceQuery, tracedCache } from './traced-backends.js';
import { maskCredentials } from '../shared/mask-credentials.js';

/**
 * What a process does. web: the HTTP server, the outbox relays (orders and
 * domain events) and the order reconciler. consumer: the order queue's
 * consumer and the event consumers only (no HTTP), so that
 * consumers scale on the backlog apart from web workers, as a KEDA-scaled
 * Deployment would. all: both in one process (a single in-process shop in tests).
 */
export type ShopRole = 'web' | 'consumer' | 'all';

/** What the primary hands each process. */
export interface WorkerSpec {
  config: StackConfig;
  db: DbConnection;
  /** Read replicas of `db` (catalog reads), in order: `replica-1`… Default none. */
  replicas?: DbConnection[];
  /** Default all. */
  role?: ShopRole;
  /** Milliseconds to wait once connected before serving or consuming: podStartup for a process forked while the stack runs, 0 at start. */
  startupDelayMs?: number;
}

/** A line for the operator from a process without an HTTP app (a consumer). */
export type ProcessLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface WorkerHost {
  /** Labels the per-worker series. */
  workerId: string;
  /** pino options, or false (web). */
  logger: FastifyServerOptions['logger'];
  /** Log lines of a consumer process (it has no fastify logger); default none. */
  log?: ProcessLog;
  /** In a cluster, the primary's aggregate of every worker; alone, this worker's own registry is served. */
  clusterMetrics?: () => Promise<{ contentType: string; body: string }>;
  /** In a cluster with embedded backends, the primary's rate-limit counters; alone, this worker counts its own. */
  clusterRateLimit?: RateLimitCounter;
}

/** A running process of either role. */
export interface ShopProcess {
  /** web and all: the port it listens on. */
  port?: number;
  /** This process's own series (the primary aggregates them in a cluster). */
  registry: Registry;
  /** Readiness turns 503, the server stops accepting, in-flight requests and jobs get until the deadline, pools close. */
  drain: (deadlineMs: number) => Promise<void>;
  /** web: every connection open now closes after its next answer (a new worker joined); returns how many. */
  rebalance?: () => number;
}

export interface ShopWorker extends ShopProcess {
  app: FastifyInstance;
  port: number;
  rebalance: () => number;
}

function createQueue(config: StackConfig, db: Db): JobQueue {
  if (config.backends === 'external') return createBullQueue({ url: config.redisUrl!, keyPrefix: config.keyPrefix, concurrency: config.queueConcurrency });
  // The lease outlasts the longest job, so a slow job is not handed to a second consumer while it runs.
  return createPgQueue(db, { concurrency: config.queueConcurrency, leaseMs: Math.max(30_000, 2 * config.jobDuration + 10_000) });
}

function webBackends(config: StackConfig): { cache: Cache; rateLimitRedis?: Redis } {
  if (config.backends === 'external') {
    const url = config.redisUrl!;
    return {
      cache: config.cache ? tracedCache(createRedisCache({ url, keyPrefix: config.keyPrefix, ttlMs: config.cacheTtl }), 'redis') : createNoCache(),
      rateLimitRedis: config.rateLimit > 0 ? fastFailRedis(url) : undefined,
    };
  }
  return { cache: config.cache ? tracedCache(createMemoryCache({ maxEntries: config.cacheSize, ttlMs: config.cacheTtl }), 'memory') : createNoCache() };
}

/**
 * The process's pools: the primary, its read replicas and, with shards, one
 * pool per shard (dbPool connections each), their statements counted by
 * `dbMetrics`; `log` says when a replica stops or starts answering.
 */
function openDbs(spec: WorkerSpec, workerId: string, dbMetrics: DbMetrics, log: ProcessLog): DbTopology {
  const applicationName = `scalectl-${spec.config.dbSchema}-w${workerId}`;
  const base = openTopology({
    primary: spec.db,
    replicas: spec.replicas,
    schema: spec.config.dbSchema,
    poolSize: spec.config.dbPool,
    applicationName,
    hooks: [dbMetrics.hook, traceQuery],
    onRead: dbMetrics.catalogRead,
    onReplicaDown: (pool, err) => log('warn', `read replica ${pool} is unreachable; its catalog reads go to the primary, and it is tried again every few seconds`, { pool, err: String(err) }),
    onReplicaUp: (pool) => log('info', `read replica ${pool} answers again; catalog reads go to it again`, { pool }),
  });
  return withShards(base, openShardPools(spec.config, spec.db, { poolSize: spec.config.dbPool, applicationName, hooks: [dbMetrics.hook, traceQuery] }));
}


/** Consumes order jobs: each runs the order's background work; a job that failed its last attempt marks its order failed. */
function consume(queue: JobQueue, dbs: DbTopology, config: StackConfig, onGiveUp: (orderId: string, err: unknown) => void): void {
  queue.start((orderId) => processOrder(dbs.shardOfId(orderId), orderId, config.jobDuration), async (orderId, err) => {
    // In the order's trace, as its attempts were: the give-up line carries the trace id (none if the row cannot be read).
    const db = dbs.shardOfId(orderId);
    const row = await db.query<{ traceparent: string | null }>('SELECT traceparent FROM orders WHERE id = $1', [orderId]).catch(() => undefined);
    await withSpan('order give up', async () => {
      onGiveUp(orderId, err);
      await failOrder(db, orderId);
    }, { parent: row?.rows[0]?.traceparent ?? undefined, attributes: { 'scalectl.order_id': orderId } });
  });
}

/** The keyPrefix of the BullMQ event queues (external backends, no broker): shop_events_info then names their waiting lists. */
const bullEventsPrefix = (config: StackConfig): string | undefined => (config.broker !== 'rabbitmq' && config.backends === 'external' ? config.keyPrefix : undefined);

/** Starts the three event consumers next to the order consumer (they scale with it); effects go to the catalog primary. */
function consumeEvents(bus: EventBus, db: Db, config: StackConfig, registry: Registry): void {
  startEventConsumers(bus, db, createEventMetrics(registry, bus, undefined, bullEventsPrefix(config)), { emailLatencyMs: config.emailLatency, prefetch: config.queueConcurrency });
}

/** What is left for the trace flush before the primary's kill (the deadline and its grace), less a margin for exiting. */
const flushBudget = (deadlineMs: number, started: number): number => deadlineMs + DRAIN_KILL_GRACE_MS - 500 - (Date.now() - started);

/** Starts a process of the spec's role. */
export function startShopProcess(spec: WorkerSpec, host: WorkerHost): Promise<ShopProcess> {
  return spec.role === 'consumer' ? startOrderConsumer(spec, host) : startShopWorker(spec, host);
}

/** Starts an order consumer: a pool, the queue's consumer and the event consumers, no HTTP server. */
export async function startOrderConsumer(spec: WorkerSpec, host: WorkerHost): Promise<ShopProcess> {
  const config = spec.config;
  const dbMetrics = createDbMetrics();
  const dbs = openDbs(spec, host.workerId, dbMetrics, host.log ?? (() => undefined));
  const db = dbs.primary;
  const queue = createQueue(config, db);
  const metrics = createConsumerMetrics(host.workerId);
  // Statement counts only: the web workers export the replicas' lag.
  dbMetrics.register(metrics.registry);
  const tracing = startTracing(config, { role: 'consumer', workerId: host.workerId, warn: (msg, fields) => host.log?.('warn', msg, fields) });
  try {
    await db.query('SELECT 1');
    await sleep(spec.startupDelayMs ?? 0);
  } catch (err) {
    await queue.close(0);
    await dbs.close();
    await tracing.shutdown();
    throw err;
  }
  consume(queue, dbs, config, (orderId, err) => host.log?.('error', 'order failed its last attempt', { orderId, err: String(err) }));
  const bus = createEventBus(config, db, host.log);
  consumeEvents(bus, db, config, metrics.registry);
  return {
    registry: metrics.registry,
    async drain(deadlineMs) {
      // Together: order jobs and event handlers each get the whole deadline (one after the other, the events got what was left).
      const started = Date.now();
      await Promise.all([queue.close(deadlineMs), bus.close(deadlineMs)]);
      metrics.close();
      await dbs.close();
      await tracing.shutdown(flushBudget(deadlineMs, started));
    },
  };
}

/** Starts a web worker (role web), or a whole shop in one process (role all): pools, outbox relay, reconciler, HTTP server. */
export async function startShopWorker(spec: WorkerSpec, host: WorkerHost): Promise<ShopWorker> {
  const config = spec.config;
  const dbMetrics = createDbMetrics();
  // A line before the app (and its logger) exists goes to the host's log.
  let log: ProcessLog = host.log ?? (() => undefined);
  const dbs = openDbs(spec, host.workerId, dbMetrics, (level, msg, fields) => log(level, msg, fields));
  const db = dbs.primary;
  const { cache, rateLimitRedis } = webBackends(config);
  // A web worker only enqueues (the relay) and asks about jobs (the reconciler, the gauges); consumers run them.
  const queue = createQueue(config, db);
  await Promise.all([cache.connected?.(2_000), rateLimitRedis && redisReady(rateLimitRedis, 2_000)]);
  const queueInfo = { queue: ORDER_QUEUE, backend: config.backends === 'external' ? 'bullmq' as const : 'postgres' as const, waitList: bullWaitList(config.keyPrefix) };
  const metrics = createShopMetrics({ db, pools: dbs.all(), orderDbs: dbs.shards, queue, queueInfo, workerId: host.workerId, role: 'web' });
  dbMetrics.register(metrics.registry, dbs);
  let draining = false;
  const productCount = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM products')).rows[0]!.n);
  // Connected: a worker forked while the stack runs starts up (podStartup) before it takes traffic.
  await sleep(spec.startupDelayMs ?? 0);
  const app = await buildShopApp({
    config, db, dbs, cache, queue, metrics, productCount, rateLimitRedis,
    rateLimitCounter: rateLimitRedis ? undefined : host.clusterRateLimit,
    draining: () => draining,
    metricsText: host.clusterMetrics ?? (async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() })),
    orderPlaced: () => relays.forEach((r) => r.nudge()),
  }, host.logger);
  log = (level, msg, fields) => app.log[level](fields ?? {}, msg);
  const connections = trackConnections(app);
  // One relay and one reconciler per shard (each has its own outbox and orders); the queue is the primary's.
  const relays = dbs.shards.map((shard) => startOutboxRelay(shard, queue, {
    queueInTx: shard === db,
    onError: (err) => app.log.warn({ err: String(err), pool: shard.name }, 'outbox relay: queue unavailable, will retry'),
  }));
  // Orders whose job was lost (a Redis restarted without its data) or given up while the database
  // was down (their order could not be marked failed) go back through the outbox.
  const reconcilers = dbs.shards.map((shard, i) => startOrderReconciler(shard, queue, {
    afterMs: config.requeueAfter,
    queueInTx: shard === db,
    onRequeued: (n) => {
      metrics.requeued.inc(n);
      app.log.warn({ orders: n, afterMs: config.requeueAfter, pool: shard.name }, 'orders without a job in the queue; queued again');
      relays[i]!.nudge();
    },
    onError: (err) => app.log.warn({ err: String(err), pool: shard.name }, 'order reconciler: database or queue unavailable, will retry'),
  }));
  // Checkouts cut off between their reservation and their order (a crash, a shard down) are resolved.
  // Also with one shard: reservations left by a run with more shards are reported (stranded), not ignored.
  const reservations = startReservationReconciler(dbs, {
    afterMs: config.requeueAfter,
    onRound: ({ error, ...r }, strandedChanged) => {
      if (r.committed + r.released > 0) app.log.warn(r, 'abandoned stock reservations resolved');
      if (r.failed > 0) app.log.warn({ ...r, err: String(error) }, 'reservation reconciler: some reservations could not be resolved, will retry');
      if (strandedChanged && r.stranded > 0) {
        app.log.error({ stranded: r.stranded, shards: dbs.shards.length }, 'stock reservations on shards this shop does not have (the shard count was lowered): their stock stays taken until a shop with those shards resolves them');
      }
    },
    onError: (err) => app.log.warn({ err: String(err) }, 'reservation reconciler: a database is unavailable, will retry'),
  });
  // Started once the pools, the cache and the app are up: a worker that failed before does not leave a tracer recording.
  const tracing = startTracing(config, { role: spec.role ?? 'all', workerId: host.workerId, warn: (msg, fields) => app.log.warn(fields ?? {}, msg) });
  if (spec.role !== 'web') consume(queue, dbs, config, (orderId, err) => app.log.error({ orderId, err: String(err) }, 'order failed its last attempt'));
  // Domain events: one relay per write pool, like the order outbox's; consumers next to the order consumer.
  const bus = createEventBus(config, db, (level, msg, fields) => app.log[level](fields ?? {}, msg));
  const pools = writePools(dbs);
  const eventMetrics = createEventMetrics(metrics.registry, bus, pools, bullEventsPrefix(config));
  const eventRelays = pools.map((pool) => startEventsRelay(pool, bus, {
    onPublished: (events) => { for (const e of events) eventMetrics.published.inc({ type: e.type }); },
    // One line per outage (the retries back off to 5 s and would repeat it).
    onError: (err, failures, failed) => {
      if (failures === 1) {
        app.log.warn({ err: maskCredentials(String(err)), pool: pool.name },
          failed === 'broker' ? 'events relay: broker unavailable, events wait in the outbox' : `events relay: database ${pool.name} unavailable, events wait in its outbox`);
      }
    },
  }));
  if (spec.role !== 'web') startEventConsumers(bus, db, eventMetrics, { emailLatencyMs: config.emailLatency, prefetch: config.queueConcurrency });
  await app.listen({ port: config.port, host: config.host });
  const port = (app.server.address() as AddressInfo).port;

  return {
    app,
    port,
    registry: metrics.registry,
    rebalance: () => {
      const n = connections.rebalance();
      app.log.info({ connections: n }, 'rebalance: open connections close after their next answer, so clients reconnect across workers');
      return n;
    },
    async drain(deadlineMs) {
      draining = true;
      const started = Date.now();
      const closed = app.close();
      const late = setTimeout(() => app.server.closeAllConnections(), deadlineMs);
      await closed;
      clearTimeout(late);
      await reservations?.stop();
      await Promise.all(reconcilers.map((r) => r.stop()));
      await Promise.all(relays.map((r) => r.stop()));
      // A relay waiting for the broker's confirms (up to 10 s) is not waited for past the deadline: closing the
      // bus fails its publish, its transaction rolls back, and the events stay in the outbox.
      const left = (): number => Math.max(0, deadlineMs - (Date.now() - started));
      let relaysLate: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(eventRelays.map((r) => r.stop())), new Promise((r) => { relaysLate = setTimeout(r, left()); })]);
      clearTimeout(relaysLate);
      await Promise.all([queue.close(left()), bus.close(left())]);
      await cache.close();
      await rateLimitRedis?.quit().catch(() => rateLimitRedis.disconnect());
      metrics.close();
      await dbs.close();
      await tracing.shutdown(flushBudget(deadlineMs, started));
    },
  };
}
