import { compare, customMetric, formatMetricValue, isArrivalMetric, isTelemetryMetric, LATENCY_METRICS, parseThreshold, type LatencyMetric, type ThresholdExpression, type ThresholdMetric } from '../scenarios/threshold-expression.js';
import { DEFAULT_THRESHOLDS, type Scenario } from '../scenarios/schema.js';
import { echo } from '../shared/printable.js';
import { telemetryGap, type TelemetrySummary } from './telemetry.js';
import { percentileMs, type Histogram, type LatencySummary } from '../engine/latency-histogram.js';

/** The numbers a threshold can be checked against, for the run, an endpoint or a flow. */
export interface MeasuredScope {
  /** Requests (iterations for a flow) measured; 0 means no data, and every threshold on it fails but `count`. */
  samples: number;
  latencyMs: LatencySummary;
  /** Errors per request (per iteration for a flow), 0..1. */
  errorRate: number;
  /** Requests per second (iterations per second for a flow). */
  rps: number;
  /** The run's open-model arrivals (started or dropped; never closed-model iterations) and how many were dropped; only the run as a whole has them. */
  arrivals?: { offered: number; dropped: number };
  /** The latency histogram (microseconds), for percentiles the summary does not hold (`p75`); without it they have no data. */
  hist?: Histogram;
  /** Only the run as a whole: the iterations of every flow together (k6's iterations and iteration_duration), their histograms merged. */
  iterations?: MeasuredScope;
}

/** Passed and failed response checks: of the run, and by check name. */
export interface CheckCounts {
  total: { passes: number; fails: number };
  byName: ReadonlyMap<string, { passes: number; fails: number }>;
}

export interface ThresholdResult {
  expression: string;
  scope: string | undefined;
  metric: ThresholdMetric;
  /** The measured value: milliseconds, a fraction, or per second. */
  actual: number | null;
  limit: number;
  ok: boolean;
  /** Set when the scenario did not write it: a default (DEFAULT_THRESHOLDS in the schema). */
  default?: true;
  /** Why `actual` is null, when known (`no cache lookups during the run`). */
  reason?: string;
}

/** The measured value for people: in its unit, or why there is none. */
export function formatActual(t: Pick<ThresholdResult, 'metric' | 'actual' | 'reason'>): string {
  return t.actual === null && t.reason ? t.reason : formatMetricValue(t.metric, t.actual);
}

/** The threshold's expression as outputs show it: a default one is marked so. */
export function thresholdLabel(t: Pick<ThresholdResult, 'expression' | 'default'>): string {
  return t.default ? `${t.expression} (default)` : t.expression;
}

/** What a threshold judges: dropped_rate and dropped_iterations judge one thing (drops), other metrics themselves. */
const judgedThing = (metric: string): string => (isArrivalMetric(metric) ? 'dropped arrivals' : metric);

/**
 * The default thresholds that apply to a scenario: with an arrivalRate phase
 * (arrivals can be dropped only in the open model), each default on
 * something the scenario does not judge itself on the whole run (its own
 * dropped_rate or dropped_iterations replaces the dropped_rate default).
 */
export function defaultThresholdsFor(scenario: Pick<Scenario, 'phases' | 'thresholds'>): string[] {
  if (!scenario.phases.some((p) => p.kind === 'arrivalRate')) return [];
  const own = new Set(scenario.thresholds.map((t) => parseThreshold(t.text)).flatMap((t) => (typeof t !== 'string' && t.scope === undefined ? [judgedThing(t.metric)] : [])));
  return DEFAULT_THRESHOLDS.filter((d) => {
    const t = parseThreshold(d);
    return typeof t !== 'string' && !own.has(judgedThing(t.metric));
  });
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
    // Results written before these figures existed lack them (undefined): no data, like null.
    case 'replica_lag.max': return t.replicaLag ? Math.round(t.replicaLag.maxSec * 1000) : null;
    case 'replica_lag.mean': return t.replicaLag ? Math.round(t.replicaLag.meanSec * 1000) : null;
    case 'replica_read_share': return t.readShare?.replicas ?? null;
    case 'shard_hot_share': return t.shards?.hottest?.share ?? null;
    default: return null;
  }
}

/**
 * Dropped arrivals: a count, or their share of the arrivals offered. With no
 * arrival offered (a run of vus phases only) none could be dropped: 0, as
 * dropped_iterations says, not "no data".
 */
function arrivalValue(m: MeasuredScope | undefined, metric: 'dropped_iterations' | 'dropped_rate'): number | null {
  if (!m?.arrivals) return null;
  if (metric === 'dropped_iterations') return m.arrivals.dropped;
  return m.arrivals.offered > 0 ? m.arrivals.dropped / m.arrivals.offered : 0;
}

/** The share of checks that passed, or why there is none. */
function checksValue(checks: CheckCounts | undefined, scope: string | undefined): { actual: number | null; reason?: string } {
  if (!checks || checks.total.passes + checks.total.fails === 0) return { actual: null, reason: 'no checks ran' };
  const c = scope === undefined ? checks.total : checks.byName.get(scope);
  if (!c || c.passes + c.fails === 0) return { actual: null, reason: `no check named ${echo(scope)} ran` };
  return { actual: c.passes / (c.passes + c.fails) };
}

/** A request or iteration metric's value; null with no data. `count` is 0, not "no data", when nothing ran. */
function metricValue(m: MeasuredScope | undefined, t: ThresholdExpression): number | null {
  if (!m) return null;
  if (t.metric === 'count') return m.samples;
  if (m.samples === 0) return null;
  if ((LATENCY_METRICS as readonly string[]).includes(t.metric)) return m.latencyMs[t.metric as LatencyMetric];
  if (t.percentile !== undefined) return m.hist ? percentileMs(m.hist, t.percentile) : null;
  return t.metric === 'error_rate' ? m.errorRate : m.rps;
}

/**
 * Checks each threshold against the run (no scope) or the endpoint or flow it
 * names (endpoints first when a name is both). Expressions were validated
 * when the scenario was loaded. With no data (no requests, or a flow with no
 * finished iteration) a threshold fails with actual null: "p99 < 1ms" must
 * not pass because nothing was measured (a `count` is 0 instead). `defaults`
 * (defaultThresholdsFor) are judged after the scenario's own and marked
 * `default`. `checks` thresholds read `checks`, overall or by check name;
 * with no checks they fail with the reason "no checks ran".
 */
export function evaluateThresholds(
  expressions: readonly string[],
  total: MeasuredScope,
  scopes: ReadonlyMap<string, MeasuredScope>,
  telemetry?: TelemetrySummary,
  defaults: readonly string[] = [],
  checks?: CheckCounts,
): ThresholdResult[] {
  const judge = (text: string): ThresholdResult => {
    const t = parseThreshold(text);
    if (typeof t === 'string') throw new Error(`threshold was not validated: ${t}`);
    const m = t.scope === undefined ? (t.overIterations ? total.iterations : total) : scopes.get(t.scope);
    let actual: number | null;
    let reason: string | undefined;
    if (t.metric === 'checks') ({ actual, reason } = checksValue(checks, t.scope));
    else if (isTelemetryMetric(t.metric)) {
      actual = telemetryValue(telemetry, t.metric);
      reason = actual === null ? telemetryGap(telemetry, t.metric) : undefined;
    // A run whose every arrival was dropped sent no request, and still has a dropped_rate (100%).
    } else actual = isArrivalMetric(t.metric) ? arrivalValue(m, t.metric) : metricValue(m, t);
    return {
      expression: t.expression,
      scope: t.scope,
      metric: t.metric,
      actual,
      limit: t.limit,
      ok: actual !== null && compare(actual, t.op, t.limit),
      ...(reason ? { reason } : {}),
    };
  };
  return [...expressions.map(judge), ...defaults.map((text) => ({ ...judge(text), default: true as const }))];
}
