import { Counter, Gauge, type Registry } from 'prom-client';
import type { QueryHook } from './db.js';
import type { DbTopology } from './db-topology.js';
import { SHOP_SERIES } from './protocol.js';
import { readReplicaLag } from './replica-lag.js';

/**
 * The database series of one process: statements per pool, catalog reads per
 * pool that served them, and each replica's lag. The counters exist before
 * the pools (a pool takes `hook` when it is made) and join a registry later.
 */
export interface DbMetrics {
  /** Counts every statement of the pools it is a hook of, by role and pool. */
  hook: QueryHook;
  /** A catalog read answered by `pool` (DbTopology's onRead). */
  catalogRead: (pool: string) => void;
  /** Puts the series in `registry`; with `dbs`, its pools' series start at 0 and its replicas' lag is read at scrape time. */
  register: (registry: Registry, dbs?: DbTopology) => void;
}

/** `primary`, `replica` or `shard`: a pool's name without its number (`replica-2` → `replica`). */
export function poolRole(pool: string): string {
  return pool.replace(/-\d+$/, '');
}

/** A scrape reads both lag gauges: one reading serves both within this time. */
const LAG_READ_REUSE_MS = 250;

export function createDbMetrics(): DbMetrics {
  const queries = new Counter({
    name: SHOP_SERIES.dbQueries, help: 'Statements sent to PostgreSQL, by the database\'s role (primary, replica, shard) and pool.',
    labelNames: ['role', 'pool'] as const, registers: [],
  });
  const reads = new Counter({
    name: SHOP_SERIES.catalogReads, help: 'Catalog reads (product list, product, flash-sale view) by the pool that answered them (primary when a replica failed).',
    labelNames: ['pool'] as const, registers: [],
  });
  return {
    hook: (info, run) => {
      queries.inc({ role: poolRole(info.pool), pool: info.pool });
      return run();
    },
    catalogRead: (pool) => reads.inc({ pool }),
    register: (registry, dbs) => {
      registry.registerMetric(queries);
      registry.registerMetric(reads);
      if (!dbs) return;
      for (const db of dbs.all()) queries.inc({ role: poolRole(db.name), pool: db.name }, 0);
      for (const db of [dbs.primary, ...dbs.replicas]) reads.inc({ pool: db.name }, 0);
      if (dbs.replicas.length > 0) registerLag(registry, dbs);
    },
  };
}

/** Replica lag, read at scrape time; a failed read keeps the last value. The same in every worker: `max` counts it once. */
function registerLag(registry: Registry, dbs: DbTopology): void {
  const registers = [registry];
  const seconds = new Gauge({
    name: SHOP_SERIES.replicaLagSeconds, help: 'How far each read replica\'s replay is behind the primary, in seconds (0 once it has replayed the primary\'s WAL position).',
    labelNames: ['replica'] as const, registers, aggregator: 'max', collect: () => refresh(),
  });
  const bytes = new Gauge({
    name: SHOP_SERIES.replicaLagBytes, help: 'WAL the primary has written that each read replica has not replayed yet, in bytes.',
    labelNames: ['replica'] as const, registers, aggregator: 'max', collect: () => refresh(),
  });
  let pending: Promise<void> | undefined;
  let readAt = -Infinity;
  const read = async (): Promise<void> => {
    await Promise.all(dbs.replicas.map(async (replica) => {
      const lag = await readReplicaLag(dbs.primary, replica).catch(() => undefined);
      if (!lag) return;
      bytes.set({ replica: replica.name }, lag.bytes);
      if (lag.seconds !== undefined) seconds.set({ replica: replica.name }, lag.seconds);
    }));
    readAt = Date.now();
  };
  const refresh = (): Promise<void> => {
    if (Date.now() - readAt < LAG_READ_REUSE_MS) return Promise.resolve();
    return (pending ??= read().finally(() => (pending = undefined)));
  };
}
