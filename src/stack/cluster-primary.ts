import cluster from 'node:cluster';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createClusterMetrics } from './cluster-metrics.js';
import { createClusterRateLimit } from './cluster-rate-limit.js';
import { createDb, type Db, type DbConnection } from './db.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import { migrate, seed } from './migrations.js';
import { superviseEmbeddedPostgres } from './pg-supervisor.js';
import { embeddedConnectionWarning, migrateShards } from './shards.js';
import { waitForReplicas } from './replica-lag.js';
import { startAutoscalers, type AutoscaleHooks } from './autoscale-controller.js';
import { createAutoscaleMetrics } from './autoscale-metrics.js';
import { createBacklogReader, type BacklogReader } from './queue-backlog.js';
import { startOpsServer, type OpsServer } from './ops-server.js';
import { splitUrls, type StackConfig } from './stack-config.js';
import type { WorkerSpec } from './shop-worker.js';
import { WorkerPool, type ProcessRole } from './worker-pool.js';
import { maskCredentials } from '../shared/mask-credentials.js';

/** Lines for the operator: startup, processes forked, ready, retired, crashed and re-forked, scaling decisions, shutdown. */
export type StackLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface RunningStack {
  url: string;
  port: number;
  /** Workers drain (in-flight requests and jobs get `shutdownTimeout`), then PostgreSQL (embedded) stops. */
  stop: () => Promise<void>;
  /** Settles when the stack can no longer serve (embedded PostgreSQL died and could not be restarted); then call `stop`. */
  failed: Promise<Error>;
}

/** Longest the stack waits at start for each read replica to replay the migrations and seed. */
const REPLICA_CATCH_UP_MS = 60_000;

/** Waits until every read replica has what the primary holds now; rejects naming the one that is unreachable, not a replica, or behind. */
async function checkReplicas(config: StackConfig, connection: DbConnection, replicas: DbConnection[]): Promise<void> {
  if (replicas.length === 0) return;
  const open = (c: DbConnection, name: string): Db => createDb({ connection: c, name, schema: config.dbSchema, poolSize: 1, applicationName: 'scalectl-shop-replica-check' });
  const primary = open(connection, 'primary');
  const pools = replicas.map((c, i) => open(c, `replica-${i + 1}`));
  const describe = (db: Db): string => {
    const c = replicas[pools.indexOf(db)]!;
    return `read replica ${db.name} (${typeof c === 'string' ? maskCredentials(c) : 'embedded'})`;
  };
  try {
    await waitForReplicas(primary, pools, REPLICA_CATCH_UP_MS, describe);
  } finally {
    await Promise.all([primary, ...pools].map((db) => db.close()));
  }
}

async function prepareDatabase(config: StackConfig, connection: DbConnection): Promise<void> {
  const db = createDb({ connection, schema: config.dbSchema, poolSize: 2, applicationName: 'scalectl-shop-migrate' });
  try {
    await migrate(db, config.dbSchema);
    await seed(db, { products: config.products, hotProducts: config.hotProducts, hotStock: config.hotStock });
    await migrateShards(config, connection);
  } catch (err) {
    const where = typeof connection === 'string' ? maskCredentials(connection) : 'embedded PostgreSQL';
    throw new Error(`cannot prepare the database at ${where}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await db.close();
  }
}

/**
 * Starts the reference stack: PostgreSQL (embedded) or a check of the
 * external one, migrations and seed (safe when several shops start against
 * one database at once), then the web workers and the order consumers
 * (cluster processes) its `role` runs, and the autoscalers when asked for.
 * Resolves once every web worker listens and every consumer consumes.
 */
export async function startStack(config: StackConfig, log: StackLog): Promise<RunningStack> {
  let pg: EmbeddedPostgres | undefined;
  if (config.backends === 'embedded') {
    const tooMany = embeddedConnectionWarning(config);
    if (tooMany) log('warn', tooMany);
    pg = await startEmbeddedPostgres((line) => { if (/ERROR|FATAL|PANIC/.test(line)) log('warn', `postgres: ${line}`); }, (line) => log('warn', line), { replicas: config.readReplicas });
    log('info', 'embedded PostgreSQL started', { socketDir: pg.connection.host, readReplicas: pg.replicas.length });
  }
  const connection: DbConnection = pg ? pg.connection : config.databaseUrl!;
  const replicas: DbConnection[] = pg ? pg.replicas : splitUrls(config.replicaUrls);
  try {
    await prepareDatabase(config, connection);
    await checkReplicas(config, connection, replicas);
    if (replicas.length) log('info', `catalog reads go to ${replicas.length} read replica${replicas.length === 1 ? '' : 's'} in turn; carts, checkout and orders to the primary`);
    let fail: (err: Error) => void = () => undefined;
    const failed = new Promise<Error>((resolve) => (fail = resolve));
    if (pg) superviseEmbeddedPostgres(pg, { prepare: (c) => prepareDatabase(config, c), log, onFatal: fail });
    return { ...await startWorkers(config, { connection, replicas }, log, pg), failed };
  } catch (err) {
    await pg?.stop();
    throw err;
  }
}

async function startWorkers(config: StackConfig, dbs: { connection: DbConnection; replicas: DbConnection[] }, log: StackLog, pg: EmbeddedPostgres | undefined): Promise<Omit<RunningStack, 'failed'>> {
  const connection = dbs.connection;
  /*
   * Web workers listen on one explicit port, so a worker forked after a crash
   * or a scale-up joins the same one (with port 0 each would otherwise share a
   * socket keyed "0", and a replacement forked after all had died would get a new port).
   */
  const port = config.port === 0 ? await freePort(config.host) : config.port;
  const env = (role: ProcessRole, startupDelayMs: number): Record<string, string> =>
    ({ SCALECTL_SHOP_WORKER: JSON.stringify({ config: { ...config, port }, db: connection, replicas: dbs.replicas, role, startupDelayMs } satisfies WorkerSpec) });
  cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker-main.js', import.meta.url)) });
  const metrics = createClusterMetrics();
  // Embedded backends: the rate limit's counters, one budget per client across workers (external: in Redis).
  const rateLimits = config.backends === 'embedded' && config.rateLimit > 0 ? createClusterRateLimit() : undefined;
  // While every worker is down (and with external backends nothing else runs here), this keeps the primary alive to re-fork.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const pool = new WorkerPool({ config, env, log, metrics, rateLimits });
  let ops: OpsServer | undefined;
  try {
    await pool.start({ web: config.role === 'consumer' ? 0 : config.workers, consumer: config.role === 'web' ? 0 : config.consumers });
  } catch (err) {
    clearInterval(keepAlive);
    throw err;
  }
  // Consumers only: no web worker answers probes and scrapes, so the primary does.
  if (config.role === 'consumer') {
    const endpoints = { metrics: metrics.exposition, contentType: metrics.registry.contentType, readyConsumers: () => pool.replicas('consumer').ready.length };
    ops = await startOpsServer(endpoints, port, config.host).catch(async (err: unknown) => {
      await pool.drainAll();
      clearInterval(keepAlive);
      throw err;
    });
  }
  // Exported with autoscale off too (a run records replicas either way); created once the processes run, as desired starts at their count.
  const scaling = createAutoscaleMetrics(metrics.registry, {
    web: () => counts(pool.replicas('web')),
    consumer: () => counts(pool.replicas('consumer')),
  });
  const backlog = config.autoscale ? createBacklogReader(config, connection, (level, msg) => log(level, msg)) : undefined;
  const autoscalers = backlog ? startAutoscalers(config, autoscaleHooks(pool, backlog), log, scaling) : undefined;
  if (autoscalers) log('info', autoscaleSummary(config));

  let stopped: Promise<void> | undefined;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${port}`,
    port,
    stop: () => (stopped ??= (async () => {
      // The controllers first, so that none forks or retires a process while everything drains.
      await autoscalers?.stop();
      ops?.draining();
      await pool.drainAll();
      await ops?.close();
      await backlog?.close();
      clearInterval(keepAlive);
      rateLimits?.close();
      await pg?.stop();
      log('info', 'stopped');
    })()),
  };
}

const counts = (r: { ready: string[]; starting: number }): { ready: number; starting: number } => ({ ready: r.ready.length, starting: r.starting });

/** What the controllers see of the pool and the queue. */
function autoscaleHooks(pool: WorkerPool, backlog: BacklogReader): AutoscaleHooks {
  return {
    web: { replicas: () => pool.replicas('web'), scaleTo: (n) => pool.scaleTo('web', n), cpuSeconds: () => pool.cpuSeconds() },
    consumer: { replicas: () => pool.replicas('consumer'), scaleTo: (n) => pool.scaleTo('consumer', n), backlog: () => backlog.read() },
  };
}

/** The settings the autoscalers run with, for the log. */
function autoscaleSummary(c: StackConfig): string {
  return `autoscaling: web workers ${c.minWorkers}..${c.maxWorkers} on CPU (target ${c.cpuTarget}% of ${c.cpuRequest}m, sync ${c.hpaSync} ms, `
    + `scale-down window ${c.scaleDownWindow} ms); consumers ${c.minConsumers}..${c.maxConsumers} on the backlog (${c.backlogTarget} per consumer, `
    + `polling ${c.pollingInterval} ms, cooldown ${c.cooldown} ms); podStartup ${c.podStartup} ms`;
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
