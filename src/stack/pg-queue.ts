import type pg from 'pg';
import type { Db } from './db.js';
import { MAX_ATTEMPTS, retryDelayMs, type JobQueue, type QueueCounts } from './job-queue.js';

export interface PgQueueOptions {
  concurrency: number;
  /** How often an idle consumer looks for work; enqueues in the same process wake it at once. */
  pollMs?: number;
  /** A claimed job not finished in this long is handed to another consumer (its worker died). */
  leaseMs?: number;
}

/**
 * The embedded backends' job queue: the `jobs` table, claimed with
 * `FOR UPDATE SKIP LOCKED` so consumers in every worker process share it
 * without blocking each other. (pg-boss would do this, but its current
 * release needs Node 22; this is the part of it we need.)
 */
export function createPgQueue(db: Db, opts: PgQueueOptions): JobQueue {
  const pollMs = opts.pollMs ?? 100;
  const leaseMs = opts.leaseMs ?? 30_000;
  let stopping = false;
  const active = new Map<string, Promise<void>>();
  let wakers: (() => void)[] = [];
  const wake = (): void => {
    const w = wakers;
    wakers = [];
    for (const f of w) f();
  };
  const idle = (): Promise<void> => new Promise((resolve) => {
    const timer = setTimeout(() => resolve(), pollMs);
    wakers.push(() => { clearTimeout(timer); resolve(); });
  });

  const claim = async (): Promise<{ id: string; attempts: number } | undefined> => {
    const r = await db.query<{ id: string; attempts: number }>(
      `UPDATE jobs SET state = 'active', attempts = attempts + 1, locked_until = now() + $1 * interval '1 millisecond'
       WHERE id = (SELECT id FROM jobs WHERE state = 'waiting' AND run_at <= now()
                   ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING id, attempts`, [leaseMs]);
    return r.rows[0];
  };

  let giveUp: (orderId: string, err: unknown) => Promise<void> = async () => undefined;
  const settle = async (job: { id: string; attempts: number }, err: unknown): Promise<void> => {
    if (err === undefined) {
      await db.query('DELETE FROM jobs WHERE id = $1', [job.id]);
      return;
    }
    if (job.attempts >= MAX_ATTEMPTS) await giveUp(job.id, err);
    await db.query(
      `UPDATE jobs SET state = CASE WHEN attempts >= $2 THEN 'failed' ELSE 'waiting' END,
         run_at = now() + $3 * interval '1 millisecond', locked_until = NULL, last_error = $4
       WHERE id = $1`, [job.id, MAX_ATTEMPTS, retryDelayMs(job.attempts), String(err instanceof Error ? err.message : err).slice(0, 500)]);
  };

  const consume = async (handler: (orderId: string) => Promise<void>): Promise<void> => {
    while (!stopping) {
      let job: { id: string; attempts: number } | undefined;
      try {
        job = await claim();
      } catch {
        job = undefined; // database unavailable: wait and try again
      }
      if (!job) {
        await idle();
        continue;
      }
      const claimed = job;
      if (stopping) {
        // Claimed while closing: hand it straight back.
        await db.query(`UPDATE jobs SET state = 'waiting', locked_until = NULL, attempts = greatest(attempts - 1, 0) WHERE id = $1`, [claimed.id]).catch(() => undefined);
        break;
      }
      const done = handler(claimed.id).then(() => undefined, (e: unknown) => e ?? new Error('job failed'))
        .then((err) => settle(claimed, err)).catch(() => undefined) // a lost settle is retried when the lease runs out
        .finally(() => active.delete(claimed.id));
      active.set(claimed.id, done);
      await done;
    }
  };

  // Jobs whose worker died (kill -9) go back to waiting once their lease runs out.
  const reaper = setInterval(() => {
    db.query(`UPDATE jobs SET state = 'waiting', locked_until = NULL WHERE state = 'active' AND locked_until < now()`).catch(() => undefined);
  }, Math.min(leaseMs, 5_000));
  reaper.unref();

  return {
    async enqueue(orderIds, tx) {
      if (orderIds.length === 0) return;
      const sql = `INSERT INTO jobs (id) SELECT unnest($1::uuid[]) ON CONFLICT (id) DO NOTHING`;
      await (tx ? tx.query(sql, [orderIds]) : db.query(sql, [orderIds]));
      // Consumers look again at once (the rows are visible once the caller commits; if not yet, the next poll finds them).
      setImmediate(wake);
    },
    async missingJobs(orderIds, tx) {
      if (orderIds.length === 0) return [];
      const query = <R extends pg.QueryResultRow>(sql: string): Promise<pg.QueryResult<R>> => (tx ? tx.query<R>(sql, [orderIds]) : db.query<R>(sql, [orderIds]));
      await query(`DELETE FROM jobs WHERE id = ANY($1::uuid[]) AND state = 'failed'`);
      const live = new Set((await query<{ id: string }>('SELECT id FROM jobs WHERE id = ANY($1::uuid[])')).rows.map((r) => r.id));
      return orderIds.filter((id) => !live.has(id));
    },
    start(handler, onGiveUp) {
      giveUp = onGiveUp;
      for (let i = 0; i < opts.concurrency; i++) void consume(handler);
    },
    async counts(): Promise<QueueCounts> {
      const r = await db.query<{ waiting: string; active: string; delayed: string; failed: string }>(
        `SELECT count(*) FILTER (WHERE state = 'waiting' AND run_at <= now()) AS waiting,
                count(*) FILTER (WHERE state = 'active') AS active,
                count(*) FILTER (WHERE state = 'waiting' AND run_at > now()) AS delayed,
                count(*) FILTER (WHERE state = 'failed') AS failed
         FROM jobs`);
      const row = r.rows[0]!;
      return { waiting: Number(row.waiting), active: Number(row.active), delayed: Number(row.delayed), failed: Number(row.failed) };
    },
    async close(deadlineMs) {
      stopping = true;
      clearInterval(reaper);
      wake();
      const deadline = new Promise((r) => setTimeout(r, deadlineMs).unref());
      await Promise.race([Promise.all(active.values()), deadline]);
      const unfinished = [...active.keys()];
      if (unfinished.length) {
        await db.query(`UPDATE jobs SET state = 'waiting', locked_until = NULL, attempts = greatest(attempts - 1, 0) WHERE id = ANY($1::uuid[]) AND state = 'active'`, [unfinished])
          .catch(() => undefined);
      }
    },
  };
}
