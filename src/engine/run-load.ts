import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { LoadedScenario } from '../scenarios/load-scenario.js';
import { schedulePhases, type ScheduledPhase } from '../scenarios/schedule.js';
import { LOAD_LIMITS } from '../scenarios/schema.js';
import { requestSteps, thinkMsOf } from '../scenarios/walk-steps.js';
import { Aggregator, mergeFinals, type LiveTotals, type MergedFinal, type PointDetail, type TimeseriesPoint } from './aggregator.js';
import { EngineShard } from './engine-shard.js';
import type { FromWorker, ToWorker, WorkerOptions } from './engine-worker.js';
import type { ShardFinal } from './recorder.js';
import type { Histogram } from './latency-histogram.js';
import { engineSlices, shareOf, type ProcessShard } from './shard-slice.js';

export interface LoadOptions {
  /** Base URL the scenario's paths are joined to. */
  target: string;
  /** Engine threads: 1 runs in this thread; N > 1 runs N worker threads. */
  workers: number;
  /** Overrides the scenario's maxInFlight (whole run: all shards, all workers; at least 1 per worker). */
  maxInFlight?: number;
  /** Overrides the scenario's defaults.connections (per origin, per worker). */
  connections?: number;
  /** Aborting stops the run gracefully (the caller's first Ctrl-C). */
  signal?: AbortSignal;
  /**
   * Called as each second closes, with that second's request latencies
   * (microseconds; not kept after the call) and, with endpointWindows, its
   * requests per endpoint. `startAtEpochMs`: the run's start, epoch milliseconds.
   */
  onPoint?: (point: TimeseriesPoint, live: LiveTotals, hist: Histogram, detail: PointDetail & { startAtEpochMs: number }) => void;
  /** Record each second's requests per endpoint too (for live streams; costs a histogram per endpoint per second). */
  endpointWindows?: boolean;
  /** How long in-flight requests get after an abort, milliseconds. Default 2000. */
  abortGraceMs?: number;
  /** This process runs one shard of a distributed run (`--shard`), index from 0: its slice of the schedule only. */
  shard?: ProcessShard;
  /**
   * When the first phase starts, epoch milliseconds (`--start-at`); one already
   * past (or too close for the worker threads to start) starts as soon as it
   * can, and LoadData.startLateMs says how late. Default: at once.
   */
  startAtEpochMs?: number;
}

/** What a run recorded: the input of the analyzers. */
export interface LoadData {
  /** When the first phase began. */
  startedAt: Date;
  /** How much later than LoadOptions.startAtEpochMs it began, milliseconds (0 without one). */
  startLateMs: number;
  endedAt: Date;
  durationSec: number;
  /** Seconds of load: to the end of the last phase, or to the stop. Rates are per this, not per the drain after it. */
  loadDurationSec: number;
  aborted: boolean;
  phases: ScheduledPhase[];
  workers: number;
  maxInFlight: number;
  connections: number;
  /** Whether the connection cap was set (--connections or defaults.connections), not the default. */
  connectionsSet: boolean;
  timeseries: TimeseriesPoint[];
  final: MergedFinal;
}

/** Seconds of iteration time the default in-flight cap allows at the peak rate, beyond think times. */
const DEFAULT_INFLIGHT_SECONDS = 5;

/**
 * The default in-flight cap: room for the peak arrival rate with iterations
 * lasting up to 5 s plus the longest flow's think time (never under 100, and
 * never over LOAD_LIMITS.maxInFlight: it bounds the generator's memory). A
 * shard's default is its share of the whole run's (shareOf), bounded per
 * generator the same way.
 */
export function defaultMaxInFlight(loaded: LoadedScenario, shard?: ProcessShard): number {
  const { phases, flows } = loaded.scenario;
  const peak = Math.max(0, ...phases.map((p) => (p.kind === 'arrivalRate' ? Math.max(p.arrivalRate, p.rampTo) : 0)));
  const thinkSec = Math.max(0, ...flows.map((f) => thinkMsOf(f.steps))) / 1000;
  const wholeRun = Math.max(100, Math.ceil(peak * (DEFAULT_INFLIGHT_SECONDS + thinkSec)));
  return Math.min(LOAD_LIMITS.maxInFlight, shard ? shareOf(wholeRun, shard.index, shard.count) : wholeRun);
}

/** Now, epoch milliseconds, on the clock runs start by (monotonic from the process start). */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Most engine threads per core: more only share the cores, and each thread costs ~20 MB (200 took 4 GB). */
export const WORKERS_PER_CORE = 4;

/** The most --workers on a machine with this many cores. */
export function maxWorkers(cores: number): number {
  return WORKERS_PER_CORE * Math.max(1, cores);
}

/** Connections per origin per worker when the scenario sets none. */
export const DEFAULT_CONNECTIONS = 256;

/**
 * The default connection cap: 256, or the peak VUs of an engine if more (a VU
 * never waits for a connection; a ramp counts at its peak). `engines`: the
 * run's engine threads, over all shards.
 */
export function defaultConnections(loaded: LoadedScenario, engines: number): number {
  const peakVus = Math.max(0, ...loaded.scenario.phases.map((p) => (p.kind === 'vus' ? Math.max(p.vus, p.rampTo) : 0)));
  return Math.max(DEFAULT_CONNECTIONS, Math.ceil(peakVus / engines));
}

function workerUrl(): URL {
  const url = new URL('./engine-worker.js', import.meta.url);
  if (!existsSync(fileURLToPath(url))) throw new Error(`--workers needs the built engine (${url.pathname}); run npm run build`);
  return url;
}

/** Runs one engine in a worker thread that has its scenario (loadWorkers), from `startAtEpochMs`. */
function runInWorker(worker: Worker, index: number, startAtEpochMs: number, agg: Aggregator, signal?: AbortSignal): Promise<ShardFinal> {
  return new Promise((resolve, reject) => {
    // It died after saying ready (its 'exit' came before these listeners): nothing would ever settle this.
    if (worker.threadId === -1) {
      reject(new Error(`engine worker ${index} exited before its start`));
      return;
    }
    const onAbort = (): void => worker.postMessage({ type: 'stop' } satisfies ToWorker);
    signal?.addEventListener('abort', onAbort, { once: true });
    let final: ShardFinal | undefined;
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') return;
      if (m.type === 'window') agg.window(m.report, m.monitor);
      else if (m.type === 'final') final = m.final;
      else reject(new Error(`engine worker ${index} failed: ${m.message}`));
    });
    worker.on('error', reject);
    worker.on('exit', () => {
      signal?.removeEventListener('abort', onAbort);
      if (final) resolve(final);
      else reject(new Error(`engine worker ${index} exited without results`));
    });
    worker.postMessage({ type: 'start', startAtEpochMs } satisfies ToWorker);
    // A signal that came before the run (while probing the target) still stops it.
    if (signal?.aborted) onAbort();
  });
}

/**
 * Starts one worker thread per engine, gives each its scenario and options,
 * and resolves once each has them decoded (its 'ready'), so that the run's
 * start is set after that instead of a guess: a worker still loading (or
 * still receiving a large data file) when the first phase began met its first
 * arrivals all overdue at once, a burst the target never asked for.
 */
async function loadWorkers(loaded: LoadedScenario, options: WorkerOptions[]): Promise<Worker[]> {
  const url = workerUrl();
  const threads: Worker[] = [];
  try {
    for (const _ of options) {
      const w = new Worker(url);
      // Kept for the thread's life: an 'error' between its 'ready' and runInWorker's listeners must not be an
      // uncaught exception (the 'exit' that follows fails runInWorker at once).
      w.on('error', () => {});
      threads.push(w);
    }
    await Promise.all(threads.map((w, i) => new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromWorker): void => {
        if (m.type !== 'ready') return;
        w.off('message', onMessage).off('error', reject).off('exit', onExit);
        resolve();
      };
      const onExit = (): void => reject(new Error(`engine worker ${i} exited while starting`));
      w.on('message', onMessage).once('error', reject).once('exit', onExit);
      w.postMessage({ type: 'load', loaded, options: options[i]! } satisfies ToWorker);
    })));
  } catch (err) {
    await Promise.all(threads.map((w) => w.terminate()));
    throw err;
  }
  return threads;
}

/** Runs the engines: in this thread when there is one (no threads given), else one worker thread each. */
async function runShards(
  loaded: LoadedScenario, options: WorkerOptions[], startAtEpochMs: number, threads: Worker[] | undefined, agg: Aggregator, signal?: AbortSignal,
): Promise<ShardFinal[]> {
  if (!threads) {
    const shard = new EngineShard(loaded, { ...options[0]!, startAtEpochMs, onWindow: (r, m) => agg.window(r, m) });
    const onAbort = (): void => shard.stop();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    try {
      return [await shard.run()];
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
  try {
    return await Promise.all(threads.map((w, i) => runInWorker(w, options[i]!.slice.index, startAtEpochMs, agg, signal)));
  } catch (err) {
    // One engine failed: the others must not go on sending load.
    await Promise.all(threads.map((w) => w.terminate()));
    throw err;
  }
}

/**
 * Runs a scenario's load against a target and returns what was recorded.
 * With N workers the schedule is split across N threads (arrival k goes to
 * thread k mod N) and their histograms are merged exactly; with a shard, only
 * that shard's slices are run (src/engine/shard-slice.ts).
 */
export async function runLoad(loaded: LoadedScenario, opts: LoadOptions): Promise<LoadData> {
  const workers = Math.max(1, Math.floor(opts.workers));
  const slices = engineSlices(opts.shard, workers);
  const shard = opts.shard ?? { index: 0, count: 1 };
  // The cap given is the whole run's: this shard takes its share. Validated values are within the
  // bound already; the engine keeps to it whatever it is given.
  const runCap = opts.maxInFlight ?? loaded.scenario.maxInFlight;
  const maxInFlight = Math.min(LOAD_LIMITS.maxInFlight, runCap === undefined ? defaultMaxInFlight(loaded, opts.shard) : Math.max(1, shareOf(runCap, shard.index, shard.count)));
  const connections = opts.connections ?? loaded.scenario.defaults.connections ?? defaultConnections(loaded, workers * shard.count);
  const phases = schedulePhases(loaded.scenario.phases);
  const maxTimeout = Math.max(loaded.scenario.defaults.timeout, ...loaded.scenario.flows.flatMap((f) => [...requestSteps(f.steps)].map((s) => s.timeoutMs ?? 0)));
  const now = epochNow;
  let stoppedAtEpoch = Infinity;
  const onStop = (): void => void (stoppedAtEpoch = Math.min(stoppedAtEpoch, now()));
  opts.signal?.addEventListener('abort', onStop, { once: true });
  // Split the cap exactly (worker i gets its share, remainder to the first ones), but never 0.
  const capOf = (i: number): number => Math.max(1, shareOf(maxInFlight, i, workers));
  // The cap as run: more than asked when there are more workers than it (each gets 1).
  const cap = Array.from({ length: workers }, (_, i) => capOf(i)).reduce((a, b) => a + b, 0);
  const options: WorkerOptions[] = slices.map((slice, i) => ({
    target: opts.target,
    slice,
    maxInFlight: capOf(i),
    connections,
    gracefulStopMs: maxTimeout + 1000,
    abortGraceMs: opts.abortGraceMs ?? 2000,
    endpointWindows: opts.endpointWindows,
  }));
  let startAtEpochMs: number;
  let agg: Aggregator;
  let finals: ShardFinal[];
  try {
    // Every engine starts on the same instant, once the worker threads have their scenario.
    const threads = slices.length > 1 ? await loadWorkers(loaded, options) : undefined;
    const earliest = now() + 20;
    const start = Math.max(earliest, opts.startAtEpochMs ?? earliest);
    startAtEpochMs = start;
    if (opts.signal?.aborted) stoppedAtEpoch = start;
    const onPoint = opts.onPoint;
    agg = new Aggregator(workers, onPoint && ((p, live, hist, detail) => onPoint(p, live, hist, { ...detail, startAtEpochMs: start })));
    finals = await runShards(loaded, options, start, threads, agg, opts.signal);
  } finally {
    // One signal serves many runs (capacity's steps): leave no listener behind.
    opts.signal?.removeEventListener('abort', onStop);
  }
  const startLateMs = opts.startAtEpochMs === undefined ? 0 : Math.max(0, startAtEpochMs - opts.startAtEpochMs);
  agg.finish();
  const endedAtEpoch = now();
  const totalMs = phases.length ? phases[phases.length - 1]!.endMs : 0;
  const loadEnd = Math.min(endedAtEpoch, startAtEpochMs + totalMs, stoppedAtEpoch);
  return {
    startedAt: new Date(startAtEpochMs),
    startLateMs,
    endedAt: new Date(endedAtEpoch),
    durationSec: Math.max(0.001, (endedAtEpoch - startAtEpochMs) / 1000),
    loadDurationSec: Math.max(0.001, (loadEnd - startAtEpochMs) / 1000),
    aborted: opts.signal?.aborted ?? false,
    phases,
    workers,
    maxInFlight: cap,
    connections,
    connectionsSet: opts.connections !== undefined || loaded.scenario.defaults.connections !== undefined,
    timeseries: agg.points,
    final: mergeFinals(finals),
  };
}
