import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from './db.js';

/** How far a replica's replay is behind its primary. */
export interface ReplicaLag {
  /** WAL the primary has written that the replica has not replayed yet. */
  bytes: number;
  /** 0 once replay has reached the primary's WAL position; else the age of the last transaction replayed (undefined before the first). */
  seconds: number | undefined;
}

const notAReplica = (name: string): Error => new Error(`${name} is not a streaming replica (pg_last_wal_replay_lsn() is null: not in recovery)`);

/**
 * Reads a replica's lag: the primary's WAL position, then how far the
 * replica has replayed. The replica's connection is taken first, so the two
 * readings are one round trip apart (read later, the replica would have
 * replayed more: lag underestimated). Bytes: the primary's flushed WAL (what
 * it can send) not replayed yet. Seconds: 0 while the replica streams and has
 * replayed everything it received (WAL still on its way shows in bytes only;
 * a receiver that stopped, or a role that may not see it, does not count), else
 * the age of its last replayed commit by its own clock. Without that first
 * rule a sparse write would read as the whole gap since the commit before
 * it (docs/reference-stack.md#read-replicas).
 * Rejects when either is unreachable, or when `replica` is not a standby.
 */
export async function readReplicaLag(primary: Db, replica: Db): Promise<ReplicaLag> {
  // A read-only transaction is allowed on a standby; it only holds the connection (clock_timestamp: now() is BEGIN's time).
  const row = await replica.transaction(async (client) => {
    const lsn = (await primary.query<{ lsn: string }>('SELECT pg_current_wal_flush_lsn()::text AS lsn')).rows[0]!.lsn;
    return (await client.query<{ bytes: number | null; seconds: number | null }>(
      `SELECT greatest(0, pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn()))::float8 AS bytes,
              CASE WHEN pg_last_wal_replay_lsn() >= $1::pg_lsn
                     OR (pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn()
                         AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')) THEN 0
                   ELSE greatest(0, extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()))::float8 END AS seconds`, [lsn])).rows[0]!;
  });
  if (row.bytes === null) throw notAReplica(replica.name);
  return { bytes: row.bytes, seconds: row.seconds ?? undefined };
}

/** The cluster's system identifier (pg_control_system()): a standby has its primary's. */
async function systemId(db: Db): Promise<string> {
  return (await db.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0]!.id;
}

/**
 * Waits until every replica has replayed what the primary had written when
 * it was called (the migrations and seed), so the first catalog reads find
 * the tables; polls every 50 ms for at most `timeoutMs`. Rejects with one
 * line naming the replica that is unreachable, not a replica, a replica of
 * another primary (its system identifier differs), or behind; the other
 * replicas' polls stop then.
 */
export async function waitForReplicas(primary: Db, replicas: readonly Db[], timeoutMs: number, describe: (replica: Db) => string): Promise<void> {
  const target = (await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
  const primaryId = await systemId(primary);
  let failed = false;
  const wait = async (replica: Db): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let checked = false;
    while (!failed) {
      let problem: string;
      try {
        if (!checked) {
          const id = await systemId(replica);
          if (id !== primaryId) throw new Error(`${describe(replica)} is not a replica of this primary (its system identifier is ${id}, the primary's ${primaryId})`);
          checked = true;
        }
        const r = (await replica.query<{ caught: boolean | null }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught', [target])).rows[0]!;
        if (r.caught) return;
        if (r.caught === null) throw notAReplica(describe(replica));
        problem = `${describe(replica)} has not replayed the primary's WAL up to ${target} in ${timeoutMs} ms`;
      } catch (err) {
        if (err instanceof Error && /is not a (streaming )?replica/.test(err.message)) throw err;
        problem = `${describe(replica)} is unreachable: ${err instanceof Error ? err.message : String(err)}`;
      }
      if (Date.now() >= deadline) throw new Error(problem);
      await sleep(50);
    }
  };
  await Promise.all(replicas.map((replica) => wait(replica).catch((err: unknown) => {
    failed = true;
    throw err;
  })));
}
