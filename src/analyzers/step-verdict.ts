import { linearRegression } from 'simple-statistics';
import type { RunResult } from './run-result.js';
import type { ThresholdResult } from './thresholds.js';
import { formatMetricValue } from '../scenarios/threshold-expression.js';

/** A step fails when fewer than this share of the offered iterations finished per second. */
export const MIN_ACHIEVED_RATIO = 0.95;

/** What the target's metrics showed during one step (null: not measured). */
export interface StepTelemetry {
  /** Mean CPU of one replica, percent of one core (all workers' mean ÷ replicas). */
  cpuPerReplicaPercent: number | null;
  cacheHitRatio: number | null;
  /** Queue depth trend over the steady window, jobs per second (> 0: the consumers fall behind). */
  queueDepthSlope: number | null;
  queueDepthMax: number | null;
  /** Queue depth at the end of the load. */
  queueDepthFinal: number | null;
  /** Seconds until the queue was empty after the load (null: it did not empty, or no queue). */
  drainTimeSec: number | null;
  /** Jobs completed per second during the step and its drain. */
  jobsPerSec: number | null;
  /** Jobs completed during the step and its drain. */
  jobsCompleted: number | null;
}

/** One measured rate of the knee search. */
export interface StepVerdict {
  /** Offered rate, flow iterations per second. */
  rate: number;
  passed: boolean;
  /** Why it failed, in words; empty when it passed. */
  reasons: string[];
  /** Finished iterations per second ÷ offered, over the steady window. */
  achievedRatio: number;
  /** Requests per second over the steady window. */
  rps: number;
  requestsPerIteration: number;
  latencyMs: { p50: number; p95: number; p99: number };
  errorRate: number;
  dropped: number;
  thresholds: ThresholdResult[];
  /** The generator, not the target, limited this step: its verdict says little about the target. */
  generatorSaturated: boolean;
  telemetry: StepTelemetry;
}

const round = (v: number, d = 3): number => Math.round(v * 10 ** d) / 10 ** d;
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Finished iterations per second over the steady window ÷ the offered rate.
 * Iterations offered in the window's first seconds finish a little later, so
 * the seconds the slowest flow's median iteration lasts (at least one, and
 * leaving at least one) are skipped at the start.
 */
export function achievedRatio(result: RunResult, rate: number): number {
  const window = Math.floor(result.loadDurationSec);
  const p50Sec = Math.max(0, ...result.flows.map((f) => f.durationMs.p50 / 1000));
  const lag = Math.max(1, Math.min(Math.ceil(p50Sec), window - 1));
  const seconds = result.timeseries.filter((p) => p.t >= lag && p.t < window);
  if (seconds.length === 0 || rate <= 0) return 0;
  return mean(seconds.map((p) => p.achievedRps)) / rate;
}

/** The step's telemetry figures; CPU per replica is the whole target's mean ÷ replicas. */
export function stepTelemetry(result: RunResult, replicas: number): StepTelemetry {
  const t = result.telemetry;
  if (!('source' in t)) {
    return { cpuPerReplicaPercent: null, cacheHitRatio: null, queueDepthSlope: null, queueDepthMax: null, queueDepthFinal: null, drainTimeSec: null, jobsPerSec: null, jobsCompleted: null };
  }
  const depth = result.timeseries.filter((p) => p.t < result.loadDurationSec && typeof p.queueDepth === 'number').map((p) => [p.t, p.queueDepth!]);
  return {
    cpuPerReplicaPercent: t.cpu ? round(t.cpu.totalPercent.mean / replicas, 1) : null,
    cacheHitRatio: t.cacheHitRatio,
    queueDepthSlope: depth.length >= 2 ? round(linearRegression(depth).m, 3) : null,
    queueDepthMax: t.queueDepth?.max ?? null,
    queueDepthFinal: t.queueDepth?.final ?? null,
    drainTimeSec: t.queueDrainTimeSec,
    jobsPerSec: t.jobs?.perSec ?? null,
    jobsCompleted: t.jobs?.completed ?? null,
  };
}

/**
 * Judges one step of the knee search: it passes only when every threshold
 * (the scenario's and the SLOs) held, at least 95% of the offered rate was
 * achieved, no iteration was dropped, and the run was not stopped.
 */
export function judgeStep(result: RunResult, rate: number, replicas: number): StepVerdict {
  const reasons: string[] = [];
  for (const t of result.thresholds.filter((x) => !x.ok)) reasons.push(`${t.expression} (actual ${formatMetricValue(t.metric, t.actual)})`);
  const ratio = achievedRatio(result, rate);
  if (ratio < MIN_ACHIEVED_RATIO) reasons.push(`achieved ${Math.round(ratio * 100)}% of the offered rate (< ${MIN_ACHIEVED_RATIO * 100}%)`);
  const dropped = result.totals.droppedIterations;
  if (dropped > 0) reasons.push(`${dropped} iterations dropped (in-flight cap reached)`);
  if (result.aborted) reasons.push('stopped before the end');
  const iterations = result.totals.iterations.iterations;
  return {
    rate: round(rate, 2),
    passed: reasons.length === 0,
    reasons,
    achievedRatio: round(ratio, 3),
    rps: result.totals.rps,
    requestsPerIteration: iterations ? round(result.totals.requests / iterations, 3) : 0,
    latencyMs: { p50: result.totals.latencyMs.p50, p95: result.totals.latencyMs.p95, p99: result.totals.latencyMs.p99 },
    errorRate: result.totals.errorRate,
    dropped,
    thresholds: result.thresholds,
    generatorSaturated: result.generator.saturated,
    telemetry: stepTelemetry(result, replicas),
  };
}
