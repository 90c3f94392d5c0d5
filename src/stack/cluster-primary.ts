import cluster, { type Worker } from 'node:cluster';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createClusterMetrics } from './cluster-metrics.js';
import { createClusterRateLimit } from './cluster-rate-limit.js';
import { createDb, type DbConnection } from './db.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import { migrate, seed } from './migrations.js';
import { superviseEmbeddedPostgres } from './pg-supervisor.js';
import { MSG, type PrimaryMessage, type WorkerMessage } from './cluster-messages.js';
import type { StackConfig } from './stack-config.js';
import type { WorkerSpec } from './shop-worker.js';
import { maskCredentials } from '../mask-credentials.js';

/** Lines for the operator: startup, worker crashes and re-forks, shutdown. */
export type StackLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface RunningStack {
  url: string;
  port: number;
  /** Workers drain (in-flight requests and jobs get `shutdownTimeout`), then PostgreSQL (embedded) stops. */
  stop: () => Promise<void>;
  /** Settles when the stack can no longer serve (embedded PostgreSQL died and could not be restarted); then call `stop`. */
  failed: Promise<Error>;
}

/** A worker that lived this long counts as healthy again: its crash does not grow the backoff. */
const STABLE_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;

/** Re-fork delay after `recent` crashes in a row: 250 ms doubling, at most 30 s, so a crash loop cannot spin. */
export function reforkDelayMs(recent: number): number {
  return Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.max(0, recent - 1));
}

async function prepareDatabase(config: StackConfig, connection: DbConnection): Promise<void> {
  const db = createDb({ connection, schema: config.dbSchema, poolSize: 2, applicationName: 'scalectl-shop-migrate' });
  try {
    await migrate(db, config.dbSchema);
    await seed(db, { products: config.products, hotProducts: config.hotProducts, hotStock: config.hotStock });
  } catch (err) {
    const where = typeof connection === 'string' ? maskCredentials(connection) : 'embedded PostgreSQL';
    throw new Error(`cannot prepare the database at ${where}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await db.close();
  }
}

/**
 * Starts the reference stack: PostgreSQL (embedded) or a check of the
 * external one, migrations and seed, then N cluster workers. Resolves once
 * every worker listens.
 */
export async function startStack(config: StackConfig, log: StackLog): Promise<RunningStack> {
  let pg: EmbeddedPostgres | undefined;
  if (config.backends === 'embedded') {
    pg = await startEmbeddedPostgres((line) => { if (/ERROR|FATAL|PANIC/.test(line)) log('warn', `postgres: ${line}`); }, (line) => log('warn', line));
    log('info', 'embedded PostgreSQL started', { socketDir: pg.connection.host });
  }
  const connection: DbConnection = pg ? pg.connection : config.databaseUrl!;
  try {
    await prepareDatabase(config, connection);
    let fail: (err: Error) => void = () => undefined;
    const failed = new Promise<Error>((resolve) => (fail = resolve));
    if (pg) superviseEmbeddedPostgres(pg, { prepare: (c) => prepareDatabase(config, c), log, onFatal: fail });
    return { ...await startWorkers(config, connection, log, pg), failed };
  } catch (err) {
    await pg?.stop();
    throw err;
  }
}

async function startWorkers(config: StackConfig, connection: DbConnection, log: StackLog, pg: EmbeddedPostgres | undefined): Promise<Omit<RunningStack, 'failed'>> {
  const workerEnv = (port: number) => ({ SCALECTL_SHOP_WORKER: JSON.stringify({ config: { ...config, port }, db: connection } satisfies WorkerSpec) });
  /*
   * Workers listen on one explicit port, so a worker forked after a crash
   * joins the same one (with port 0 each would otherwise share a socket keyed
   * "0", and a replacement forked after all had died would get a new port).
   */
  const port = config.port === 0 ? await freePort(config.host) : config.port;
  const env = workerEnv(port);
  cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker-main.js', import.meta.url)) });
  const metrics = createClusterMetrics();
  // Embedded backends: the rate limit's counters, one budget per client across workers (external: in Redis).
  const rateLimits = config.backends === 'embedded' && config.rateLimit > 0 ? createClusterRateLimit() : undefined;
  // While every worker is down (and with external backends nothing else runs here), this keeps the primary alive to re-fork.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let stopping = false;
  let recentCrashes = 0;

  const fork = (): Worker => {
    const w = cluster.fork(env);
    const bornAt = Date.now();
    // A send to a worker that has just died fails with EPIPE; its 'exit' handles the death.
    w.on('error', () => undefined);
    metrics.attach(w);
    rateLimits?.attach(w);
    w.on('message', (m: WorkerMessage) => {
      if (m?.type === MSG.ready) metrics.ready(w);
    });
    w.once('exit', (code, signal) => {
      metrics.gone(w);
      if (stopping) return;
      recentCrashes = Date.now() - bornAt > STABLE_MS ? 1 : recentCrashes + 1;
      const delay = reforkDelayMs(recentCrashes);
      log('warn', `worker ${w.id} exited (${signal ?? `code ${code}`}); starting a new one in ${delay} ms`, { worker: w.id, code, signal, delayMs: delay });
      setTimeout(() => {
        if (stopping) return;
        metrics.restarted();
        fork();
      }, delay);
    });
    return w;
  };

  // Startup: every worker must come up once; a worker that dies now is a configuration problem, not a crash to retry.
  stopping = true;
  const first = Array.from({ length: config.workers }, fork);
  // Any worker exiting before all are ready fails the start, even one that was ready already.
  const startupExits: (() => void)[] = [];
  await Promise.all(first.map((w) => new Promise<void>((resolve, reject) => {
    let reason = '';
    const onExit = (code: number | null): void => reject(new Error(reason ? `a worker could not start: ${reason}` : `worker ${w.id} exited with code ${code} while starting`));
    w.once('exit', onExit);
    startupExits.push(() => w.off('exit', onExit));
    w.on('message', (m: WorkerMessage) => {
      if (m?.type === MSG.failed) reason = m.message;
      if (m?.type === MSG.ready) resolve();
    });
  }))).finally(() => startupExits.forEach((off) => off())).catch(async (err: unknown) => {
    clearInterval(keepAlive);
    for (const w of first) if (!w.isDead()) w.process.kill('SIGKILL');
    throw err;
  });
  stopping = false;

  let stopped: Promise<void> | undefined;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${port}`,
    port,
    stop: () => (stopped ??= (async () => {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w) && !w!.isDead());
      log('info', `draining ${workers.length} worker${workers.length === 1 ? '' : 's'} (up to ${config.shutdownTimeout} ms)`);
      await Promise.all(workers.map((w) => drainWorker(w, config.shutdownTimeout, log)));
      clearInterval(keepAlive);
      rateLimits?.close();
      await pg?.stop();
      log('info', 'stopped');
    })()),
  };
}

/** A port free on `host` right now (the OS picks it). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Asks a worker to drain; kills it if it has not exited a little after the deadline. */
function drainWorker(w: Worker, deadlineMs: number, log: StackLog): Promise<void> {
  return new Promise<void>((resolve) => {
    const kill = setTimeout(() => {
      log('warn', `worker ${w.id} did not finish draining in time; killing it`);
      w.process.kill('SIGKILL');
    }, deadlineMs + 3_000);
    w.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    const msg: PrimaryMessage = { type: MSG.shutdown, deadlineMs };
    if (w.isConnected()) w.send(msg);
    else w.process.kill('SIGTERM');
  });
}
