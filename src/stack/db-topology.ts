import type pg from 'pg';
import { createDb, isDbUnavailable, isPoolTimeout, isQueryTimeout, type Db, type DbConnection, type QueryHook } from './db.js';
import { shardOfId } from './shards.js';

/*
 * Where each of the shop's statements goes. The catalog primary holds
 * products and stock (and everything else while there is one shard); catalog
 * reads may go to read replicas; carts and orders live on the shard of their
 * customer (docs/reference-stack.md#read-replicas, #sharded-carts-and-orders).
 */
export interface DbTopology {
  /** The catalog primary: products, stock, idempotency keys; carts and orders too with one shard. */
  primary: Db;
  /**
   * The pool for one catalog read (product list, product, flash-sale view): a
   * replica in turn when there are any, else the primary. A statement the
   * replica fails is answered by the primary instead (openTopology).
   */
  reader: () => Db;
  /** The shard holding a cart or order the shop minted, by its id (shards.ts); the primary with one shard. */
  shardOfId: (id: string) => Db;
  /** Every shard, in index order; `[primary]` with one shard. */
  shards: readonly Db[];
  /** The read replicas, in order (none by default). */
  replicas: readonly Db[];
  /**
   * One-connection pools for reading the replicas' lag (replica-lag.ts), apart from the
   * traffic's so a reading does not queue behind catalog reads; with replicas only.
   */
  lagProbes?: { primary: Db; replicas: readonly Db[] };
  /** True while this replica is left out of the rotation (unreachable, or too slow to answer). */
  isReplicaDown?: (replica: Db) => boolean;
  /** Every distinct pool: the primary, the replicas, the shards that are not the primary. */
  all: () => Db[];
  /** Closes every pool. */
  close: () => Promise<void>;
}

/** The topology of a shop on one database: every statement goes to `primary`. */
export function singleDbTopology(primary: Db): DbTopology {
  return {
    primary,
    reader: () => primary,
    shardOfId: () => primary,
    shards: [primary],
    replicas: [],
    all: () => [primary],
    close: () => primary.close(),
  };
}

/**
 * `base` with carts and orders on `shards` (pools named `shard-<i>`): a
 * customer's shard is `getShard` of its id. With no shards given, `base` as it is.
 */
export function withShards(base: DbTopology, shards: readonly Db[]): DbTopology {
  if (shards.length === 0) return base;
  return {
    ...base,
    shardOfId: (id) => shards[shardOfId(id, shards.length)]!,
    shards,
    all: () => [...base.all(), ...shards],
    close: async () => {
      await Promise.all([base.close(), ...shards.map((s) => s.close())]);
    },
  };
}

/** How long a replica that could not be reached is left out of the rotation before a read tries it again. */
export const REPLICA_RETRY_MS = 5_000;

/**
 * Longest a catalog read waits for a replica (a pool connection, then the answer) before the
 * primary answers it and the replica leaves the rotation: a frozen or partitioned replica must
 * not hold reads (its server-side statement_timeout never fires).
 */
export const REPLICA_TIMEOUT_MS = 2_000;

/** The same for a lag reading's connections: a scrape must not wait on a frozen server. */
const LAG_PROBE_TIMEOUT_MS = 1_000;

export interface TopologyOptions {
  primary: DbConnection;
  /** Read replicas, named `replica-1`, `replica-2`… in this order. */
  replicas?: readonly DbConnection[];
  schema: string;
  /** Connections of each pool. */
  poolSize: number;
  /** application_name of the primary's connections (pg_stat_activity); a replica's adds `-replica-N`. */
  applicationName: string;
  /** Around every statement of every pool. */
  hooks?: readonly QueryHook[];
  /** A catalog read was answered by this pool (the primary when the replica failed it). */
  onRead?: (pool: string) => void;
  /** A replica could not be reached: it is left out for REPLICA_RETRY_MS (said once until it answers again). */
  onReplicaDown?: (pool: string, err: unknown) => void;
  /** A replica that was down answered a read again. */
  onReplicaUp?: (pool: string) => void;
  now?: () => number;
}

/** The pools of a shop: the primary and its read replicas, with catalog reads routed as DbTopology.reader says. */
export function openTopology(opts: TopologyOptions): DbTopology {
  const open = (connection: DbConnection, name: string, applicationName: string, poolSize = opts.poolSize, timeoutMs?: number): Db =>
    createDb({ connection, name, schema: opts.schema, poolSize, hooks: opts.hooks, applicationName, timeoutMs });
  const primary = open(opts.primary, 'primary', opts.applicationName);
  const replicaName = (i: number): string => `replica-${i + 1}`;
  const replicas = (opts.replicas ?? []).map((c, i) => open(c, replicaName(i), `${opts.applicationName}-${replicaName(i)}`, opts.poolSize, REPLICA_TIMEOUT_MS));
  const lagProbes = replicas.length === 0 ? undefined : {
    primary: open(opts.primary, 'primary', `${opts.applicationName}-lag`, 1, LAG_PROBE_TIMEOUT_MS),
    replicas: (opts.replicas ?? []).map((c, i) => open(c, replicaName(i), `${opts.applicationName}-${replicaName(i)}-lag`, 1, LAG_PROBE_TIMEOUT_MS)),
  };
  const now = opts.now ?? Date.now;
  const downUntil = new Map<Db, number>();
  let turn = 0;
  /** The next replica in turn that is not left out, or none. */
  const pick = (): Db | undefined => {
    for (let tried = 0; tried < replicas.length; tried++) {
      const replica = replicas[turn++ % replicas.length]!;
      if ((downUntil.get(replica) ?? 0) <= now()) return replica;
    }
    return undefined;
  };
  const served = <T>(db: Db, result: T): T => {
    opts.onRead?.(db.name);
    return result;
  };
  const readFrom = async <R extends pg.QueryResultRow>(replica: Db | undefined, text: string, values?: unknown[]): Promise<pg.QueryResult<R>> => {
    if (replica) {
      try {
        const result = await replica.query<R>(text, values);
        if (downUntil.delete(replica)) opts.onReplicaUp?.(replica.name);
        return served(replica, result);
      } catch (err) {
        // Unreachable or silent (REPLICA_TIMEOUT_MS): left out for a while. Any other failure (a query
        // cancelled by replay, a schema not replayed yet) costs only this read: the primary answers it either way.
        if (isDbUnavailable(err) || isPoolTimeout(err) || isQueryTimeout(err)) {
          if (!downUntil.has(replica)) opts.onReplicaDown?.(replica.name, err);
          downUntil.set(replica, now() + REPLICA_RETRY_MS);
        }
      }
    }
    return served(primary, await primary.query<R>(text, values));
  };
  return {
    primary,
    reader: () => {
      const replica = pick();
      // Only `query` reads; anything else (a transaction) is a write and goes to the primary.
      return { ...primary, name: (replica ?? primary).name, query: (text, values) => readFrom(replica, text, values), close: async () => undefined };
    },
    shardOfId: () => primary,
    shards: [primary],
    replicas,
    lagProbes,
    isReplicaDown: (replica) => (downUntil.get(replica) ?? 0) > now(),
    all: () => [primary, ...replicas],
    close: async () => {
      await Promise.all([primary, ...replicas, ...(lagProbes ? [lagProbes.primary, ...lagProbes.replicas] : [])].map((db) => db.close()));
    },
  };
}
