import pg from 'pg';

/** Connection settings: a URL (external) or socket settings (embedded). */
export type DbConnection = string | { host: string; port: number; user: string; database: string };

/** How many pool connections are busy, idle and how many requests wait for one. */
export interface PoolStats { inUse: number; idle: number; waiting: number }

/**
 * The shop's PostgreSQL access: a pool whose sessions use the shop's schema.
 * Small on purpose; the SQL lives next to the code that needs it.
 */
export interface Db {
  /** The pool's name: `primary`, `replica-1`, `shard-0` (metrics and spans label statements with it). */
  name: string;
  query: <R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;
  /** Runs fn in one transaction (READ COMMITTED); rolls back when it throws. */
  transaction: <T>(fn: (client: pg.PoolClient) => Promise<T>) => Promise<T>;
  stats: () => PoolStats;
  close: () => Promise<void>;
}

/** Longest a request waits for a pool connection; then it gets 503 (the shop is overloaded, not broken). */
export const POOL_WAIT_MS = 10_000;

/** True for pg's client-side query timeout (DbOptions.queryTimeoutMs): the server did not answer in time. */
export function isQueryTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === 'Query read timeout';
}

/** True for pg-pool's "no connection free in time" error. */
export function isPoolTimeout(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('timeout exceeded when trying to connect');
}

/*
 * Errors that mean "no database right now" rather than a bug: the server is
 * down (refused, its socket gone), was stopped or crashed under an open
 * connection (57P01 admin_shutdown, also sent on postmaster death; 57P02
 * crash_shutdown), is starting or stopping (57P03 cannot_connect_now), or
 * the connection broke (class 08).
 */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', '57P01', '57P02', '57P03']);
const UNAVAILABLE_MESSAGES = ['Connection terminated', 'Client has encountered a connection error', 'Client was closed'];

/** True when the database is unreachable or went away (answer 503, not 500). */
export function isDbUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  return UNAVAILABLE_MESSAGES.some((m) => err.message.startsWith(m));
}

/**
 * Runs around every statement a pool sends, its own and its transactions'
 * (not BEGIN/COMMIT/ROLLBACK): metrics count them, traces wrap them in a
 * span. Hooks nest in order, the first outermost; `run` sends the statement.
 */
export type QueryHook = <T>(info: { pool: string; text: string }, run: () => Promise<T>) => Promise<T>;

export interface DbOptions {
  connection: DbConnection;
  /** The pool's name (Db.name). Default `primary`. */
  name?: string;
  /** Around every statement (QueryHook). */
  hooks?: readonly QueryHook[];
  schema: string;
  poolSize: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
  /**
   * Longest a statement waits for the server's answer, client-side (isQueryTimeout), and
   * for a pool connection; TCP keepalive on. Unset: none, and POOL_WAIT_MS. For a server
   * that may freeze (a replica), where statement_timeout, enforced by the server, never fires.
   */
  timeoutMs?: number;
}

export function createDb(opts: DbOptions): Db {
  const base = typeof opts.connection === 'string' ? { connectionString: opts.connection } : opts.connection;
  const pool = new pg.Pool({
    ...base,
    max: opts.poolSize,
    // A stuck database must fail requests, not hang them.
    connectionTimeoutMillis: opts.timeoutMs ?? POOL_WAIT_MS,
    ...(opts.timeoutMs ? { query_timeout: opts.timeoutMs, keepAlive: true, keepAliveInitialDelayMillis: opts.timeoutMs } : {}),
    statement_timeout: 10_000,
    idle_in_transaction_session_timeout: 30_000,
    application_name: opts.applicationName ?? 'scalectl-shop',
    options: `-c search_path=${opts.schema}`,
  });
  // An idle client losing its connection (a server restart) must not crash the worker.
  pool.on('error', () => undefined);
  const name = opts.name ?? 'primary';
  const hooks = opts.hooks ?? [];
  const around = <T>(text: string, run: () => Promise<T>): Promise<T> =>
    hooks.reduceRight<() => Promise<T>>((next, hook) => () => hook({ pool: name, text }, next), run)();
  /** The client a transaction's function gets: with hooks, one whose statements pass through them. */
  const hooked = (client: pg.PoolClient): pg.PoolClient => {
    if (hooks.length === 0) return client;
    const view = Object.create(client) as pg.PoolClient;
    (view as { query: unknown }).query = (text: string, values?: unknown[]) => around(text, () => client.query(text, values));
    return view;
  };
  return {
    name,
    query: (text, values) => (hooks.length === 0 ? pool.query(text, values) : around(text, () => pool.query(text, values))),
    async transaction(fn) {
      const client = await pool.connect();
      let broken = false;
      // A connection lost mid-transaction emits 'error' on the checked-out client, which the pool
      // no longer listens to; unheard, it would crash the worker. The failing query rejects anyway.
      const onError = (): void => {
        broken = true;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(hooked(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        throw err;
      } finally {
        // A connection that could not roll back is discarded, not reused.
        client.off('error', onError);
        client.release(broken);
      }
    },
    stats: () => ({ inUse: pool.totalCount - pool.idleCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => pool.end(),
  };
}
