import { decodeHistogram, mergeEncoded, summarizeHistogram, type LatencySummary } from '../engine/latency-histogram.js';
import { formatDuration } from '../shared/duration.js';
import { LATENCY_METRICS, type LatencyMetric } from '../scenarios/threshold-expression.js';
import type { RunResult } from './run-result.js';

export type RegressionMetric = LatencyMetric | 'error_rate' | 'rps';

/** One `--max-regression` entry: how much worse `metric` may get. */
export interface RegressionLimit {
  text: string;
  metric: RegressionMetric;
  /** `relative`: a fraction of the baseline (10% → 0.1); `points`: percentage points of error rate (0.5pp → 0.005). */
  kind: 'relative' | 'points';
  /** The allowed worsening, >= 0: an increase for latency and error rate, a drop for rps. */
  amount: number;
}

/**
 * Parses `p99=10%,error_rate=0.5pp,rps=-5%`. Latency and error rate may rise
 * by the amount (a negative amount is refused), rps may fall by it (the sign
 * is optional: `rps=-5%` and `rps=5%` both allow a 5% drop). Returns the
 * limits or a message.
 */
export function parseRegressionLimits(text: string): RegressionLimit[] | string {
  const limits: RegressionLimit[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z_0-9]+)\s*=\s*([+-]?\d+(?:\.\d+)?)\s*(%|pp)$/.exec(part);
    if (!m) return `"${part}": expected <metric>=<amount>% (or error_rate=<amount>pp), e.g. p99=10%`;
    const [, metric, amount, unit] = m as unknown as [string, string, string, '%' | 'pp'];
    if (amount.startsWith('-') && metric !== 'rps') return `"${part}": give how much worse ${metric} may get as a positive amount (a rise), e.g. ${metric}=${amount.slice(1)}${unit}`;
    if (!(LATENCY_METRICS as readonly string[]).includes(metric) && metric !== 'error_rate' && metric !== 'rps') {
      return `"${part}": unknown metric "${metric}"; known: ${[...LATENCY_METRICS, 'error_rate', 'rps'].join(', ')}`;
    }
    if (unit === 'pp' && metric !== 'error_rate') return `"${part}": percentage points (pp) are for error_rate; use % for ${metric}`;
    limits.push({ text: part, metric: metric as RegressionMetric, kind: unit === 'pp' ? 'points' : 'relative', amount: Math.abs(Number(amount)) / 100 });
  }
  if (limits.length === 0) return 'no limits given';
  return limits;
}

/** One side of a comparison: what a run measured for the total or one endpoint. */
export interface ScopeFigures {
  requests: number;
  rps: number;
  errorRate: number;
  /** From the stored histograms (merged for the total), never from averaged percentiles. */
  latencyMs: LatencySummary;
}

export interface ComparisonRow {
  /** An endpoint name, or `total` for the run as a whole (then `total` is true). */
  scope: string;
  total: boolean;
  baseline: ScopeFigures | null;
  current: ScopeFigures | null;
}

export interface RegressionCheck {
  scope: string;
  limit: string;
  metric: RegressionMetric | 'requests';
  baseline: number;
  current: number;
  /** The worst value allowed. */
  allowed: number;
  ok: boolean;
  /** "p99 (total): 12.3ms → 15.1ms (+22.8%), allowed up to 13.5ms (p99=10%)". */
  message: string;
}

export interface Comparison {
  rows: ComparisonRow[];
  checks: RegressionCheck[];
  /** Endpoints left out of the checks: in one run only, or too few requests to judge. */
  notGated: { scope: string; why: string }[];
  passed: boolean;
}

/** Endpoints with fewer requests than this in either run are shown but not gated: their percentiles are noise. */
export const MIN_GATED_REQUESTS = 100;

function figures(r: RunResult, scope: string, total: boolean): ScopeFigures | null {
  if (total) {
    return { requests: r.totals.requests, rps: r.totals.rps, errorRate: r.totals.errorRate, latencyMs: summarizeHistogram(mergeEncoded(Object.values(r.histograms))) };
  }
  const e = r.endpoints.find((x) => x.name === scope);
  const h = r.histograms[scope];
  if (!e || h === undefined) return null;
  return { requests: e.requests, rps: e.rps, errorRate: e.errorRate, latencyMs: summarizeHistogram(decodeHistogram(h)) };
}

const value = (f: ScopeFigures, metric: RegressionMetric): number =>
  metric === 'rps' ? f.rps : metric === 'error_rate' ? f.errorRate : f.latencyMs[metric];

function format(metric: RegressionMetric, v: number): string {
  if (metric === 'rps') return `${v.toFixed(1)}/s`;
  if (metric === 'error_rate') return `${(v * 100).toFixed(2)}%`;
  return formatDuration(v);
}

function check(scope: string, limit: RegressionLimit, b: ScopeFigures, c: ScopeFigures): RegressionCheck {
  const base = value(b, limit.metric);
  const cur = value(c, limit.metric);
  const allowed = limit.metric === 'rps' ? base * (1 - limit.amount)
    : limit.kind === 'points' ? base + limit.amount : base * (1 + limit.amount);
  const ok = limit.metric === 'rps' ? cur >= allowed : cur <= allowed;
  const change = base !== 0 ? ` (${cur >= base ? '+' : ''}${(((cur - base) / base) * 100).toFixed(1)}%)` : '';
  const bound = limit.metric === 'rps' ? 'down to' : 'up to';
  return {
    scope, limit: limit.text, metric: limit.metric, baseline: base, current: cur, allowed, ok,
    message: `${limit.metric} (${scope}): ${format(limit.metric, base)} → ${format(limit.metric, cur)}${change}, allowed ${bound} ${format(limit.metric, allowed)} (${limit.text})`,
  };
}

/**
 * Compares two runs side by side, for the total and each endpoint, and checks
 * the regression limits against the total and every endpoint both runs have
 * with enough requests. Percentiles come from the stored histograms.
 */
export function compareResults(baseline: RunResult, current: RunResult, limits: readonly RegressionLimit[]): Comparison {
  const names = [...new Set([...baseline.endpoints.map((e) => e.name), ...current.endpoints.map((e) => e.name)])];
  const rows: ComparisonRow[] = [
    ...names.map((scope) => ({ scope, total: false, baseline: figures(baseline, scope, false), current: figures(current, scope, false) })),
    { scope: 'total', total: true, baseline: figures(baseline, 'total', true), current: figures(current, 'total', true) },
  ];
  const checks: RegressionCheck[] = [];
  const notGated: Comparison['notGated'] = [];
  for (const row of rows) {
    if (!row.baseline) {
      notGated.push({ scope: row.scope, why: 'new in the current run' });
      continue;
    }
    if (!row.total && row.baseline.requests < MIN_GATED_REQUESTS) {
      notGated.push({ scope: row.scope, why: `fewer than ${MIN_GATED_REQUESTS} requests in the baseline` });
      continue;
    }
    // An endpoint the baseline exercised and the current run never reached (a flow now failing before it) is the worst regression.
    if (!row.current || row.current.requests === 0) {
      if (limits.length) {
        checks.push({
          scope: row.scope, limit: 'requests > 0', metric: 'requests', baseline: row.baseline.requests, current: 0, allowed: 1, ok: false,
          message: `requests (${row.scope}): ${row.baseline.requests} → 0: the current run never reached it`,
        });
      }
      continue;
    }
    for (const limit of limits) checks.push(check(row.scope, limit, row.baseline, row.current));
  }
  return { rows, checks, notGated, passed: checks.every((c) => c.ok) };
}
