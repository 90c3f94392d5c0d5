import { monitorEventLoopDelay } from 'node:perf_hooks';
import { cpuUsage } from 'node:process';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from './db.js';
import type { JobQueue } from './job-queue.js';
import { countOverdueOrders } from './order-processing.js';
import { SHOP_SERIES } from './protocol.js';

/**
 * The shop's Prometheus series (docs/reference-stack.md lists them). Each
 * worker keeps its own; the primary sums them across workers, except the
 * database-wide gauges (queue, orders, stock), which every worker reads from
 * the same database and which are aggregated with `max` so they count once.
 */
export interface ShopMetrics {
  registry: Registry;
  requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  inFlight: Gauge;
  cacheRequests: Counter<'result'>;
  checkouts: Counter<'result'>;
  /** Orders without a job this worker's reconciler put back in the outbox. */
  requeued: Counter;
  /** Accepted checkouts by the shard their order went to: a hot shard stands out. */
  shardCheckouts: Counter<'shard'>;
  /** Stops the event-loop monitor. */
  close: () => void;
}

/** Which queue the stack runs, for `shop_queue_info`. */
export interface QueueInfo {
  /** The queue's name, `orders`. */
  queue: string;
  /** bullmq: external backends; postgres: the embedded queue. */
  backend: 'bullmq' | 'postgres';
  /** The BullMQ waiting list for this keyPrefix, on either backend (`shop:bull:orders:wait`). */
  waitList: string;
}

export interface ShopMetricsSources {
  db: Db;
  /** Every pool of the process (DbTopology.all(): primary, replicas, shards), for shop_db_pool_connections; default `[db]`. */
  pools?: readonly Db[];
  /** Where orders live: the shards (default `[db]`); order gauges sum over them. */
  orderDbs?: readonly Db[];
  queue: JobQueue;
  queueInfo: QueueInfo;
  /** Cluster worker id, a label of the per-worker series. */
  workerId: string;
  /** The process's role, the other label of the per-worker series. */
  role: MetricsRole;
}

/** `role` label of the per-process series: web workers, and order consumers (their own processes). */
export type MetricsRole = 'web' | 'consumer';

export function createShopMetrics(src: ShopMetricsSources): ShopMetrics {
  const registry = new Registry();
  const registers = [registry];
  const requestDuration = new Histogram({
    name: 'shop_http_request_duration_seconds', help: 'HTTP request duration by route and status.',
    labelNames: ['method', 'route', 'status_code'] as const, registers,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  const inFlight = new Gauge({ name: 'shop_http_requests_in_flight', help: 'API requests being served now.', registers });
  const cacheRequests = new Counter({
    name: SHOP_SERIES.cacheRequests, help: 'Product cache lookups: hit, miss, or error (cache unreachable; served from PostgreSQL).',
    labelNames: ['result'] as const, registers,
  });
  for (const result of ['hit', 'miss', 'error']) cacheRequests.inc({ result }, 0);
  const checkouts = new Counter({
    name: 'shop_checkouts_total', help: 'Checkout answers: accepted, sold_out, replayed, conflict (key reused with another body), rejected.',
    labelNames: ['result'] as const, registers,
  });
  for (const result of ['accepted', 'sold_out', 'replayed', 'conflict', 'rejected']) checkouts.inc({ result }, 0);
  const orderDbs = src.orderDbs ?? [src.db];
  const shardCheckouts = new Counter({
    name: 'shop_shard_checkouts_total', help: 'Accepted checkouts by the shard (0-based index) their order was placed on.',
    labelNames: ['shard'] as const, registers,
  });
  // Only with shards: one shard is no sharding, and a lone series at share 1 would read as a hot shard.
  if (orderDbs.length > 1) for (const shard of orderDbs.keys()) shardCheckouts.inc({ shard: String(shard) }, 0);
  /** A count summed over every shard; undefined when one could not be read (the gauge keeps its last value). */
  const sumOverShards = async (sql: string): Promise<number | undefined> => {
    const r = await Promise.all(orderDbs.map((d) => d.query<{ n: string }>(sql))).catch(() => undefined);
    return r?.reduce((sum, x) => sum + Number(x.rows[0]!.n), 0);
  };

  // Registered first: collected before the gauges below take connections for their queries.
  new Gauge({
    name: 'shop_db_pool_connections', help: 'PostgreSQL pool connections by pool (primary, replica-N, shard-N): in_use, idle, and requests waiting for one.',
    labelNames: ['state', 'pool'] as const, registers,
    collect() {
      for (const db of src.pools ?? [src.db]) {
        const s = db.stats();
        this.set({ state: 'in_use', pool: db.name }, s.inUse);
        this.set({ state: 'idle', pool: db.name }, s.idle);
        this.set({ state: 'waiting', pool: db.name }, s.waiting);
      }
    },
  });
  // Database-wide state, read at scrape time; a failed read keeps the last values.
  new Gauge({
    name: SHOP_SERIES.queueJobs, help: 'Order jobs by state.', labelNames: ['state'] as const, registers, aggregator: 'max',
    async collect() {
      const c = await src.queue.counts().catch(() => undefined);
      if (c) for (const [state, n] of Object.entries(c)) this.set({ state }, n);
    },
  });
  // Constant, the same in every worker: max keeps it at 1 in the primary's aggregate.
  // The wait list lets scalectl capacity name KEDA's listName instead of guessing it.
  const info = new Gauge({
    name: SHOP_SERIES.queueInfo, help: 'The order queue: its backend and the BullMQ waiting list for this keyPrefix (always 1).',
    labelNames: ['queue', 'backend', 'wait_list'] as const, registers, aggregator: 'max',
  });
  info.set({ queue: src.queueInfo.queue, backend: src.queueInfo.backend, wait_list: src.queueInfo.waitList }, 1);
  new Gauge({
    name: SHOP_SERIES.orders, help: 'Orders by status.', labelNames: ['status'] as const, registers, aggregator: 'max',
    async collect() {
      const r = await Promise.all(orderDbs.map((d) => d.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM orders GROUP BY status'))).catch(() => undefined);
      if (!r) return;
      const seen = new Map<string, number>();
      for (const row of r.flatMap((x) => x.rows)) seen.set(row.status, (seen.get(row.status) ?? 0) + Number(row.n));
      for (const status of ['accepted', 'processing', 'done', 'failed']) this.set({ status }, seen.get(status) ?? 0);
    },
  });
  new Gauge({
    name: 'shop_orders_overdue', help: 'Unfinished orders the reconciler found without a job in the queue, requeueAfter after checkout (queued again, not done yet).', registers, aggregator: 'max',
    async collect() {
      const n = await Promise.all(orderDbs.map((d) => countOverdueOrders(d))).then((ns) => ns.reduce((a, b) => a + b, 0), () => undefined);
      if (n !== undefined) this.set(n);
    },
  });
  // Sharded checkouts between their steps, abandoned ones until the reconciler resolves them, and stranded ones
  // (on a shard the shop no longer has: a shard index at or above the shard count) until someone does.
  new Gauge({
    name: 'shop_reservations_open', help: 'Stock reservations of sharded checkouts still reserved, by the shard (0-based index) they name.',
    labelNames: ['shard'] as const, registers, aggregator: 'max',
    async collect() {
      const r = await src.db.query<{ shard: number; n: string }>(`SELECT shard, count(*) AS n FROM reservations WHERE state = 'reserved' GROUP BY shard`).catch(() => undefined);
      if (!r) return;
      this.reset();
      for (const shard of orderDbs.keys()) this.set({ shard: String(shard) }, 0);
      for (const row of r.rows) this.set({ shard: String(row.shard) }, Number(row.n));
    },
  });
  const requeued = new Counter({ name: 'shop_orders_requeued_total', help: 'Orders found without a job in the queue and put back on it (through the outbox).', registers });
  new Gauge({
    name: SHOP_SERIES.outboxPending, help: 'Accepted orders not yet handed to the job queue.', registers, aggregator: 'max',
    async collect() {
      const n = await sumOverShards('SELECT count(*) AS n FROM outbox');
      if (n !== undefined) this.set(n);
    },
  });
  new Gauge({
    name: 'shop_hot_product_stock', help: 'Units left of each flash-sale product.', labelNames: ['product_id'] as const, registers, aggregator: 'max',
    async collect() {
      const r = await src.db.query<{ id: number; stock: number }>('SELECT id, stock FROM products WHERE hot ORDER BY id').catch(() => undefined);
      if (r) for (const row of r.rows) this.set({ product_id: String(row.id) }, row.stock);
    },
  });

  const close = registerProcessMetrics(registry, src.workerId, src.role);
  return { registry, requestDuration, inFlight, cacheRequests, checkouts, requeued, shardCheckouts, close };
}

/**
 * An order consumer's series: only its process health (CPU, event-loop lag).
 * The queue and order gauges come from the web workers, which read the same
 * database; the primary merges both kinds of registry.
 */
export function createConsumerMetrics(workerId: string): { registry: Registry; close: () => void } {
  const registry = new Registry();
  return { registry, close: registerProcessMetrics(registry, workerId, 'consumer') };
}

/**
 * Per-process health, labelled by worker and role so the primary's sum keeps
 * them apart. Returns what stops the event-loop monitor.
 */
function registerProcessMetrics(registry: Registry, worker: string, role: MetricsRole): () => void {
  const registers = [registry];
  let lastCpu = cpuUsage();
  let cpuSeconds = 0;
  new Counter({
    name: SHOP_SERIES.workerCpuSeconds, help: 'CPU time (user + system) used by each worker process.', labelNames: ['worker', 'role'] as const, registers,
    collect() {
      const now = cpuUsage();
      cpuSeconds += (now.user - lastCpu.user + now.system - lastCpu.system) / 1e6;
      lastCpu = now;
      this.reset();
      this.inc({ worker, role }, cpuSeconds);
    },
  });
  // Node records the time between samples, the sampling interval included; the lag is what exceeds it.
  const RESOLUTION_MS = 10;
  const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  loop.enable();
  const lagSeconds = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS) / 1000;
  new Gauge({
    name: SHOP_SERIES.workerEventLoopLag, help: 'Event-loop delay of each worker since the last scrape (p99 and max).', labelNames: ['worker', 'role', 'quantile'] as const, registers,
    collect() {
      this.set({ worker, role, quantile: '0.99' }, lagSeconds(loop.percentile(99)));
      this.set({ worker, role, quantile: '1' }, lagSeconds(loop.max));
      loop.reset();
    },
  });
  return () => loop.disable();
}
