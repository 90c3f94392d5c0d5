import { compare, customMetric, formatMetricValue, isTelemetryMetric, LATENCY_METRICS, parseThreshold, type LatencyMetric, type ThresholdMetric } from '../scenarios/threshold-expression.js';
import { telemetryGap, type TelemetrySummary } from './telemetry.js';
import type { LatencySummary } from '../engine/latency-histogram.js';

/** The numbers a threshold can be checked against, for the run, an endpoint or a flow. */
export interface MeasuredScope {
  /** Requests (iterations for a flow) measured; 0 means no data, and every threshold on it fails. */
  samples: number;
  latencyMs: LatencySummary;
  /** Errors per request (per iteration for a flow), 0..1. */
  errorRate: number;
  /** Requests per second (iterations per second for a flow). */
  rps: number;
}

export interface ThresholdResult {
  expression: string;
  scope: string | undefined;
  metric: ThresholdMetric;
  /** The measured value: milliseconds, a fraction, or per second. */
  actual: number | null;
  limit: number;
  ok: boolean;
  /** Why `actual` is null, when known (`no cache lookups during the run`). */
  reason?: string;
}

/** The measured value for people: in its unit, or why there is none. */
export function formatActual(t: Pick<ThresholdResult, 'metric' | 'actual' | 'reason'>): string {
  return t.actual === null && t.reason ? t.reason : formatMetricValue(t.metric, t.actual);
}

/** A telemetry metric's value, or null when it was not measured. */
export function telemetryValue(t: TelemetrySummary | undefined, metric: ThresholdMetric): number | null {
  if (!t) return null;
  const custom = customMetric(metric);
  if (custom) return t.custom[custom.name]?.[custom.aggregate] ?? null;
  switch (metric) {
    case 'cache_hit_ratio': return t.cacheHitRatio;
    case 'queue_depth.max': return t.queueDepth?.max ?? null;
    case 'queue_depth.mean': return t.queueDepth?.mean ?? null;
    case 'queue_depth.final': return t.queueDepth?.final ?? null;
    case 'queue_drain_time': return t.queueDrainTimeSec === null ? null : Math.round(t.queueDrainTimeSec * 1000);
    case 'cpu.max': return t.cpu?.maxPercent ?? null;
    case 'cpu.mean': return t.cpu?.meanPercent ?? null;
    case 'event_loop_lag.max': return t.eventLoopLagMs?.max ?? null;
    case 'event_loop_lag.mean': return t.eventLoopLagMs?.mean ?? null;
    default: return null;
  }
}

function metricValue(m: MeasuredScope, metric: ThresholdMetric): number {
  if ((LATENCY_METRICS as readonly string[]).includes(metric)) return m.latencyMs[metric as LatencyMetric];
  return metric === 'error_rate' ? m.errorRate : m.rps;
}

/**
 * Checks each threshold against the run (no scope) or the endpoint or flow it
 * names (endpoints first when a name is both). Expressions were validated
 * when the scenario was loaded. With no data (no requests, or a flow with no
 * finished iteration) a threshold fails with actual null: "p99 < 1ms" must
 * not pass because nothing was measured.
 */
export function evaluateThresholds(
  expressions: readonly string[],
  total: MeasuredScope,
  scopes: ReadonlyMap<string, MeasuredScope>,
  telemetry?: TelemetrySummary,
): ThresholdResult[] {
  return expressions.map((text) => {
    const t = parseThreshold(text);
    if (typeof t === 'string') throw new Error(`threshold was not validated: ${t}`);
    const m = t.scope === undefined ? total : scopes.get(t.scope);
    const actual = isTelemetryMetric(t.metric) ? telemetryValue(telemetry, t.metric) : m && m.samples > 0 ? metricValue(m, t.metric) : null;
    const reason = actual === null && isTelemetryMetric(t.metric) ? telemetryGap(telemetry, t.metric) : undefined;
    return {
      expression: t.expression,
      scope: t.scope,
      metric: t.metric,
      actual,
      limit: t.limit,
      ok: actual !== null && compare(actual, t.op, t.limit),
      ...(reason ? { reason } : {}),
    };
  });
}
