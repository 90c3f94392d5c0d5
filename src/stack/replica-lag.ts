import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from './db.js';

/** How far a replica's replay is behind its primary. */
export interface ReplicaLag {
  /** WAL the primary has written that the replica has not replayed yet. */
  bytes: number;
  /** 0 once replay has reached the primary's WAL position; else the age of the last transaction replayed (undefined before the first). */
  seconds: number | undefined;
}

/**
 * Reads a replica's lag: the primary's WAL position first, then how far the
 * replica has replayed. Seconds come from the replica's clock and the commit
 * time of its last replayed transaction, so a primary idle for a minute that
 * then writes shows up to a minute for the moment it takes to stream: the
 * usual reading of this measure (docs/reference-stack.md#read-replicas).
 * Rejects when either is unreachable, or when `replica` is not a standby.
 */
export async function readReplicaLag(primary: Db, replica: Db): Promise<ReplicaLag> {
  const lsn = (await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
  const row = (await replica.query<{ bytes: number | null; seconds: number | null }>(
    `SELECT greatest(0, pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn()))::float8 AS bytes,
            CASE WHEN pg_last_wal_replay_lsn() >= $1::pg_lsn THEN 0
                 ELSE greatest(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp()))::float8 END AS seconds`, [lsn])).rows[0]!;
  if (row.bytes === null) throw new Error(`${replica.name} is not a streaming replica (pg_last_wal_replay_lsn() is null: not in recovery)`);
  return { bytes: row.bytes, seconds: row.seconds ?? undefined };
}

/**
 * Waits until every replica has replayed what the primary had written when
 * it was called (the migrations and seed), so the first catalog reads find
 * the tables; polls every 50 ms for at most `timeoutMs`. Rejects with one
 * line naming the replica that is unreachable, not a replica, or behind.
 */
export async function waitForReplicas(primary: Db, replicas: readonly Db[], timeoutMs: number, describe: (replica: Db) => string): Promise<void> {
  const target = (await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
  await Promise.all(replicas.map(async (replica) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let problem: string;
      try {
        const r = (await replica.query<{ caught: boolean | null }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught', [target])).rows[0]!;
        if (r.caught) return;
        if (r.caught === null) throw new Error(`${describe(replica)} is not a streaming replica (pg_last_wal_replay_lsn() is null: not in recovery)`);
        problem = `${describe(replica)} has not replayed the primary's WAL up to ${target} in ${timeoutMs} ms (is it a replica of this primary?)`;
      } catch (err) {
        if (err instanceof Error && err.message.includes('not a streaming replica')) throw err;
        problem = `${describe(replica)} is unreachable: ${err instanceof Error ? err.message : String(err)}`;
      }
      if (Date.now() >= deadline) throw new Error(problem);
      await sleep(50);
    }
  }));
}
