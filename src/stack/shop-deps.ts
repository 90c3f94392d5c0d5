import type { Redis } from 'ioredis';
import type { Cache } from './cache.js';
import type { Db } from './db.js';
import type { DbTopology } from './db-topology.js';
import type { JobQueue } from './job-queue.js';
import type { RateLimitCounter } from './rate-limit.js';
import type { ShopMetrics } from './shop-metrics.js';
import type { StackConfig } from './stack-config.js';

/** Everything the HTTP app needs, built by the worker (or by a test). */
export interface ShopDeps {
  config: StackConfig;
  /** The catalog primary (dbs.primary). */
  db: Db;
  /** Where each statement goes: replicas for catalog reads, shards for carts and orders. */
  dbs: DbTopology;
  cache: Cache;
  queue: JobQueue;
  metrics: ShopMetrics;
  /** True once the worker is draining: readiness answers 503. */
  draining: () => boolean;
  /** The Prometheus exposition of the whole stack (the primary aggregates workers'). */
  metricsText: () => Promise<{ contentType: string; body: string }>;
  /** A checkout committed: the outbox relay should look now. */
  orderPlaced: () => void;
  /** external: the Redis that holds rate-limit counters, shared by all workers. */
  rateLimitRedis?: Redis;
  /** embedded, in a cluster: the primary counts rate-limited requests for all workers. */
  rateLimitCounter?: RateLimitCounter;
  /** Catalog size, read once at start (the seed never changes it). */
  productCount: number;
}
