import { closest } from 'fastest-levenshtein';
import { parseDuration } from './duration.js';

export const LATENCY_METRICS = ['min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max'] as const;
export type LatencyMetric = (typeof LATENCY_METRICS)[number];
export const THRESHOLD_METRICS = [...LATENCY_METRICS, 'error_rate', 'rps'] as const;
export type ThresholdMetric = (typeof THRESHOLD_METRICS)[number];
export type Comparator = '<' | '<=' | '>' | '>=';

/** A parsed threshold such as `checkout: p95 < 300ms`. */
export interface ThresholdExpression {
  /** The text as written. */
  expression: string;
  /** Endpoint or flow name; undefined means the whole run. */
  scope: string | undefined;
  metric: ThresholdMetric;
  op: Comparator;
  /** Milliseconds for latency metrics, a fraction (0.01 = 1%) for error_rate, per second for rps. */
  limit: number;
}

const EXPR_RE = /^\s*(?:(.*\S)\s*:\s*)?([a-z_0-9.]+)\s*(<=|>=|<|>)\s*(\S.*?)\s*$/;

/** Parses a threshold; returns an error message instead when malformed. */
export function parseThreshold(expression: string): ThresholdExpression | string {
  const m = EXPR_RE.exec(expression);
  if (!m) return `expected "<metric> <op> <value>" such as "p99 < 200ms" or "error_rate < 1%", got ${JSON.stringify(expression)}`;
  const [, scope, metricText, op, valueText] = m as unknown as [string, string | undefined, string, Comparator, string];
  if (!(THRESHOLD_METRICS as readonly string[]).includes(metricText)) {
    return `unknown metric "${metricText}" (did you mean ${closest(metricText, [...THRESHOLD_METRICS])}?); known: ${THRESHOLD_METRICS.join(', ')}`;
  }
  const metric = metricText as ThresholdMetric;
  let limit: number | undefined;
  if ((LATENCY_METRICS as readonly string[]).includes(metric)) {
    if (/^\d+(\.\d+)?$/.test(valueText)) return `give ${metric} a unit, e.g. "${metric} ${op} ${valueText}ms"`;
    limit = parseDuration(valueText);
    if (limit === undefined) return `expected a duration such as 200ms or 1.5s, got ${JSON.stringify(valueText)}`;
  } else if (metric === 'error_rate') {
    const pm = /^(\d+(?:\.\d+)?)\s*%$/.exec(valueText);
    limit = pm ? Number(pm[1]) / 100 : /^\d+(\.\d+)?$/.test(valueText) ? Number(valueText) : undefined;
    if (limit === undefined || limit > 1) return `expected a percentage such as 1% or a fraction such as 0.01, got ${JSON.stringify(valueText)}`;
  } else {
    limit = /^\d+(\.\d+)?$/.test(valueText) ? Number(valueText) : undefined;
    if (limit === undefined) return `expected requests per second as a number, got ${JSON.stringify(valueText)}`;
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
