import { createHash, randomUUID } from 'node:crypto';
import { createDb, type Db, type DbConnection, type QueryHook } from './db.js';
import { migrate, SHARD_MIGRATIONS } from './migrations.js';
import type { StackConfig } from './stack-config.js';
import { splitUrls } from './stack-config.js';

/*
 * Carts and orders live on `shards` databases (docs/reference-stack.md#sharded-carts-and-orders).
 * A customer's shard is a stable hash of its id; an id the shop mints (cart,
 * order) carries its shard in its last 16 bits, so a lookup by id goes
 * straight to one shard instead of asking them all. Both depend on the shard
 * count: changing it strands existing carts and orders (no resharding).
 */

/**
 * The shard of a customer, as the design's `get_shard(user_id)`: the first 4
 * bytes of SHA-256 of the id (UTF-8), read as a big-endian unsigned integer,
 * modulo the shard count. Stable across processes, releases and languages
 * (`('x' || substr(encode(sha256(convert_to(id, 'UTF8')), 'hex'), 1, 8))::bit(32)::bigint % n` in SQL).
 */
export function getShard(customerId: string, n: number): number {
  if (n <= 1) return 0;
  return createHash('sha256').update(customerId, 'utf8').digest().readUInt32BE(0) % n;
}

/** The shard an id minted by `mintId` lives on: its last 16 bits modulo the shard count. */
export function shardOfId(id: string, n: number): number {
  if (n <= 1) return 0;
  return parseInt(id.slice(-4), 16) % n;
}

/** A random (v4) UUID whose last 16 bits, modulo `n`, are `shard`: 112 random bits are left, the variant and version bits untouched. */
export function mintId(shard: number, n: number): string {
  const id = randomUUID();
  if (n <= 1) return id;
  const low = parseInt(id.slice(-4), 16);
  let tagged = low - (low % n) + shard;
  if (tagged > 0xffff) tagged -= n;
  return id.slice(0, -4) + tagged.toString(16).padStart(4, '0');
}

/** The schema of shard `i`: `<dbSchema>_shard_<i>` (on its own URL or on the primary's database). */
export function shardSchema(dbSchema: string, i: number): string {
  return `${dbSchema}_shard_${i}`;
}

/** Where shard `i` lives: its URL in shardUrls, else the primary's connection (embedded: the same server). */
function shardConnection(config: StackConfig, primary: DbConnection, i: number): DbConnection {
  const urls = splitUrls(config.shardUrls);
  return urls[i] ?? primary;
}

/** Opens one pool per shard (named `shard-<i>`, `poolSize` connections each); none with one shard (the primary is the shard). */
export function openShardPools(config: StackConfig, primary: DbConnection, opts: { poolSize: number; applicationName?: string; hooks?: readonly QueryHook[] }): Db[] {
  if (config.shards <= 1) return [];
  return Array.from({ length: config.shards }, (_, i) => createDb({
    connection: shardConnection(config, primary, i), schema: shardSchema(config.dbSchema, i), name: `shard-${i}`,
    poolSize: opts.poolSize, applicationName: opts.applicationName, hooks: opts.hooks,
  }));
}

/** Creates or migrates every shard's schema (run with the primary's migrations: at start, and after the supervisor re-creates the database). */
export async function migrateShards(config: StackConfig, primary: DbConnection): Promise<void> {
  const pools = openShardPools(config, primary, { poolSize: 1, applicationName: 'scalectl-shop-migrate' });
  try {
    for (const [i, db] of pools.entries()) await migrate(db, shardSchema(config.dbSchema, i), SHARD_MIGRATIONS);
  } finally {
    await Promise.all(pools.map((db) => db.close()));
  }
}

/** The embedded PostgreSQL's `max_connections` (pg-server.ts starts it with this). */
const EMBEDDED_MAX_CONNECTIONS = 300;

/**
 * Embedded: a warning when the shop's processes may open more connections to
 * its one PostgreSQL than it allows, each `dbPool` to the primary and to each
 * shard (schemas of that same server). Undefined when they fit.
 */
export function embeddedConnectionWarning(config: StackConfig): string | undefined {
  if (config.backends !== 'embedded') return undefined;
  const processes = config.autoscale ? config.maxWorkers + config.maxConsumers : config.workers + config.consumers;
  const pools = 1 + (config.shards > 1 ? config.shards : 0);
  const wanted = processes * config.dbPool * pools;
  if (wanted <= EMBEDDED_MAX_CONNECTIONS) return undefined;
  return `embedded PostgreSQL allows ${EMBEDDED_MAX_CONNECTIONS} connections, but ${processes} processes × dbPool ${config.dbPool} × ${pools} pools (primary + shards) may open ${wanted}: lower dbPool, the process counts or shards, or requests will fail with "too many clients"`;
}
