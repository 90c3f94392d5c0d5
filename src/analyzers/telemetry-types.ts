import type { ReplicaCounts, ReplicasSummary } from './telemetry-replicas.js';

/*
 * The shapes telemetry is summarised into (RunResult.telemetry and the
 * telemetry fields of each timeseries second), apart from the code that
 * derives them so the per-signal reducers and the analyzer can share them.
 */

/** A custom series' summary: counters as a rate and an increase, gauges as min/mean/max/final. */
export interface CustomSummary {
  type: 'counter' | 'gauge';
  rate?: number;
  increase?: number;
  min?: number;
  mean?: number;
  max?: number;
  final?: number;
}

/** RunResult.telemetry (docs/telemetry.md). Figures are null when their series were never seen. */
export interface TelemetrySummary {
  source: string;
  /** The signals looked for (custom series as `custom:<name>`); absent in results from before it existed. */
  signals?: string[];
  scrapes: { ok: number; failed: number; firstFailure?: string };
  /** Signals whose own query failed (PromQL) while the others were read: in how many scrapes, and the first error. Absent when none failed. */
  failedSignals?: Record<string, { failed: number; error: string }>;
  warnings: string[];
  /** Hits / (hits + misses) over the load, 0..1. */
  cacheHitRatio: number | null;
  cacheLookups: number | null;
  /** Waiting + active + delayed jobs, over the load's scrapes; final is at the end of the load. */
  queueDepth: { max: number; mean: number; final: number } | null;
  /** Jobs completed during the load and the drain, and per second of that time. */
  jobs: { completed: number; perSec: number } | null;
  /** Seconds from the end of the load until a scrape saw the queue empty; null when it did not empty in time. */
  queueDrainTimeSec: number | null;
  drain: { timedOut: boolean; interrupted: boolean; timeoutSec: number; series: { t: number; queueDepth: number }[] } | null;
  /** CPU of each worker (or replica) in percent of one core; maxPercent is the hottest worker in any interval. */
  cpu: { workers: Record<string, { meanPercent: number; maxPercent: number }>; totalPercent: { mean: number; max: number }; maxPercent: number; meanPercent: number } | null;
  eventLoopLagMs: { max: number; mean: number } | null;
  /** Ready replicas per role over every scrape, and each change (absent in results from before it existed). */
  replicas: ReplicasSummary | null;
  /** Read replicas' lag over the load's scrapes (the worst replica at each); null when no replica lag series was seen; absent in results from before it existed. */
  replicaLag?: ReplicaLagSummary | null;
  /** Which pools served the catalog reads of the load; null when no catalog read series was seen. */
  readShare?: ReadShareSummary | null;
  /** Accepted checkouts per shard over the load; null when no shard series was seen. */
  shards?: ShardsSummary | null;
  custom: Record<string, CustomSummary>;
}

/** TelemetrySummary.replicaLag: seconds (and bytes of WAL when reported) behind the primary. */
export interface ReplicaLagSummary {
  /** The worst lag of any replica at any scrape. */
  maxSec: number;
  /** The mean over the scrapes of the worst replica's lag: a single spike barely moves it, a steady lag does. */
  meanSec: number;
  byReplica: Record<string, { maxSec: number; meanSec: number; maxBytes?: number }>;
  /** The worst lag in bytes; null when the bytes series was not seen. */
  maxBytes: number | null;
}

/** TelemetrySummary.readShare: catalog reads over the load by the pool that served them. */
export interface ReadShareSummary {
  /** Catalog reads counted over the load (counter increases). */
  reads: number;
  /** Each pool's share of `reads`, 0..1. */
  byPool: Record<string, number>;
  /** The share served by replicas (every pool but `primary`), 0..1; null with no reads, or no replica seen at all. */
  replicas: number | null;
}

/** TelemetrySummary.shards: accepted checkouts per shard over the load (the shardCheckouts signal). */
export interface ShardsSummary {
  checkouts: number;
  /** Per shard: checkouts per second of load, and its share of all shards' checkouts (0..1). */
  byShard: Record<string, { perSec: number; share: number }>;
  /** The busiest shard and its share (a balanced 3-shard run reads about 0.33, a fully hot one 1); null with no checkouts. */
  hottest: { shard: string; share: number } | null;
}

/** Telemetry fields merged into each second of RunResult.timeseries. */
export interface TelemetryPoint {
  t: number;
  cacheHitRatio?: number | null;
  queueDepth?: number;
  queueWaiting?: number;
  queueActive?: number;
  jobsPerSec?: number;
  /** All workers together, percent of one core. */
  cpuPercent?: number;
  cpuMaxWorkerPercent?: number;
  eventLoopLagMs?: number;
  /** Ready replicas per role at the scrape. */
  replicas?: ReplicaCounts;
  /** The worst replica's lag at the scrape, seconds. */
  replicaLagSec?: number;
  /** The share of catalog reads since the previous scrape served by replicas; null with none. */
  replicaReadShare?: number | null;
  /** Checkouts per second per shard since the previous scrape. */
  shardCheckoutsPerSec?: Record<string, number>;
  custom?: Record<string, number>;
}

/** The group of series that lack the `by` label (or of a signal without `by`), so no row reads "CPU, worker " with no name. */
export const UNLABELLED = '(no label)';
