import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import type { ClusterMetrics } from './cluster-metrics.js';
import { DRAIN_KILL_GRACE_MS, MSG, type PrimaryMessage, type WorkerMessage } from './cluster-messages.js';
import type { StackLog } from './cluster-primary.js';
import { hasProcStat, procCpuSeconds } from './proc-cpu.js';
import type { StackConfig } from './stack-config.js';

/** The two kinds of process the primary forks: web workers (HTTP) and order consumers. */
export type ProcessRole = 'web' | 'consumer';

/** A process that lived this long counts as healthy again: its crash does not grow the backoff. */
const STABLE_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;
/** Without /proc: a web worker that has not told its CPU time in this long is left out of that sample. */
const CPU_ANSWER_MS = 500;

/** Re-fork delay after `recent` crashes in a row: 250 ms doubling, at most 30 s, so a crash loop cannot spin. */
export function reforkDelayMs(recent: number): number {
  return Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.max(0, recent - 1));
}

interface Member {
  worker: Worker;
  role: ProcessRole;
  /** starting: forked, not serving yet (podStartup included); retiring: draining, no longer counted. */
  state: 'starting' | 'ready' | 'retiring';
  bornAt: number;
}

export interface WorkerPoolOptions {
  config: StackConfig;
  /** The environment of a new process: its role, and how long it waits before serving (podStartup, or 0 at start). */
  env: (role: ProcessRole, startupDelayMs: number) => Record<string, string>;
  log: StackLog;
  metrics: ClusterMetrics;
  /** Web workers' rate-limit counters (embedded backends). */
  rateLimits?: { attach: (w: Worker) => void };
}

/** The primary's processes by role: forks, re-forks after a crash, scaling, draining. */
export class WorkerPool {
  private readonly members = new Map<number, Member>();
  /** Re-forks waiting out their backoff, by role: they count as starting. */
  private readonly reforks: Record<ProcessRole, Set<NodeJS.Timeout>> = { web: new Set(), consumer: new Set() };
  /** Retiring processes' drains, by worker id. */
  private readonly drains = new Map<number, Promise<void>>();
  private readonly cpuWaiting = new Map<string, (seconds: number) => void>();
  /** Read once: CPU time comes from /proc where there is one (Linux), else over IPC. */
  private procStat: Promise<boolean> | undefined;
  private phase: 'starting' | 'running' | 'stopping' = 'starting';
  private recentCrashes = 0;

  constructor(private readonly opts: WorkerPoolOptions) {}

  /** Forks the initial processes (no podStartup) and resolves when every one is ready; rejects, killing them, when one exits first. */
  async start(counts: Record<ProcessRole, number>): Promise<void> {
    await startAll(counts, (role, delayMs) => this.fork(role, delayMs));
    this.phase = 'running';
  }

  /** Ready process ids, and how many are starting (forked or waiting to be re-forked after a crash, not ready yet). */
  replicas(role: ProcessRole): { ready: string[]; starting: number } {
    const live = this.ofRole(role);
    return { ready: live.filter((m) => m.state === 'ready').map((m) => String(m.worker.id)), starting: live.filter((m) => m.state === 'starting').length + this.reforks[role].size };
  }

  /** Forks (starting until ready, after podStartup) or retires (drains) processes until the role has n. */
  scaleTo(role: ProcessRole, n: number): void {
    if (this.phase !== 'running') return;
    const live = this.ofRole(role);
    const current = live.length + this.reforks[role].size;
    for (let i = current; i < n; i++) this.fork(role, this.opts.config.podStartup);
    let excess = current - n;
    // Least useful first: a pending re-fork, then the newest starting process, then the newest ready one.
    for (const timer of [...this.reforks[role]]) {
      if (excess <= 0) break;
      clearTimeout(timer);
      this.reforks[role].delete(timer);
      excess--;
    }
    const newestFirst = (a: Member, b: Member): number => b.worker.id - a.worker.id;
    const order = [...live.filter((m) => m.state === 'starting').sort(newestFirst), ...live.filter((m) => m.state === 'ready').sort(newestFirst)];
    for (const m of order.slice(0, Math.max(0, excess))) this.retire(m);
  }

  /**
   * Cumulative CPU seconds of each ready web worker, by id. Read from
   * /proc/<pid>/stat by the primary, so a worker too busy to answer is
   * measured all the same, and all samples are of one instant; without
   * /proc, asked over IPC (one that does not answer in 500 ms is left out).
   */
  async cpuSeconds(): Promise<Map<string, number>> {
    const ready = this.ofRole('web').filter((m) => m.state === 'ready');
    const fromProc = await (this.procStat ??= hasProcStat());
    const read = (w: Worker): Promise<number | undefined> => (fromProc && w.process.pid !== undefined ? procCpuSeconds(w.process.pid) : this.cpuOf(w));
    const answers = await Promise.all(ready.map(async (m) => [String(m.worker.id), await read(m.worker)] as const));
    return new Map(answers.filter((a): a is readonly [string, number] => a[1] !== undefined));
  }

  /** No more forks; every process drains (`shutdownTimeout`) or is killed a little after it. */
  async drainAll(): Promise<void> {
    this.phase = 'stopping';
    for (const set of Object.values(this.reforks)) for (const timer of set) clearTimeout(timer);
    const live = [...this.members.values()].filter((m) => m.state !== 'retiring' && !m.worker.isDead());
    this.opts.log('info', `draining ${live.length} process${live.length === 1 ? '' : 'es'} (up to ${this.opts.config.shutdownTimeout} ms)`);
    const deadline = this.opts.config.shutdownTimeout;
    await Promise.all([...live.map((m) => drainWorker(m.worker, deadline, this.opts.log, m.state === 'starting')), ...this.drains.values()]);
  }

  private ofRole(role: ProcessRole): Member[] {
    return [...this.members.values()].filter((m) => m.role === role && m.state !== 'retiring');
  }

  private fork(role: ProcessRole, startupDelayMs: number): Member {
    const w = cluster.fork(this.opts.env(role, startupDelayMs));
    const m: Member = { worker: w, role, state: 'starting', bornAt: Date.now() };
    this.members.set(w.id, m);
    // A send to a worker that has just died fails with EPIPE; its 'exit' handles the death.
    w.on('error', () => undefined);
    this.opts.metrics.attach(w);
    if (role === 'web') this.opts.rateLimits?.attach(w);
    w.on('message', (msg: WorkerMessage) => {
      if (msg?.type === MSG.ready && m.state === 'starting') this.becameReady(m);
      if (msg?.type === MSG.cpuReply) this.cpuWaiting.get(msg.id)?.(msg.seconds);
    });
    w.once('exit', (code, signal) => {
      this.members.delete(w.id);
      this.opts.metrics.gone(w);
      if (m.state === 'retiring') this.opts.log('info', `${nameOf(m)} retired (${signal ?? `code ${code}`})`, { worker: w.id, role });
      else if (this.phase === 'running') this.crashed(m, code, signal);
    });
    if (this.phase === 'running') {
      const waits = startupDelayMs ? `; takes ${role === 'web' ? 'traffic' : 'jobs'} ${startupDelayMs} ms after it connects (podStartup)` : '';
      this.opts.log('info', `${nameOf(m)} forked (starting${waits})`, { worker: w.id, role });
    }
    return m;
  }

  private becameReady(m: Member): void {
    m.state = 'ready';
    this.opts.metrics.ready(m.worker, m.role);
    if (this.phase !== 'running') return;
    this.opts.log('info', `${nameOf(m)} ready`, { worker: m.worker.id, role: m.role });
    if (m.role !== 'web') return;
    // Keep-alive clients stay on the workers they know; make them reconnect so the new one gets its share (connection-rebalance.ts).
    const others = this.ofRole('web').filter((o) => o.state === 'ready' && o !== m);
    for (const o of others) send(o.worker, { type: MSG.rebalance });
    if (others.length) {
      this.opts.log('info', `rebalancing: ${others.length} other web worker${others.length === 1 ? '' : 's'} close each open connection after its next answer`, { workers: others.map((o) => o.worker.id) });
    }
  }

  private crashed(m: Member, code: number | null, signal: string | null): void {
    this.recentCrashes = Date.now() - m.bornAt > STABLE_MS ? 1 : this.recentCrashes + 1;
    const delay = reforkDelayMs(this.recentCrashes);
    this.opts.log('warn', `${nameOf(m)} exited (${signal ?? `code ${code}`}); starting a new one in ${delay} ms`, { worker: m.worker.id, role: m.role, code, signal, delayMs: delay });
    // Until it is forked again, the replacement counts as starting, so a scaler neither adds another nor counts it twice.
    const timer = setTimeout(() => {
      this.reforks[m.role].delete(timer);
      if (this.phase !== 'running') return;
      this.opts.metrics.restarted();
      this.fork(m.role, this.opts.config.podStartup);
    }, delay);
    this.reforks[m.role].add(timer);
  }

  private retire(m: Member): void {
    const wasStarting = m.state === 'starting';
    const { config, log } = this.opts;
    m.state = 'retiring';
    this.opts.metrics.retiring(m.worker);
    log('info', `retiring ${nameOf(m)} (${wasStarting ? 'starting: stopped at once' : `draining, up to ${config.shutdownTimeout} ms`})`, { worker: m.worker.id, role: m.role });
    // A process still starting may not listen for messages yet; SIGTERM reaches it either way.
    const id = m.worker.id;
    this.drains.set(id, drainWorker(m.worker, config.shutdownTimeout, log, wasStarting).finally(() => this.drains.delete(id)));
  }

  private cpuOf(w: Worker): Promise<number | undefined> {
    return new Promise((resolve) => {
      const id = randomUUID();
      const timer = setTimeout(() => {
        this.cpuWaiting.delete(id);
        resolve(undefined);
      }, CPU_ANSWER_MS);
      this.cpuWaiting.set(id, (seconds) => {
        clearTimeout(timer);
        this.cpuWaiting.delete(id);
        resolve(seconds);
      });
      send(w, { type: MSG.cpuRequest, id });
    });
  }
}

const nameOf = (m: Member): string => `${m.role === 'web' ? 'web worker' : 'consumer'} ${m.worker.id}`;

const send = (w: Worker, msg: PrimaryMessage): void => {
  if (w.isConnected()) w.send(msg);
};

/**
 * Startup: every process must come up once; one that dies now is a
 * configuration problem, not a crash to retry. Any process exiting before
 * all are ready fails the start (even one that was ready already), and the
 * others are killed.
 */
async function startAll(counts: Record<ProcessRole, number>, fork: (role: ProcessRole, delayMs: number) => Member): Promise<void> {
  const first = [...Array.from({ length: counts.web }, () => fork('web', 0)), ...Array.from({ length: counts.consumer }, () => fork('consumer', 0))];
  const startupExits: (() => void)[] = [];
  await Promise.all(first.map(({ worker: w, role }) => new Promise<void>((resolve, reject) => {
    let reason = '';
    const onExit = (code: number | null): void => reject(new Error(reason ? `a ${role === 'web' ? 'worker' : 'consumer'} could not start: ${reason}` : `${role === 'web' ? 'worker' : 'consumer'} ${w.id} exited with code ${code} while starting`));
    w.once('exit', onExit);
    startupExits.push(() => w.off('exit', onExit));
    w.on('message', (m: WorkerMessage) => {
      if (m?.type === MSG.failed) reason = m.message;
      if (m?.type === MSG.ready) resolve();
    });
  }))).finally(() => startupExits.forEach((off) => off())).catch((err: unknown) => {
    for (const { worker: w } of first) if (!w.isDead()) w.process.kill('SIGKILL');
    throw err;
  });
}

/** Asks a process to drain (SIGTERM when it may not listen to messages yet); kills it if it has not exited a little after the deadline. */
function drainWorker(w: Worker, deadlineMs: number, log: StackLog, signal: boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    if (w.isDead()) return resolve();
    const kill = setTimeout(() => {
      log('warn', `worker ${w.id} did not finish draining in time; killing it`);
      w.process.kill('SIGKILL');
    }, deadlineMs + DRAIN_KILL_GRACE_MS);
    w.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    const msg: PrimaryMessage = { type: MSG.shutdown, deadlineMs };
    if (!signal && w.isConnected()) w.send(msg);
    else w.process.kill('SIGTERM');
  });
}
