import type { EmbeddedPostgres } from './embedded-postgres.js';

/** A second death this soon after the first stops the stack instead: something keeps killing the server. */
export const RESTART_WINDOW_MS = 60_000;

export interface SupervisorOptions {
  /** Migrations and seed on the fresh database, reached at `connection`. */
  prepare: (connection: EmbeddedPostgres['connection']) => Promise<void>;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** The server is gone for good: the stack must stop (exit 7). */
  onFatal: (err: Error) => void;
  now?: () => number;
}

/**
 * Keeps embedded PostgreSQL up after the stack has started: when the server
 * exits unexpectedly (killed, crashed), a fresh one is started on the same
 * socket with a new, seeded database. Its data was throwaway, so nothing is
 * recovered; the workers' pools reconnect by themselves. Meanwhile the API
 * answers 503. If the restart fails, or the server dies again within
 * `RESTART_WINDOW_MS`, `onFatal` is called.
 */
export function superviseEmbeddedPostgres(pg: EmbeddedPostgres, opts: SupervisorOptions): void {
  const now = opts.now ?? Date.now;
  let lastDeath = -Infinity;
  pg.onUnexpectedExit((why) => {
    const at = now();
    if (at - lastDeath < RESTART_WINDOW_MS) {
      const msg = `embedded PostgreSQL exited unexpectedly (${why}) again, ${Math.round((at - lastDeath) / 1000)} s after the last time; not restarting it`;
      opts.log('error', `${msg}; stopping the stack`);
      opts.onFatal(new Error(msg));
      return;
    }
    lastDeath = at;
    opts.log('error', `embedded PostgreSQL exited unexpectedly (${why}); starting a fresh database with the seed data (the old data is lost: orders, carts, stock sold). Until it is up, the API answers 503`);
    pg.restart(opts.prepare).then(
      () => opts.log('info', 'embedded PostgreSQL is up again with a fresh database (migrations and seed data applied)', { socketDir: pg.connection.host }),
      (err: unknown) => {
        const msg = `embedded PostgreSQL exited unexpectedly (${why}) and could not be restarted: ${err instanceof Error ? err.message : String(err)}`;
        opts.log('error', `${msg}; stopping the stack`);
        opts.onFatal(new Error(msg));
      },
    );
  });
}
