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

/** Longest a scrape waits for the lag readings (each connection has its own, shorter, timeout too). */
const LAG_READ_MS = 1_500;

/**
 * Replica lag, read at scrape time over the topology's lag probes. A replica
 * left out of the rotation, or whose reading fails or takes over LAG_READ_MS,
 * loses its series in this worker until a reading succeeds: a dead replica
 * must not keep showing its last lag (0) and pass a threshold. The same in
 * every worker: `max` counts it once.
 */
function registerLag(registry: Registry, dbs: DbTopology): void {
  const registers = [registry];
  const seconds = new Gauge({
    name: SHOP_SERIES.replicaLagSeconds, help: 'How far each read replica\'s replay is behind the primary, in seconds (0 once it has replayed the primary\'s WAL position); absent while the replica cannot be read.',
    labelNames: ['replica'] as const, registers, aggregator: 'max', collect: () => refresh(),
  });
  const bytes = new Gauge({
    name: SHOP_SERIES.replicaLagBytes, help: 'WAL the primary has written that each read replica has not replayed yet, in bytes; absent while the replica cannot be read.',
    labelNames: ['replica'] as const, registers, aggregator: 'max', collect: () => refresh(),
  });
  let pending: Promise<void> | undefined;
  let readAt = -Infinity;
  const probes = dbs.lagProbes ?? { primary: dbs.primary, replicas: dbs.replicas };
  const readOne = async (i: number): Promise<void> => {
    const replica = dbs.replicas[i]!;
    const labels = { replica: replica.name };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), LAG_READ_MS)));
    const lag = dbs.isReplicaDown?.(replica) ? undefined
      : await Promise.race([readReplicaLag(probes.primary, probes.replicas[i]!).catch(() => undefined), timeout]);
    clearTimeout(timer);
    if (!lag) {
      bytes.remove(labels);
      seconds.remove(labels);
      return;
    }
    bytes.set(labels, lag.bytes);
    if (lag.seconds !== undefined) seconds.set(labels, lag.seconds);
  };
  const read = async (): Promise<void> => {
    await Promise.all(dbs.replicas.map((_, i) => readOne(i)));
    readAt = Date.now();
  };
  const refresh = (): Promise<void> => {
    if (Date.now() - readAt < LAG_READ_REUSE_MS) return Promise.resolve();
    return (pending ??= read().finally(() => (pending = undefined)));
  };
}
