import type { TelemetryRecording, TelemetryScrape } from '../telemetry/telemetry-collector.js';
import { ReplicaTracker } from './telemetry-replicas.js';
import { CacheReducer, CpuReducer, CustomReducer, JobsReducer, LagReducer, QueueReducer, queueDepthOf, round } from './telemetry-reducers.js';
import type { TelemetryPoint, TelemetrySummary } from './telemetry-types.js';
import { ReadShareReducer, ReplicaLagReducer, ShardReducer } from './telemetry-db-reducers.js';
import { databaseGap } from './telemetry-db-gap.js';

export type { CustomSummary, TelemetryPoint, TelemetrySummary } from './telemetry-types.js';
export { UNLABELLED } from './telemetry-types.js';
export { counterDeltas } from './telemetry-reducers.js';

/**
 * Why a telemetry threshold has no value, when the summary can tell: a
 * cache hit ratio over no lookups is not a measurement, and saying so beats
 * a bare "no data".
 */
export function telemetryGap(t: TelemetrySummary | undefined, metric: string): string | undefined {
  if (!t) return undefined;
  // A drain that ran out of time or was stopped explains its own missing figure, whatever a query did meanwhile.
  if (metric === 'queue_drain_time' && t.drain?.timedOut) return `the queue did not empty within ${t.drain.timeoutSec} s after the load`;
  if (metric === 'queue_drain_time' && t.drain?.interrupted) return 'the wait for the queue to drain was stopped';
  // No scrape succeeded (credentials refused, say): that is why every figure is missing, not the target's make-up.
  if (t.scrapes.ok === 0) return t.scrapes.failed > 0 ? `no data: all ${t.scrapes.failed} scrapes failed (first: ${t.scrapes.firstFailure ?? 'unknown error'})` : 'no data: no scrape completed';
  const feeds = metric === 'cache_hit_ratio' ? CACHE_SIGNALS : metric.startsWith('queue_') ? QUEUE_SIGNALS : DB_SIGNALS[metric.replace(/\..*/, '')] ?? [];
  // A signal that was never asked for (promql: without it, a mapping of one's own) says nothing about the target.
  if (t.signals && feeds.length > 0 && !feeds.some((n) => t.signals!.includes(n))) {
    return `no data: signal ${feeds.join(', ')} not collected (map it under telemetry.metrics)`;
  }
  // A figure whose signal's query failed has no value because of that: say so first.
  const failed = feeds.find((n) => t.failedSignals?.[n]);
  if (failed) return `no data: query for ${failed} failed: ${t.failedSignals![failed]!.error}`;
  if (metric === 'cache_hit_ratio') {
    if (t.cacheLookups === 0) return 'no cache lookups during the run';
    if (t.cacheLookups === null) return `no cache series found at ${t.source}`;
  }
  return databaseGap(t, metric);
}

export interface AnalyzeOptions {
  /** The load's start, epoch ms (RunResult.startedAt). */
  startedAt: number;
  loadDurationSec: number;
  signals: readonly string[];
  /** Signals whose absence is not warned about (optional ones of the default mapping: no replicas, no shards). */
  quiet?: readonly string[];
  custom: Record<string, 'counter' | 'gauge'>;
}

const CACHE_SIGNALS = ['cacheHits', 'cacheMisses'];
const QUEUE_SIGNALS = ['queueWaiting', 'queueActive', 'queueDelayed'];
const DB_SIGNALS: Record<string, string[]> = { replica_lag: ['replicaLag'], replica_read_share: ['catalogReads'], shard_hot_share: ['shardCheckouts'] };

/**
 * Warnings about the recording itself: signals never seen, failed scrapes.
 * When every scrape failed (credentials refused, say), that one warning says
 * it all: no signal could be seen, so none is named as missing.
 */
function recordingWarnings(rec: TelemetryRecording, signals: readonly string[], quiet: readonly string[]): string[] {
  const warnings: string[] = [];
  const allFailed = rec.scrapes.length === 0 && rec.failures > 0;
  for (const name of allFailed ? [] : signals) {
    const failed = rec.signalFailures?.[name];
    const seen = rec.scrapes.some((s) => s.values[name] !== undefined);
    if (failed) {
      warnings.push(`the query for ${name} failed in ${failed.failed} of ${rec.scrapes.length} scrapes (first: ${failed.firstError})${seen ? '' : '; its figures are missing'}`);
    } else if (!seen && !quiet.includes(name)) warnings.push(`no series found for ${name} at ${rec.source}; its figures are missing`);
  }
  if (rec.failures) warnings.push(`${rec.failures} of ${rec.failures + rec.scrapes.length} scrapes failed (first: ${rec.firstFailure})`);
  return warnings;
}

/** The wait for the queue after the load: its scrapes, the drain time, and a warning when it did not empty. */
function drainFigures(rec: TelemetryRecording, startedAt: number, loadEnd: number, warnings: string[]): Pick<TelemetrySummary, 'queueDrainTimeSec' | 'drain'> {
  const t = (s: TelemetryScrape): number => (s.at - startedAt) / 1000;
  const drain = rec.drain;
  if (!drain) return { queueDrainTimeSec: null, drain: null };
  // A scrape in which a queue query failed has no depth: left out of the series, not drawn as 0.
  const series = rec.scrapes.filter((s) => s.at >= drain.startedAt && s.at <= (drain.endedAt ?? Infinity) && queueDepthOf(s) !== undefined)
    .map((s) => ({ t: round(t(s), 2), queueDepth: queueDepthOf(s)! }));
  let drainTime: number | null = null;
  if (drain.endedAt !== null) {
    // The first scrape at or after the end of the load that saw the queue empty (it may come before the wait for it began).
    const firstEmpty = rec.scrapes.find((s) => t(s) >= loadEnd && s.at <= drain.endedAt! && queueDepthOf(s) === 0);
    drainTime = round(Math.max(0, ((firstEmpty?.at ?? drain.endedAt) - startedAt) / 1000 - loadEnd), 2);
  } else {
    warnings.push(drain.interrupted ? 'the queue drain was interrupted; queue_drain_time is unknown'
      : `the queue did not empty within ${drain.timeoutMs / 1000} s after the load (drainTimeout)`);
  }
  return { queueDrainTimeSec: drainTime, drain: { timedOut: drain.endedAt === null && !drain.interrupted, interrupted: drain.interrupted, timeoutSec: drain.timeoutMs / 1000, series } };
}

/**
 * Derives cache, queue, CPU, lag, replica and custom figures from the
 * scrapes, folding them through one reducer per signal. Pure, and linear in
 * the number of scrapes. An interval counts toward the load when it starts
 * before the load ends; `final` is the first scrape at or after the end.
 */
export function analyzeTelemetry(rec: TelemetryRecording, opts: AnalyzeOptions): { summary: TelemetrySummary; points: TelemetryPoint[] } {
  const t = (s: TelemetryScrape): number => (s.at - opts.startedAt) / 1000;
  const loadEnd = opts.loadDurationSec;
  const warnings = recordingWarnings(rec, opts.signals, opts.quiet ?? []);
  const [queue, cache, jobs, cpu, lag, custom] = [new QueueReducer(), new CacheReducer(), new JobsReducer(), new CpuReducer(), new LagReducer(), new CustomReducer(opts.custom)];
  const replicas = new ReplicaTracker();
  const [replicaLag, readShare, shards] = [new ReplicaLagReducer(), new ReadShareReducer(), new ShardReducer()];
  const points = rec.scrapes.map((cur, i) => {
    const prev = rec.scrapes[i - 1];
    const point: TelemetryPoint = { t: Math.floor(t(cur)) };
    const counts = replicas.add(t(cur), cur.values.replicas);
    if (counts) point.replicas = counts;
    const step = { cur, prev, t: t(cur), dt: prev ? (cur.at - prev.at) / 1000 : 0, during: prev !== undefined && t(prev) < loadEnd, loadEnd, point };
    for (const r of [queue, cache, jobs, cpu, lag, custom, replicaLag, readShare, shards]) r.step(step);
    return point;
  });
  const lastScrape = rec.scrapes[rec.scrapes.length - 1];
  const drained = drainFigures(rec, opts.startedAt, loadEnd, warnings);
  return {
    points,
    summary: {
      source: rec.source,
      signals: [...opts.signals],
      scrapes: { ok: rec.scrapes.length, failed: rec.failures, ...(rec.firstFailure ? { firstFailure: rec.firstFailure } : {}) },
      ...(rec.signalFailures ? { failedSignals: Object.fromEntries(Object.entries(rec.signalFailures).map(([k, f]) => [k, { failed: f.failed, error: f.firstError }])) } : {}),
      warnings,
      ...cache.summary(),
      queueDepth: queue.summary(),
      jobs: jobs.summary(Math.max(loadEnd, lastScrape ? t(lastScrape) : 0)),
      ...drained,
      cpu: cpu.summary(),
      eventLoopLagMs: lag.summary(),
      replicas: replicas.summary(),
      replicaLag: replicaLag.summary(),
      readShare: readShare.summary(rec.scrapes.some((s) => s.values.replicaLag !== undefined)),
      shards: shards.summary(loadEnd),
      custom: custom.summary(loadEnd),
    },
  };
}

/** The latest live figures for the progress display, from the two newest scrapes. */
export function liveTelemetry(recent: readonly TelemetryScrape[]): TelemetryPoint | undefined {
  if (recent.length === 0) return undefined;
  const startedAt = recent[0]!.at;
  const { points } = analyzeTelemetry({ source: '', intervalMs: 0, scrapes: [...recent], failures: 0 }, { startedAt, loadDurationSec: Infinity, signals: [], custom: {} });
  return points[points.length - 1];
}
