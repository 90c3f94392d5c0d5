import { closest } from 'fastest-levenshtein';
import { formatDuration, parseDuration } from '../shared/duration.js';
import { echo } from '../shared/printable.js';
import { k6Reading, parseK6Key, type AggregateFamily, type K6Key, type ScopeKind } from './k6-threshold.js';

export const LATENCY_METRICS = ['min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max'] as const;
export type LatencyMetric = (typeof LATENCY_METRICS)[number];
/** Metrics from the target's telemetry (docs/telemetry.md); never scoped. */
export const TELEMETRY_METRICS = ['cache_hit_ratio', 'queue_depth.max', 'queue_depth.mean', 'queue_depth.final', 'queue_drain_time',
  'cpu.max', 'cpu.mean', 'event_loop_lag.max', 'event_loop_lag.mean', 'replica_lag.max', 'replica_lag.mean', 'replica_read_share', 'shard_hot_share'] as const;
export type TelemetryMetric = (typeof TELEMETRY_METRICS)[number];
/**
 * Arrivals of the open model that were not started (`maxInFlight` reached):
 * a count, and the share of the arrivals offered. Counted on the run as a
 * whole; never scoped.
 */
export const ARRIVAL_METRICS = ['dropped_iterations', 'dropped_rate'] as const;
export type ArrivalMetric = (typeof ARRIVAL_METRICS)[number];
/** `count`: requests (a flow's: iterations); `checks`: the share of response checks that passed, 0..1. */
export const THRESHOLD_METRICS = [...LATENCY_METRICS, 'error_rate', 'rps', 'count', 'checks', ...ARRIVAL_METRICS, ...TELEMETRY_METRICS] as const;
/** How a custom telemetry series is judged: `<name>.<aggregate>`. */
export const CUSTOM_AGGREGATES = ['rate', 'increase', 'min', 'mean', 'max', 'final'] as const;
export type CustomAggregate = (typeof CUSTOM_AGGREGATES)[number];
/** A percentile the latency summary does not hold, computed from the histogram: `p75`, `p99.99`. */
export type PercentileMetric = `p${number}`;
/** A built-in metric, or a custom telemetry series written `<name>.<aggregate>`. */
export type ThresholdMetric = (typeof THRESHOLD_METRICS)[number] | `${string}.${CustomAggregate}` | PercentileMetric;
/** k6's aggregate names beside ours (`avg<200`, `med`; `rate` only under a k6 metric key); p(N) is a percentile. */
export const K6_AGGREGATES = ['avg', 'med', 'min', 'max', 'count', 'rate'] as const;
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

/** True for latency metrics: the summary's (min, mean, p50 … max) and any other percentile (`p75`). */
export function isLatencyMetric(metric: string): boolean {
  return (LATENCY_METRICS as readonly string[]).includes(metric) || /^p\d+(\.\d+)?$/.test(metric);
}

/** `===` is read as `==` (k6 has both). */
export type Comparator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** A parsed threshold such as `checkout: p95 < 300ms` or `http_req_duration{name:checkout}: p(95)<300`. */
export interface ThresholdExpression {
  /** The text as written. */
  expression: string;
  /** Endpoint, flow or check name; undefined means the whole run. */
  scope: string | undefined;
  /**
   * What the scope names: a check for `checks`, or what a k6 tag filter says
   * (`{name:…}` an endpoint, `{flow:…}` a flow); undefined: an endpoint, else a flow.
   */
  scopeKind?: ScopeKind;
  metric: ThresholdMetric;
  /** For a percentile the latency summary does not hold (`p75`, `p(99.99)`): which one, 0 < q < 100. */
  percentile?: number;
  /** Unscoped, over the iterations of every flow rather than the requests (k6's iterations and iteration_duration). */
  overIterations?: true;
  /** The k6 metric key it was written under (`http_req_duration`), without its tag filter. */
  k6Metric?: string;
  op: Comparator;
  /**
   * Milliseconds for latency metrics, queue_drain_time, event_loop_lag and replica_lag; a
   * fraction (0.01 = 1%) for error_rate, checks, dropped_rate, cache_hit_ratio, replica_read_share and shard_hot_share;
   * percent of one core for cpu; per second for rps; a plain number otherwise.
   */
  limit: number;
}

const EXPR_RE = /^\s*(?:(.*\S)\s*:\s*)?([a-z_0-9.]+|p\(\s*[0-9.]+\s*\))\s*(===|==|!=|<=|>=|<|>)\s*(\S.*?)\s*$/;

/** The summary's percentiles by their percent (p(100) is max). */
const SUMMARY_PERCENTILES: Readonly<Record<string, LatencyMetric>> = { 50: 'p50', 90: 'p90', 95: 'p95', 99: 'p99', 99.9: 'p999', 100: 'max' };

/** An aggregate as written: the metric it reads, and, for k6 keys, its family. */
interface Aggregate {
  metric: ThresholdMetric;
  percentile?: number;
  family?: AggregateFamily;
  /** Spelled as k6 spells it (`p(95)`, `avg`, `med`, `min`, `max`): a bare number is then milliseconds. */
  k6: boolean;
}

function parseAggregate(text: string): Aggregate | string {
  if (text === 'avg') return { metric: 'mean', family: 'time', k6: true };
  if (text === 'med') return { metric: 'p50', family: 'time', k6: true };
  if (text === 'min' || text === 'max') return { metric: text, family: 'time', k6: true };
  if (text === 'count') return { metric: 'count', family: 'count', k6: false };
  if (text === 'p999' || text === 'mean') return { metric: text, family: 'time', k6: false };
  const p = /^p(?:(\d+(?:\.\d+)?)|\(\s*(\d+(?:\.\d+)?)\s*\))$/.exec(text);
  if (p) {
    const q = Number(p[1] ?? p[2]);
    if (!(q > 0 && q <= 100)) return `a percentile is above 0 and at most 100, got ${echo(text)}${p[1] && q > 100 ? ' (write p99.99 with its dot; p999 is the one shorthand, for p99.9)' : ''}`;
    // p0.0000001 would be named p1e-7: a percentile that fine means nothing at any sample count measured.
    if (String(q).includes('e')) return `a percentile takes at most 6 decimals, got ${echo(text)}`;
    const summary = SUMMARY_PERCENTILES[String(q)];
    return { metric: summary ?? `p${q}`, ...(summary ? {} : { percentile: q }), family: 'time', k6: p[2] !== undefined };
  }
  if ((THRESHOLD_METRICS as readonly string[]).includes(text) || customMetric(text)) return { metric: text as ThresholdMetric, k6: false };
  return `unknown metric ${echo(text)} (did you mean ${closest(text, [...THRESHOLD_METRICS])}?); known: ${THRESHOLD_METRICS.join(', ')}, ` +
    `any percentile (p75, p99.99, p(99.99)), avg, med, or a custom telemetry series as <name>.<${CUSTOM_AGGREGATES.join('|')}>`;
}

type Reading = Omit<ThresholdExpression, 'expression' | 'op' | 'limit'> & { bareMs: boolean };

/** Our `[scope:] metric`: the scope names an endpoint or flow (a check for `checks`). */
function ourReading(scope: string | undefined, aggregate: string): Reading | string {
  if (aggregate === 'rate') {
    return 'rate of what? Write it under a k6 metric key, in the mapping form (thresholds: { http_req_failed: ["rate<0.01"] }), ' +
      'or name the metric: error_rate < 1%, checks > 99%, rps > 100';
  }
  const a = parseAggregate(aggregate);
  if (typeof a === 'string') return a;
  const { metric } = a;
  if (scope !== undefined && isTelemetryMetric(metric)) return `${metric} is measured on the target as a whole; it takes no scope (${echo(`${scope}:`)})`;
  if (scope !== undefined && isArrivalMetric(metric)) return `${metric} is counted over the run's arrivals as a whole; it takes no scope (${echo(`${scope}:`)})`;
  return { scope, ...(metric === 'checks' && scope !== undefined ? { scopeKind: 'check' as const } : {}), metric, ...(a.percentile ? { percentile: a.percentile } : {}), bareMs: a.k6 };
}

/** `k6_metric{tag:value}: aggregate`: the aggregate as the k6 metric reads it. */
function k6ReadingOf(key: K6Key, aggregate: string): Reading | string {
  const a = aggregate === 'rate' ? undefined : parseAggregate(aggregate);
  const family = aggregate === 'rate' ? 'rate' : typeof a === 'object' ? a.family : undefined;
  if (family === undefined) {
    return `under the k6 metric ${key.metric} write one of its aggregates (p(95), avg, med, min, max, count, rate), got ${echo(aggregate)}`;
  }
  const r = k6Reading(key, family, aggregate);
  if (typeof r === 'string') return r;
  const time = r.metric === 'time' && typeof a === 'object' ? a : undefined;
  return {
    scope: key.tag?.value,
    ...(key.tag ? { scopeKind: key.tag.kind } : {}),
    metric: time ? time.metric : (r.metric as ThresholdMetric),
    ...(time?.percentile ? { percentile: time.percentile } : {}),
    ...(r.overIterations && !key.tag ? { overIterations: true as const } : {}),
    k6Metric: key.metric,
    bareMs: true,
  };
}

/** Telemetry metrics that are durations (limits in milliseconds, written with a unit). */
const isTelemetryDuration = (metric: string): boolean =>
  metric === 'queue_drain_time' || metric.startsWith('event_loop_lag.') || metric.startsWith('replica_lag.');
/** Telemetry metrics that are shares, 0..1 (written as 80% or 0.8). */
const isTelemetryShare = (metric: string): boolean =>
  metric === 'cache_hit_ratio' || metric === 'replica_read_share' || metric === 'shard_hot_share';

const FRACTION_RE = /^(\d+(?:\.\d+)?)\s*%$/;

/** The limit in the metric's unit, or why the value cannot be one. */
function parseLimit(metric: ThresholdMetric, written: string, op: Comparator, valueText: string, bareMs: boolean): number | string {
  const number = (): number | undefined => (/^-?\d+(\.\d+)?$/.test(valueText) ? Number(valueText) : undefined);
  let limit: number | undefined;
  if (isTelemetryDuration(metric)) {
    if (/^\d+(\.\d+)?$/.test(valueText)) return `give ${metric} a unit, e.g. ${echo(`${metric} ${op} ${valueText}s`)}`;
    limit = parseDuration(valueText);
    if (limit === undefined) return `expected a duration such as 30s or 200ms, got ${echo(valueText)}`;
  } else if (isTelemetryShare(metric)) {
    const pm = FRACTION_RE.exec(valueText);
    limit = pm ? Number(pm[1]) / 100 : number();
    if (limit === undefined || limit < 0 || limit > 1) return `expected a percentage such as 80% or a fraction such as 0.8, got ${echo(valueText)}`;
  } else if (metric.startsWith('cpu.')) {
    const pm = /^(\d+(?:\.\d+)?)\s*%?$/.exec(valueText);
    limit = pm ? Number(pm[1]) : undefined;
    if (limit === undefined) return `expected a percentage of one core such as 85%, got ${echo(valueText)}`;
  } else if (metric.startsWith('queue_depth.') || customMetric(metric)) {
    limit = number();
    if (limit === undefined) return `expected a number, got ${echo(valueText)}`;
  } else if (isLatencyMetric(metric)) {
    // k6 reads a bare number as milliseconds; ours asks for the unit (elsewhere a bare duration is seconds).
    if (/^\d+(\.\d+)?$/.test(valueText)) {
      if (!bareMs) return `give ${written} a unit, e.g. ${echo(`${written} ${op} ${valueText}ms`)}`;
      limit = Number(valueText);
    } else limit = parseDuration(valueText);
    if (limit === undefined) return `expected a duration such as 200ms or 1.5s, got ${echo(valueText)}`;
  } else if (metric === 'dropped_iterations' || metric === 'count') {
    limit = /^\d+$/.test(valueText) ? Number(valueText) : undefined;
    if (limit === undefined) return `expected a whole number of ${metric === 'count' ? 'requests or iterations' : 'iterations'}, got ${echo(valueText)}`;
  } else if (metric === 'error_rate' || metric === 'dropped_rate' || metric === 'checks') {
    const pm = FRACTION_RE.exec(valueText);
    limit = pm ? Number(pm[1]) / 100 : /^\d+(\.\d+)?$/.test(valueText) ? Number(valueText) : undefined;
    if (limit === undefined || limit > 1) return `expected a percentage such as ${metric === 'checks' ? '99%' : '1%'} or a fraction such as ${metric === 'checks' ? '0.99' : '0.01'}, got ${echo(valueText)}`;
  } else {
    limit = /^\d+(\.\d+)?$/.test(valueText) ? Number(valueText) : undefined;
    if (limit === undefined) return `expected requests per second as a number, got ${echo(valueText)}`;
  }
  return limit;
}

/**
 * Parses a threshold, ours (`checkout: p95 < 300ms`) or k6's (`p(95)<500`,
 * `http_req_duration{name:checkout}: p(95)<500`); returns an error message
 * instead when malformed. `mapping`: the scope is a key of the k6-style
 * `thresholds:` mapping, so it must be a k6 metric.
 */
export function parseThreshold(expression: string, mapping = false): ThresholdExpression | string {
  const m = EXPR_RE.exec(expression);
  if (!m) return `expected "<metric> <op> <value>" such as "p99 < 200ms" or "error_rate < 1%", got ${echo(expression)}`;
  const [, scopeText, aggregate, opText, valueText] = m as unknown as [string, string | undefined, string, string, string];
  const op = (opText === '===' ? '==' : opText) as Comparator;
  const key = scopeText === undefined ? undefined : parseK6Key(scopeText, mapping);
  if (typeof key === 'string') return key;
  const reading = key ? k6ReadingOf(key, aggregate) : ourReading(scopeText, aggregate);
  if (typeof reading === 'string') return reading;
  const { bareMs, ...target } = reading;
  const limit = parseLimit(target.metric, aggregate, op, valueText, bareMs);
  if (typeof limit === 'string') return limit;
  return { expression: expression.trim(), ...target, op, limit };
}

/** True when `actual op limit` holds. */
export function compare(actual: number, op: Comparator, limit: number): boolean {
  switch (op) {
    case '<': return actual < limit;
    case '<=': return actual <= limit;
    case '>': return actual > limit;
    case '>=': return actual >= limit;
    case '==': return actual === limit;
    case '!=': return actual !== limit;
  }
}

/** A threshold metric's value in its own unit: a duration, a percentage, a rate or a count. */
export function formatMetricValue(metric: ThresholdMetric, v: number | null): string {
  if (v === null) return 'no data';
  if (isLatencyMetric(metric) || isTelemetryDuration(metric)) return formatDuration(v);
  if (metric === 'error_rate' || isTelemetryShare(metric) || metric === 'dropped_rate' || metric === 'checks') return `${(v * 100).toFixed(2)}%`;
  if (metric === 'dropped_iterations' || metric === 'count') return String(v);
  if (metric.startsWith('cpu.')) return `${v.toFixed(1)}%`;
  if (isTelemetryMetric(metric)) return String(Math.round(v * 1000) / 1000);
  return v.toFixed(1);
}
