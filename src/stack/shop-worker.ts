import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { bullWaitList, createBullQueue, ORDER_QUEUE } from './bullmq-queue.js';
import { createMemoryCache, createNoCache, createRedisCache, fastFailRedis, redisReady, type Cache } from './cache.js';
import { createDb, type DbConnection } from './db.js';
import type { JobQueue } from './job-queue.js';
import { failOrder, processOrder, startOrderReconciler, startOutboxRelay } from './order-processing.js';
import { createPgQueue } from './pg-queue.js';
import type { RateLimitCounter } from './rate-limit.js';
import { buildShopApp } from './shop-app.js';
import { createShopMetrics } from './shop-metrics.js';
import type { StackConfig } from './stack-config.js';

/** What the primary hands each worker. */
export interface WorkerSpec {
  config: StackConfig;
  db: DbConnection;
}

export interface WorkerHost {
  /** Labels the per-worker series. */
  workerId: string;
  /** pino options, or false. */
  logger: FastifyServerOptions['logger'];
  /** In a cluster, the primary's aggregate of every worker; alone, this worker's own registry is served. */
  clusterMetrics?: () => Promise<{ contentType: string; body: string }>;
  /** In a cluster with embedded backends, the primary's rate-limit counters; alone, this worker counts its own. */
  clusterRateLimit?: RateLimitCounter;
}

export interface ShopWorker {
  app: FastifyInstance;
  port: number;
  /** This worker's own series (the primary aggregates them in a cluster). */
  registry: Registry;
  /** Readiness turns 503, the server stops accepting, in-flight requests and jobs get until the deadline, pools close. */
  drain: (deadlineMs: number) => Promise<void>;
}

function backends(spec: WorkerSpec, db: ReturnType<typeof createDb>): { cache: Cache; queue: JobQueue; rateLimitRedis?: Redis } {
  const c = spec.config;
  if (c.backends === 'external') {
    const url = c.redisUrl!;
    return {
      cache: c.cache ? createRedisCache({ url, keyPrefix: c.keyPrefix, ttlMs: c.cacheTtl }) : createNoCache(),
      queue: createBullQueue({ url, keyPrefix: c.keyPrefix, concurrency: c.queueConcurrency }),
      rateLimitRedis: c.rateLimit > 0 ? fastFailRedis(url) : undefined,
    };
  }
  return {
    cache: c.cache ? createMemoryCache({ maxEntries: c.cacheSize, ttlMs: c.cacheTtl }) : createNoCache(),
    // The lease outlasts the longest job, so a slow job is not handed to a second consumer while it runs.
    queue: createPgQueue(db, { concurrency: c.queueConcurrency, leaseMs: Math.max(30_000, 2 * c.jobDuration + 10_000) }),
  };
}

/** Starts one shop worker: pools, queue consumer, outbox relay and the HTTP server. */
export async function startShopWorker(spec: WorkerSpec, host: WorkerHost): Promise<ShopWorker> {
  const config = spec.config;
  const db = createDb({ connection: spec.db, schema: config.dbSchema, poolSize: config.dbPool, applicationName: `scalectl-${config.dbSchema}-w${host.workerId}` });
  const { cache, queue, rateLimitRedis } = backends(spec, db);
  await Promise.all([cache.connected?.(2_000), rateLimitRedis && redisReady(rateLimitRedis, 2_000)]);
  const queueInfo = { queue: ORDER_QUEUE, backend: config.backends === 'external' ? 'bullmq' as const : 'postgres' as const, waitList: bullWaitList(config.keyPrefix) };
  const metrics = createShopMetrics({ db, queue, queueInfo, workerId: host.workerId });
  let draining = false;
  const productCount = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM products')).rows[0]!.n);
  const app = await buildShopApp({
    config, db, cache, queue, metrics, productCount, rateLimitRedis,
    rateLimitCounter: rateLimitRedis ? undefined : host.clusterRateLimit,
    draining: () => draining,
    metricsText: host.clusterMetrics ?? (async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() })),
    orderPlaced: () => relay.nudge(),
  }, host.logger);
  const relay = startOutboxRelay(db, queue, { onError: (err) => app.log.warn({ err: String(err) }, 'outbox relay: queue unavailable, will retry') });
  // Orders whose job was lost (a Redis restarted without its data) or given up while the database
  // was down (their order could not be marked failed) go back through the outbox.
  const reconciler = startOrderReconciler(db, queue, {
    afterMs: config.requeueAfter,
    onRequeued: (n) => {
      metrics.requeued.inc(n);
      app.log.warn({ orders: n, afterMs: config.requeueAfter }, 'orders without a job in the queue; queued again');
      relay.nudge();
    },
    onError: (err) => app.log.warn({ err: String(err) }, 'order reconciler: database or queue unavailable, will retry'),
  });
  queue.start((orderId) => processOrder(db, orderId, config.jobDuration), async (orderId, err) => {
    app.log.error({ orderId, err: String(err) }, 'order failed its last attempt');
    await failOrder(db, orderId);
  });
  await app.listen({ port: config.port, host: config.host });
  const port = (app.server.address() as AddressInfo).port;

  return {
    app,
    port,
    registry: metrics.registry,
    async drain(deadlineMs) {
      draining = true;
      const started = Date.now();
      const closed = app.close();
      const late = setTimeout(() => app.server.closeAllConnections(), deadlineMs);
      await closed;
      clearTimeout(late);
      await reconciler.stop();
      await relay.stop();
      await queue.close(Math.max(0, deadlineMs - (Date.now() - started)));
      await cache.close();
      await rateLimitRedis?.quit().catch(() => rateLimitRedis.disconnect());
      metrics.close();
      await db.close();
    },
  };
}
