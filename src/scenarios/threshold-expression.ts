import { closest } from 'fastest-levenshtein';
import { formatDuration, parseDuration } from './duration.js';
import { echo } from './printable.js';

export const LATENCY_METRICS = ['min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max'] as const;
export type LatencyMetric = (typeof LATENCY_METRICS)[number];
/** Metrics from the target's telemetry (docs/telemetry.md); never scoped. */
export const TELEMETRY_METRICS = ['cache_hit_ratio', 'queue_depth.max', 'queue_depth.mean', 'queue_depth.final', 'queue_drain_time',
  'cpu.max', 'cpu.mean', 'event_loop_lag.max', 'event_loop_lag.mean'] as const;
export type TelemetryMetric = (typeof TELEMETRY_METRICS)[number];
/**
 * Arrivals of the open model that were not started (`maxInFlight` reached):
 * a count, and the share of the arrivals offered. Counted on the run as a
 * whole; never scoped.
 */
export const ARRIVAL_METRICS = ['dropped_iterations', 'dropped_rate'] as const;
export type ArrivalMetric = (typeof ARRIVAL_METRICS)[number];
export const THRESHOLD_METRICS = [...LATENCY_METRICS, 'error_rate', 'rps', ...ARRIVAL_METRICS, ...TELEMETRY_METRICS] as const;
/** How a custom telemetry series is judged: `<name>.<aggregate>`. */
export const CUSTOM_AGGREGATES = ['rate', 'increase', 'min', 'mean', 'max', 'final'] as const;
export type CustomAggregate = (typeof CUSTOM_AGGREGATES)[number];
/** A built-in metric, or a custom telemetry series written `<name>.<aggregate>`. */
export type ThresholdMetric = (typeof THRESHOLD_METRICS)[number] | `${string}.${CustomAggregate}`;
const CUSTOM_RE = new RegExp(`^([a-z][a-z0-9_]*)\\.(${CUSTOM_AGGREGATES.join('|')})$`);

/** The custom series a metric names, when it is not a built-in one. */
export function customMetric(metric: string): { name: string; aggregate: CustomAggregate } | undefined {
  if ((THRESHOLD_METRICS as readonly string[]).includes(metric)) return undefined;
  const m = CUSTOM_RE.exec(metric);
  return m ? { name: m[1]!, aggregate: m[2] as CustomAggregate } : undefined;
}

/** True for the dropped-arrival metrics. */
export function isArrivalMetric(metric: string): metric is ArrivalMetric {
  return (ARRIVAL_METRICS as readonly string[]).includes(metric);
}

/** True for metrics measured on the target (telemetry), not on the requests. */
export function isTelemetryMetric(metric: string): boolean {
  return (TELEMETRY_METRICS as readonly string[]).includes(metric) || customMetric(metric) !== undefined;
}
export type Comparator = '<' | '<=' | '>' | '>=';

/** A parsed threshold such as `checkout: p95 < 300ms`. */
export interface ThresholdExpression {
  /** The text as written. */
  expression: string;
  /** Endpoint or flow name; undefined means the whole run. */
  scope: string | undefined;
  metric: ThresholdMetric;
  op: Comparator;
  /**
   * Milliseconds for latency metrics, queue_drain_time and event_loop_lag; a
   * fraction (0.01 = 1%) for error_rate, dropped_rate and cache_hit_ratio;
   * percent of one core for cpu; per second for rps; a plain number otherwise.
   */
  limit: number;
}

const EXPR_RE = /^\s*(?:(.*\S)\s*:\s*)?([a-z_0-9.]+)\s*(<=|>=|<|>)\s*(\S.*?)\s*$/;

/** Parses a threshold; returns an error message instead when malformed. */
export function parseThreshold(expression: string): ThresholdExpression | string {
  const m = EXPR_RE.exec(expression);
  if (!m) return `expected "<metric> <op> <value>" such as "p99 < 200ms" or "error_rate < 1%", got ${echo(expression)}`;
  const [, scope, metricText, op, valueText] = m as unknown as [string, string | undefined, string, Comparator, string];
  if (!(THRESHOLD_METRICS as readonly string[]).includes(metricText) && !customMetric(metricText)) {
    return `unknown metric ${echo(metricText)} (did you mean ${closest(metricText, [...THRESHOLD_METRICS])}?); known: ${THRESHOLD_METRICS.join(', ')}, ` +
      `or a custom telemetry series as <name>.<${CUSTOM_AGGREGATES.join('|')}>`;
  }
  const metric = metricText as ThresholdMetric;
  if (scope !== undefined && isTelemetryMetric(metric)) return `${metric} is measured on the target as a whole; it takes no scope (${echo(`${scope}:`)})`;
  if (scope !== undefined && isArrivalMetric(metric)) return `${metric} is counted over the run's arrivals as a whole; it takes no scope (${echo(`${scope}:`)})`;
  let limit: number | undefined;
  const number = (): number | undefined => (/^-?\d+(\.\d+)?$/.test(valueText) ? Number(valueText) : undefined);
  if (metric === 'queue_drain_time' || metric.startsWith('event_loop_lag.')) {
    if (/^\d+(\.\d+)?$/.test(valueText)) return `give ${metric} a unit, e.g. ${echo(`${metric} ${op} ${valueText}s`)}`;
    limit = parseDuration(valueText);
    if (limit === undefined) return `expected a duration such as 30s or 200ms, got ${echo(valueText)}`;
  } else if (metric === 'cache_hit_ratio') {
    const pm = /^(\d+(?:\.\d+)?)\s*%$/.exec(valueText);
    limit = pm ? Number(pm[1]) / 100 : number();
    if (limit === undefined || limit < 0 || limit > 1) return `expected a percentage such as 80% or a fraction such as 0.8, got ${echo(valueText)}`;
  } else if (metric.startsWith('cpu.')) {
    const pm = /^(\d+(?:\.\d+)?)\s*%?$/.exec(valueText);
    limit = pm ? Number(pm[1]) : undefined;
    if (limit === undefined) return `expected a percentage of one core such as 85%, got ${echo(valueText)}`;
  } else if (metric.startsWith('queue_depth.') || customMetric(metric)) {
    limit = number();
    if (limit === undefined) return `expected a number, got ${echo(valueText)}`;
  } else if ((LATENCY_METRICS as readonly string[]).includes(metric)) {
    if (/^\d+(\.\d+)?$/.test(valueText)) return `give ${metric} a unit, e.g. ${echo(`${metric} ${op} ${valueText}ms`)}`;
    limit = parseDuration(valueText);
    if (limit === undefined) return `expected a duration such as 200ms or 1.5s, got ${echo(valueText)}`;
  } else if (metric === 'dropped_iterations') {
    limit = /^\d+$/.test(valueText) ? Number(valueText) : undefined;
    if (limit === undefined) return `expected a whole number of iterations, got ${echo(valueText)}`;
  } else if (metric === 'error_rate' || metric === 'dropped_rate') {
    const pm = /^(\d+(?:\.\d+)?)\s*%$/.exec(valueText);
    limit = pm ? Number(pm[1]) / 100 : /^\d+(\.\d+)?$/.test(valueText) ? Number(valueText) : undefined;
    if (limit === undefined || limit > 1) return `expected a percentage such as 1% or a fraction such as 0.01, got ${echo(valueText)}`;
  } else {
    limit = /^\d+(\.\d+)?$/.test(valueText) ? Number(valueText) : undefined;
    if (limit === undefined) return `expected requests per second as a number, got ${echo(valueText)}`;
  }
  return { expression: expression.trim(), scope, metric, op, limit };
}

/** True when `actual op limit` holds. */
export function compare(actual: number, op: Comparator, limit: number): boolean {
  switch (op) {
    case '<': return actual < limit;
    case '<=': return actual <= limit;
    case '>': return actual > limit;
    case '>=': return actual >= limit;
  }
}

/** A threshold metric's value in its own unit: a duration, a percentage, a rate or a count. */
export function formatMetricValue(metric: ThresholdMetric, v: number | null): string {
  if (v === null) return 'no data';
  if ((LATENCY_METRICS as readonly string[]).includes(metric) || metric === 'queue_drain_time' || metric.startsWith('event_loop_lag.')) return formatDuration(v);
  if (metric === 'error_rate' || metric === 'cache_hit_ratio' || metric === 'dropped_rate') return `${(v * 100).toFixed(2)}%`;
  if (metric === 'dropped_iterations') return String(v);
  if (metric.startsWith('cpu.')) return `${v.toFixed(1)}%`;
  if (isTelemetryMetric(metric)) return String(Math.round(v * 1000) / 1000);
  return v.toFixed(1);
}
