import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { createDb, type DbConnection } from './db.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import { migrate, seed } from './migrations.js';
import { MSG, type PrimaryMessage, type WorkerMessage } from './cluster-messages.js';
import type { StackConfig } from './stack-config.js';
import type { WorkerSpec } from './shop-worker.js';

/** Lines for the operator: startup, worker crashes and re-forks, shutdown. */
export type StackLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface RunningStack {
  url: string;
  port: number;
  /** Workers drain (in-flight requests and jobs get `shutdownTimeout`), then PostgreSQL (embedded) stops. */
  stop: () => Promise<void>;
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
    const where = typeof connection === 'string' ? connection.replace(/\/\/[^@/]*@/, '//***@') : 'embedded PostgreSQL';
    throw new Error(`cannot prepare the database at ${where}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await db.close();
  }
}

function primaryMetrics(): { registry: Registry; alive: Gauge; restarts: Counter } {
  const registry = new Registry();
  const alive = new Gauge({ name: 'shop_workers', help: 'Worker processes serving requests.', registers: [registry] });
  const restarts = new Counter({ name: 'shop_worker_restarts_total', help: 'Workers re-forked after an unexpected exit.', registers: [registry] });
  return { registry, alive, restarts };
}

/**
 * Starts the reference stack: PostgreSQL (embedded) or a check of the
 * external one, migrations and seed, then N cluster workers. Resolves once
 * every worker listens.
 */
export async function startStack(config: StackConfig, log: StackLog): Promise<RunningStack> {
  let pg: EmbeddedPostgres | undefined;
  if (config.backends === 'embedded') {
    pg = await startEmbeddedPostgres((line) => { if (/ERROR|FATAL|PANIC/.test(line)) log('warn', `postgres: ${line}`); });
    log('info', 'embedded PostgreSQL started', { socketDir: pg.connection.host });
  }
  const connection: DbConnection = pg ? pg.connection : config.databaseUrl!;
  try {
    await prepareDatabase(config, connection);
    return await startWorkers(config, connection, log, pg);
  } catch (err) {
    await pg?.stop();
    throw err;
  }
}

async function startWorkers(config: StackConfig, connection: DbConnection, log: StackLog, pg: EmbeddedPostgres | undefined): Promise<RunningStack> {
  const spec: WorkerSpec = { config, db: connection };
  const env = { SCALECTL_SHOP_WORKER: JSON.stringify(spec) };
  cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker-main.js', import.meta.url)) });
  const aggregator = new AggregatorRegistry();
  const own = primaryMetrics();
  let stopping = false;
  let recentCrashes = 0;
  const bornAt = new Map<Worker, number>();

  const fork = (): Worker => {
    const w = cluster.fork(env);
    bornAt.set(w, Date.now());
    w.on('message', (m: WorkerMessage) => {
      if (m?.type !== MSG.metricsRequest) return;
      void (async () => {
        const body = (await aggregator.clusterMetrics().catch(() => '')) + (await own.registry.metrics());
        const reply: PrimaryMessage = { type: MSG.metricsReply, id: m.id, contentType: aggregator.contentType, body };
        if (w.isConnected()) w.send(reply);
      })();
    });
    return w;
  };

  // Startup: every worker must come up once; a worker that dies now is a configuration problem, not a crash to retry.
  const first = Array.from({ length: config.workers }, fork);
  const ports = await Promise.all(first.map((w) => new Promise<number>((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`worker ${w.id} exited with code ${code} while starting (see its error above)`));
    w.once('exit', onExit);
    w.on('message', (m: WorkerMessage) => {
      if (m?.type === MSG.ready) {
        w.off('exit', onExit);
        resolve(m.port);
      }
    });
  }))).catch(async (err: unknown) => {
    stopping = true;
    for (const w of first) if (!w.isDead()) w.process.kill('SIGKILL');
    throw err;
  });
  own.alive.set(config.workers);
  const port = ports[0]!;

  cluster.on('exit', (w, code, signal) => {
    own.alive.set(Object.values(cluster.workers ?? {}).filter((x) => x && !x.isDead()).length);
    if (stopping) return;
    const lived = Date.now() - (bornAt.get(w) ?? 0);
    bornAt.delete(w);
    recentCrashes = lived > STABLE_MS ? 1 : recentCrashes + 1;
    const delay = reforkDelayMs(recentCrashes);
    log('warn', `worker ${w.id} exited (${signal ?? `code ${code}`}); starting a new one in ${delay} ms`, { worker: w.id, code, signal, delayMs: delay });
    setTimeout(() => {
      if (stopping) return;
      own.restarts.inc();
      const nw = fork();
      nw.on('message', (m: WorkerMessage) => {
        if (m?.type === MSG.ready) own.alive.set(Object.values(cluster.workers ?? {}).filter((x) => x && !x.isDead()).length);
      });
    }, delay).unref();
  });

  let stopped: Promise<void> | undefined;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${port}`,
    port,
    stop: () => (stopped ??= (async () => {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w) && !w!.isDead());
      log('info', `draining ${workers.length} worker${workers.length === 1 ? '' : 's'} (up to ${config.shutdownTimeout} ms)`);
      await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        const kill = setTimeout(() => {
          log('warn', `worker ${w.id} did not finish draining in time; killing it`);
          w.process.kill('SIGKILL');
        }, config.shutdownTimeout + 3_000);
        w.once('exit', () => clearTimeout(kill));
        const msg: PrimaryMessage = { type: MSG.shutdown, deadlineMs: config.shutdownTimeout };
        if (w.isConnected()) w.send(msg);
        else w.process.kill('SIGTERM');
      })));
      cluster.removeAllListeners('exit');
      await pg?.stop();
      log('info', 'stopped');
    })()),
  };
}
