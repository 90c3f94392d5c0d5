import type { Db } from './db.js';
import { getShard } from './shards.js';

/*
 * Where each of the shop's statements goes. The catalog primary holds
 * products and stock (and everything else while there is one shard); catalog
 * reads may go to read replicas; carts and orders live on the shard of their
 * customer (docs/reference-stack.md#read-replicas, #sharded-carts-and-orders).
 */
export interface DbTopology {
  /** The catalog primary: products, stock, idempotency keys; carts and orders too with one shard. */
  primary: Db;
  /** The pool for one catalog read (product list, product, flash-sale view): a replica in turn when there are any, else the primary. */
  reader: () => Db;
  /** The shard holding this customer's carts and orders; the primary with one shard. */
  shardFor: (customerId: string) => Db;
  /** Every shard, in index order; `[primary]` with one shard. */
  shards: readonly Db[];
  /** The read replicas, in order (none by default). */
  replicas: readonly Db[];
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
    shardFor: () => primary,
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
    shardFor: (customerId) => shards[getShard(customerId, shards.length)]!,
    shards,
    all: () => [...base.all(), ...shards],
    close: async () => {
      await Promise.all([base.close(), ...shards.map((s) => s.close())]);
    },
  };
}
