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
  custom: Record<string, CustomSummary>;
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
  custom?: Record<string, number>;
}

/** The group of series that lack the `by` label (or of a signal without `by`), so no row reads "CPU, worker " with no name. */
export const UNLABELLED = '(no label)';
