import type { PointDetail, TimeseriesPoint } from '../engine/aggregator.js';
import type { ErrorKind } from '../engine/http-exchange.js';
import type { Histogram } from '../engine/latency-histogram.js';
import type { Endpoint } from '../engine/compiled-scenario.js';
import type { Counts } from '../engine/recorder.js';

/** Latency of the requests that finished in one second, milliseconds (exact to the histogram's 0.1%). */
export interface LatencyFigures {
  /** Requests measured: equal to `requests`. */
  count: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/** One second's requests, of the run or of one endpoint. */
export interface RequestFigures {
  requests: number;
  errors: number;
  /** Errors by kind; kinds with none are left out. */
  errorsByKind: Partial<Record<ErrorKind, number>>;
  /** Responses by HTTP status; requests with no response (refused, timeout...) are left out. */
  statusCodes: Record<string, number>;
  latencyMs: LatencyFigures;
}

/** Check results of one second by check name (present when the scenario has checks). */
export type CheckCounts = Record<string, { passes: number; fails: number }>;

/** One second of the run as the streams send it: an ndjson line is this, as JSON (docs/streaming.md). */
export interface StreamSample extends RequestFigures {
  runId: string;
  scenario: string;
  /** Seconds since the run start: this line covers [t, t+1). */
  t: number;
  /** When the second closed, epoch milliseconds (its end, or the run's end for a last, shorter second). */
  timestamp: number;
  /** Iterations offered in this second (scheduled, or begun by virtual users). */
  offeredRate: number;
  /** Iterations that finished (completed or failed) in this second. */
  achievedRate: number;
  /** Iterations in flight when the second closed. */
  inFlight: number;
  /** Arrivals not started in this second (the in-flight cap was reached). */
  dropped: number;
  checks?: CheckCounts;
  /** Every endpoint of the scenario, in scenario order, also those with no request in this second. */
  endpoints: (RequestFigures & { name: string; method: string })[];
}

/** A sample plus the histograms the remote write turns into buckets. */
export interface StreamSecond {
  sample: StreamSample;
  /** Per endpoint (scenario order): this second's latencies, microseconds; undefined when it had no request. */
  endpointHists: (Histogram | undefined)[];
}

const ms = (us: number): number => Math.round(us) / 1000;

export function latencyFigures(h: Histogram | undefined): LatencyFigures {
  if (!h || h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
  const q = (p: number): number => ms(h.getValueAtPercentile(p));
  return { count: h.totalCount, p50: q(50), p90: q(90), p95: q(95), p99: q(99), max: q(100) };
}

function requestFigures(counts: Counts | undefined, hist: Histogram | undefined): RequestFigures {
  return {
    requests: counts?.requests ?? 0,
    errors: counts?.errors ?? 0,
    errorsByKind: { ...counts?.errorsByKind },
    statusCodes: { ...counts?.statusCodes },
    latencyMs: latencyFigures(hist),
  };
}

/** The run's fixed facts every sample carries. */
export interface StreamRun {
  runId: string;
  scenario: string;
  endpoints: readonly Endpoint[];
}

/**
 * Builds one second's sample from what the aggregator hands onPoint. The
 * run's figures come from the endpoints' windows (their sum), so a line's
 * endpoints always add up to it. `now` is the wall clock, epoch milliseconds.
 */
export function streamSecond(
  run: StreamRun, point: TimeseriesPoint & { checks?: CheckCounts }, hist: Histogram, detail: PointDetail & { startAtEpochMs: number }, now: number,
): StreamSecond {
  const byEndpoint = detail.endpoints;
  const endpointHists = run.endpoints.map((_, i) => byEndpoint?.get(i)?.hist);
  const total = requestFigures(undefined, hist);
  const endpoints = run.endpoints.map((e, i) => {
    const w = byEndpoint?.get(i);
    const figures = requestFigures(w?.counts, w?.hist);
    total.requests += figures.requests;
    total.errors += figures.errors;
    for (const [k, v] of Object.entries(figures.errorsByKind) as [ErrorKind, number][]) total.errorsByKind[k] = (total.errorsByKind[k] ?? 0) + v;
    for (const [k, v] of Object.entries(figures.statusCodes)) total.statusCodes[k] = (total.statusCodes[k] ?? 0) + v;
    return { name: e.name, method: e.method, ...figures };
  });
  // Without endpoint windows (not asked for), the run's counts still come from the point.
  if (!byEndpoint) Object.assign(total, { requests: point.rps, errors: point.errors, errorsByKind: { ...point.errorsByKind } });
  const sample: StreamSample = {
    runId: run.runId,
    scenario: run.scenario,
    t: point.t,
    timestamp: Math.round(Math.min(now, detail.startAtEpochMs + (point.t + 1) * 1000)),
    ...total,
    offeredRate: point.offeredRps,
    achievedRate: point.achievedRps,
    inFlight: point.inFlight,
    dropped: point.dropped,
    ...(point.checks ? { checks: point.checks } : {}),
    endpoints,
  };
  return { sample, endpointHists };
}
