import { percent as pct, round } from '../analyzers/numbers.js';
import { linearRegression } from 'simple-statistics';
import { countAbove, mergeEncoded, summarizeHistogram, type Histogram } from '../engine/latency-histogram.js';
import type { RunResult } from '../analyzers/run-result.js';
import type { ThresholdResult } from '../analyzers/thresholds.js';
import { formatDuration } from '../shared/duration.js';
import { formatMetricValue, parseThreshold, type ThresholdExpression } from '../scenarios/threshold-expression.js';
import type { StepPurpose } from './knee-search.js';
import { tailEvidence, Z95, type Batch, type EvidenceVerdict, type TailEvidence } from './tail-evidence.js';

/** A step fails when fewer than this share of the offered iterations finished per second. */
export const MIN_ACHIEVED_RATIO = 0.95;
/** An achieved share this close below MIN_ACHIEVED_RATIO leaves the step undecided rather than failed. */
export const ACHIEVED_MARGIN = 0.03;

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
  /** Jobs completed during the step's measured windows and their drains. */
  jobsCompleted: number | null;
}

/** One measured rate of the knee search. */
export interface StepVerdict {
  /** Offered rate, flow iterations per second. */
  rate: number;
  /** Why the search measured it. */
  purpose: StepPurpose;
  /** pass or fail at 95% confidence, or undecided when the evidence allows either. */
  verdict: EvidenceVerdict;
  /** What the search took it as: the verdict, or for an undecided step the side its evidence leans to. */
  passed: boolean;
  /** Why it failed or is undecided, in words; empty when it passed. */
  reasons: string[];
  /** The tail criteria (latency percentiles, error rate): samples past the limit and their 95% interval. */
  evidence: TailEvidence[];
  /** Seconds measured (every window), and the windows: an undecided step is extended by another window. */
  measuredSec: number;
  windows: number;
  /** Wall-clock seconds the step took: warm-up, windows and queue drains. */
  elapsedSec: number;
  /** Finished iterations per second ÷ offered, over the measured windows. */
  achievedRatio: number;
  /** Requests per second over the measured windows. */
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

/** A criterion judged by counting samples past a limit. */
export interface TailCriterion {
  expression: string;
  /** Endpoint or flow; undefined for the whole run. */
  scope: string | undefined;
  kind: 'latency' | 'errors';
  /** The latency limit, milliseconds (latency criteria). */
  limitMs: number;
  /** Share of samples allowed past it. */
  allowed: number;
  /** `<`: the allowed share itself fails; `<=`: it passes. */
  strict: boolean;
}

/** One second of a measured window: requests finished and their errors; latencies recorded and those slower than each whole-run latency limit (keyed by the limit in ms). */
export interface SecondCounts {
  /** Iterations offered in the second (for `--verify`: a second with load offered and no answer is a stall). */
  offered?: number;
  samples: number;
  errors: number;
  timed: number;
  slower: Record<string, number>;
}

/** One second's counts as the engine closes it: answers, errors, and those slower than each whole-run latency limit (ms). */
export function secondCounts(point: { offeredRps: number; rps: number; errors: number }, hist: Histogram, limitsMs: readonly number[]): SecondCounts {
  return {
    offered: point.offeredRps, samples: point.rps, errors: point.errors, timed: hist.totalCount,
    slower: Object.fromEntries(limitsMs.map((ms) => [String(ms), countAboveMs(hist, ms)])),
  };
}

/** One load at the step's rate: its RunResult (thresholds judged) and its seconds. */
export interface MeasuredWindow {
  result: RunResult;
  seconds: SecondCounts[];
}

const PERCENTILE_SHARE: Record<string, number> = { p50: 0.5, p90: 0.1, p95: 0.05, p99: 0.01, p999: 0.001 };

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const countAboveMs = (h: Histogram, ms: number): number => countAbove(h, Math.round(ms * 1000));

/**
 * A threshold that allows a share of samples past a limit: `pXX < L` (any
 * percentile, `p(99.99)` too) allows 1 − XX% of answers slower than L, `error_rate < r` allows r errors. Other
 * thresholds (min, max, mean, rps, telemetry, error_rate < 0) are judged on
 * their value.
 */
export function tailCriterion(t: ThresholdExpression): TailCriterion | undefined {
  // Iterations of every flow together have no per-second counts to pool (only a flow's own histogram does).
  if ((t.op !== '<' && t.op !== '<=') || t.overIterations) return undefined;
  // Any other percentile (p75, p99.99) allows its own share; rounded off the float noise of 1 - 0.9999.
  const share = PERCENTILE_SHARE[t.metric] ?? (t.percentile === undefined ? undefined : Math.round((100 - t.percentile) * 1e9) / 1e11);
  const strict = t.op === '<';
  if (share !== undefined) return { expression: t.expression, scope: t.scope, kind: 'latency', limitMs: t.limit, allowed: share, strict };
  if (t.metric === 'error_rate' && t.limit > 0 && t.limit < 1) return { expression: t.expression, scope: t.scope, kind: 'errors', limitMs: 0, allowed: t.limit, strict };
  return undefined;
}

/** The tail criteria among threshold expressions (the scenario's and the SLOs). */
export function tailCriteria(expressions: readonly string[]): TailCriterion[] {
  return expressions.flatMap((e) => {
    const t = parseThreshold(e);
    const c = typeof t === 'string' ? undefined : tailCriterion(t);
    return c ? [c] : [];
  });
}

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

/** An endpoint's or flow's samples and those past the criterion's limit, from the window's histograms (endpoints first). */
function scopedCounts(r: RunResult, c: TailCriterion): { samples: number; exceed: number } {
  const endpoint = r.endpoints.find((e) => e.name === c.scope);
  const flow = r.flows.find((f) => f.name === c.scope);
  if (c.kind === 'errors') {
    if (endpoint) return { samples: endpoint.requests, exceed: endpoint.errors };
    return flow ? { samples: flow.iterations, exceed: flow.failed } : { samples: 0, exceed: 0 };
  }
  const encoded = endpoint ? r.histograms[endpoint.name] : flow?.histogram;
  if (encoded === undefined) return { samples: 0, exceed: 0 };
  const h = mergeEncoded([encoded]);
  return { samples: h.totalCount, exceed: countAboveMs(h, c.limitMs) };
}

/** Pools the windows' samples for one tail criterion: per-second batches for whole-run criteria. */
function judgeTail(windows: readonly MeasuredWindow[], c: TailCriterion, z: number): TailEvidence {
  if (c.scope !== undefined) {
    const counts = windows.map((w) => scopedCounts(w.result, c));
    return tailEvidence(c.expression, c.allowed, counts.reduce((s, x) => s + x.samples, 0), counts.reduce((s, x) => s + x.exceed, 0), undefined, z);
  }
  const batches: Batch[] = windows.flatMap((w) => w.seconds.map((s) => (c.kind === 'errors'
    ? { samples: s.samples, exceed: s.errors }
    : { samples: s.timed, exceed: s.slower[String(c.limitMs)] ?? 0 })));
  return tailEvidence(c.expression, c.allowed, batches.reduce((s, b) => s + b.samples, 0), batches.reduce((s, b) => s + b.exceed, 0), batches, z);
}

/** The side an undecided criterion leans to: its observed share within the allowance. */
const leansPass = (e: TailEvidence, c: TailCriterion): boolean => (c.strict ? e.observed < e.allowed : e.observed <= e.allowed);

/** "p99 < 200ms: 3.1% of 4210 past 200ms (95% CI 2.6–3.7%, 1% allowed)". */
export function describeEvidence(e: TailEvidence, c?: TailCriterion): string {
  if (e.samples === 0) return `${e.expression}: no samples (nothing was measured for it)`;
  const past = c?.kind === 'latency' ? `slower than ${formatDuration(c.limitMs)}` : 'past the limit';
  return `${e.expression}: ${pct(e.observed)} of ${e.samples} ${past} (95% CI ${pct(e.low)}–${pct(e.high)}, ${pct(e.allowed)} allowed)`;
}

/**
 * Judges one step from its measured windows. Criteria judged on a value
 * (throughput achieved, drops, telemetry and other thresholds) fail the step
 * outright when any window breaks them. Tail criteria pool every window's
 * samples and decide only when the 95% interval of the share past the limit
 * lies wholly on one side of the allowance; otherwise the step is undecided
 * (the caller may measure another window), leaning to its observed share.
 */
export function judgeStep(
  windows: readonly MeasuredWindow[], rate: number, replicas: number, purpose: StepPurpose, criteria: readonly TailCriterion[], z = Z95,
): Omit<StepVerdict, 'elapsedSec'> {
  if (windows.length === 0) throw new Error('judgeStep needs a measured window');
  const results = windows.map((w) => w.result);
  const tailExpressions = new Set(criteria.map((c) => c.expression));
  const failures: string[] = [];
  const pointFailed = results.find((r) => r.thresholds.some((t) => !t.ok && !tailExpressions.has(t.expression)));
  for (const t of pointFailed?.thresholds.filter((x) => !x.ok && !tailExpressions.has(x.expression)) ?? []) {
    failures.push(`${t.expression} (actual ${formatMetricValue(t.metric, t.actual)})`);
  }
  const seconds = results.reduce((s, r) => s + r.loadDurationSec, 0);
  const ratio = results.reduce((s, r) => s + achievedRatio(r, rate) * r.loadDurationSec, 0) / seconds;
  const close: string[] = [];
  if (ratio < MIN_ACHIEVED_RATIO) {
    // Just short of the line is within a window's noise: undecided, measured on, rather than a failure.
    (ratio >= MIN_ACHIEVED_RATIO - ACHIEVED_MARGIN ? close : failures).push(`achieved ${Math.round(ratio * 100)}% of the offered rate (< ${MIN_ACHIEVED_RATIO * 100}%)`);
  }
  const dropped = results.reduce((s, r) => s + r.totals.droppedIterations, 0);
  if (dropped > 0) failures.push(`${dropped} iterations dropped (in-flight cap reached)`);
  if (results.some((r) => r.aborted)) failures.push('stopped before the end');

  const evidence = criteria.map((c) => judgeTail(windows, c, z));
  const described = evidence.map((e, i) => ({ e, text: describeEvidence(e, criteria[i]) }));
  failures.push(...described.filter((d) => d.e.verdict === 'fail').map((d) => d.text));
  const undecided = described.filter((d) => d.e.verdict === 'undecided');
  const verdict: EvidenceVerdict = failures.length ? 'fail' : undecided.length || close.length ? 'undecided' : 'pass';
  const passed = verdict === 'pass' || (verdict === 'undecided' && !close.length && evidence.every((e, i) => e.verdict === 'pass' || leansPass(e, criteria[i]!)));
  const reasons = verdict === 'undecided' ? [...close.map((c) => `close to the line: ${c}`), ...undecided.map((d) => `undecided ${d.text}`)] : failures;

  const requests = results.reduce((s, r) => s + r.totals.requests, 0);
  const errors = results.reduce((s, r) => s + r.totals.errors, 0);
  const iterations = results.reduce((s, r) => s + r.totals.iterations.iterations, 0);
  const latency = summarizeHistogram(mergeEncoded(results.flatMap((r) => Object.values(r.histograms))));
  const last = results[results.length - 1]!;
  const jobs = results.map((r) => stepTelemetry(r, replicas).jobsCompleted);
  return {
    rate: round(rate, 2),
    purpose,
    verdict,
    passed,
    reasons,
    evidence,
    measuredSec: round(seconds, 2),
    windows: windows.length,
    achievedRatio: round(ratio, 3),
    rps: round(requests / seconds, 2),
    requestsPerIteration: iterations ? round(requests / iterations, 3) : 0,
    latencyMs: { p50: latency.p50, p95: latency.p95, p99: latency.p99 },
    errorRate: requests ? round(errors / requests, 6) : 0,
    dropped,
    // A tail threshold's ok is what its pooled evidence says (its actual stays the window's value).
    thresholds: (pointFailed ?? last).thresholds.map((t) => {
      const i = criteria.findIndex((c) => c.expression === t.expression);
      return i < 0 ? t : { ...t, ok: evidence[i]!.verdict === 'pass' || (evidence[i]!.verdict === 'undecided' && leansPass(evidence[i]!, criteria[i]!)) };
    }),
    generatorSaturated: results.some((r) => r.generator.saturated),
    telemetry: { ...stepTelemetry(last, replicas), jobsCompleted: jobs.every((j) => j === null) ? null : jobs.reduce<number>((s, j) => s + (j ?? 0), 0) },
  };
}

/**
 * Worst share past a limit ÷ the share allowed, over the tail criteria: how
 * badly the tail failed, to see whether it grows with load. Null when it
 * cannot say: no tail criterion, the target fell behind (throughput or drops:
 * load, plainly), or half or more of the samples were past a limit (a
 * saturated share cannot grow any more).
 */
export function severityOf(v: Pick<StepVerdict, 'evidence' | 'achievedRatio' | 'dropped'>): number | null {
  if (!v.evidence.length || v.achievedRatio < MIN_ACHIEVED_RATIO || v.dropped > 0 || v.evidence.some((e) => e.observed >= 0.5)) return null;
  return Math.max(...v.evidence.map((e) => e.observed / e.allowed));
}
