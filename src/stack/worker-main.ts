import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { clusterRateLimitClient } from './cluster-rate-limit.js';
import { startShopProcess, type ProcessLog, type ShopProcess, type WorkerSpec } from './shop-worker.js';
import { MSG, type PrimaryMessage, type WorkerMessage } from './cluster-messages.js';
import { traceFields } from './tracing.js';

/*
 * The entry point of each cluster worker process (like src/cli.ts for the CLI,
 * this is the one stack file that touches `process`). The primary decides
 * when to stop: a terminal Ctrl-C reaches every process in the group, so
 * workers ignore SIGINT and wait for the primary's shutdown message.
 */

const spec = JSON.parse(process.env.SCALECTL_SHOP_WORKER ?? 'null') as WorkerSpec | null;
if (!spec) {
  process.stderr.write('worker-main: started without SCALECTL_SHOP_WORKER; run the shop (node dist/stack/main.js, or scalectl stack up) instead\n');
  process.exit(2);
}
const workerId = String(cluster.worker?.id ?? process.pid);
const role = spec.role ?? 'all';
/** False when the primary is gone (nothing was sent). */
const send = (m: WorkerMessage): boolean => {
  if (!process.connected || !process.send) return false;
  process.send(m);
  return true;
};

const pendingMetrics = new Map<string, (reply: { contentType: string; body: string }) => void>();
const clusterMetrics = (): Promise<{ contentType: string; body: string }> => new Promise((resolve, reject) => {
  const id = randomUUID();
  const timer = setTimeout(() => {
    pendingMetrics.delete(id);
    reject(new Error('the primary did not answer the metrics request in 5 s'));
  }, 5_000);
  pendingMetrics.set(id, (reply) => {
    clearTimeout(timer);
    resolve(reply);
  });
  send({ type: MSG.metricsRequest, id });
});

// Embedded backends: one rate-limit budget per client across workers, counted by the primary.
const rateLimit = clusterRateLimitClient(send);

let worker: ShopProcess | undefined;
let stopping: Promise<void> | undefined;
let startFailed = false;
const shutdown = (deadlineMs: number): Promise<void> => (stopping ??= (async () => {
  if (startFailed) return;
  try {
    await worker?.drain(deadlineMs);
    process.exit(0);
  } catch (err) {
    process.stderr.write(`worker ${workerId}: drain failed: ${String(err)}\n`);
    process.exit(1);
  }
})());

process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => void shutdown(spec.config.shutdownTimeout));
// The primary is gone (killed): nobody will re-fork or coordinate; drain and leave.
process.on('disconnect', () => {
  rateLimit.disconnected(); // requests waiting for a count go through now, not after the timeout
  void shutdown(spec.config.shutdownTimeout);
});
process.on('message', (m: PrimaryMessage) => {
  if (m?.type === MSG.shutdown) void shutdown(m.deadlineMs);
  if (m?.type === MSG.metricsReply) pendingMetrics.get(m.id)?.(m);
  rateLimit.onMessage(m);
  if (m?.type === MSG.cpuRequest) {
    const used = process.cpuUsage();
    send({ type: MSG.cpuReply, id: m.id, seconds: (used.user + used.system) / 1e6 });
  }
  if (m?.type === MSG.rebalance) worker?.rebalance?.();
  if (m?.type === MSG.metricsCollect && worker) {
    const registry = worker.registry;
    void registry.getMetricsAsJSON().then((metrics) => send({ type: MSG.metricsJson, id: m.id, metrics }));
  }
});

// A consumer has no fastify logger: its lines are written here, in pino's JSON format (with the trace ids of an order's span).
const LEVELS = { info: 30, warn: 40, error: 50 } as const;
const PINO_LEVELS: Record<string, number> = { trace: 10, debug: 20, ...LEVELS, fatal: 60, silent: Infinity };
const log: ProcessLog = (level, msg, fields) => {
  if (LEVELS[level] < (PINO_LEVELS[spec.config.logLevel] ?? 30)) return;
  process.stdout.write(JSON.stringify({ level: LEVELS[level], time: Date.now(), pid: process.pid, worker: workerId, role, msg, ...traceFields(), ...fields }) + '\n');
};

try {
  worker = await startShopProcess(spec, {
    workerId,
    logger: { level: spec.config.logLevel, base: { pid: process.pid, worker: workerId, role } },
    log,
    clusterMetrics,
    clusterRateLimit: rateLimit.counter,
  });
  send({ type: MSG.ready, port: worker.port });
} catch (err) {
  startFailed = true;
  const message = err instanceof Error ? err.message : String(err);
  // Exit once the message is delivered, so the primary can say why.
  const exit = (): never => process.exit(1);
  if (process.connected && process.send) process.send({ type: MSG.failed, message } satisfies WorkerMessage, exit);
  else exit();
  setTimeout(exit, 2_000).unref();
}
