import type { Histogram } from '../engine/latency-histogram.js';
import type { WriteSeries } from './remote-write-encode.js';
import type { StreamSecond } from './stream-second.js';

/** Upper bounds of the latency histogram's buckets, seconds (then +Inf). */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

/** Quantiles of each second's latency sent as gauges (1 is the maximum). */
export const WINDOW_QUANTILES = [0.5, 0.9, 0.95, 0.99, 1] as const;

/** The series names a remote write sends (docs/streaming.md lists each with its labels). */
export const REMOTE_WRITE_METRICS = {
  requests: 'scalectl_requests_total',
  errors: 'scalectl_errors_total',
  duration: 'scalectl_request_duration_seconds',
  latencyWindow: 'scalectl_latency_window_seconds',
  dropped: 'scalectl_dropped_iterations_total',
  checks: 'scalectl_checks_total',
  offered: 'scalectl_offered_rate',
  achieved: 'scalectl_achieved_rate',
  inFlight: 'scalectl_in_flight',
} as const;

/** Every metric name a remote write may carry, histogram series included. */
export const REMOTE_WRITE_NAMES: readonly string[] = Object.values(REMOTE_WRITE_METRICS).flatMap((n) =>
  n === REMOTE_WRITE_METRICS.duration ? [`${n}_bucket`, `${n}_sum`, `${n}_count`] : [n]);

interface EndpointTotals {
  requests: number;
  errorsByKind: Record<string, number>;
  /** Requests per bucket (not cumulative); the last one is over the highest bound. */
  buckets: number[];
  sumSeconds: number;
}

/** Adds a histogram's values (microseconds) into per-bucket counts, to the histogram's precision. */
function addBuckets(into: number[], h: Histogram): void {
  const it = (h as unknown as { recordedValuesIterator: { reset: () => void; hasNext: () => boolean; next: () => { valueIteratedTo: number; countAtValueIteratedTo: number } } }).recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    const seconds = v.valueIteratedTo / 1e6;
    let i = LATENCY_BUCKETS_SECONDS.findIndex((le) => seconds <= le);
    if (i < 0) i = LATENCY_BUCKETS_SECONDS.length;
    into[i]! += v.countAtValueIteratedTo;
  }
}

/**
 * Turns the run's seconds into remote write series: counters and the
 * histogram cumulative from the run's start (as Prometheus expects of a
 * counter), gauges as they are in each second. Every series carries `job`,
 * `run_id` and `scenario`; request series carry `endpoint`.
 */
export class RemoteWriteSeries {
  private readonly endpoints = new Map<string, EndpointTotals>();
  private dropped = 0;
  private readonly checks = new Map<string, { passes: number; fails: number }>();

  constructor(private readonly base: Readonly<Record<string, string>>) {}

  /** The series of one second, each with one sample at the second's timestamp. */
  next(second: StreamSecond): WriteSeries[] {
    const { sample } = second;
    const out: WriteSeries[] = [];
    const add = (name: string, value: number, labels: Record<string, string> = {}): void => {
      out.push({ labels: { ...this.base, ...labels, __name__: name }, samples: [{ value, timestamp: sample.timestamp }] });
    };
    const M = REMOTE_WRITE_METRICS;
    sample.endpoints.forEach((e, i) => {
      let tot = this.endpoints.get(e.name);
      if (!tot) this.endpoints.set(e.name, (tot = { requests: 0, errorsByKind: {}, buckets: Array<number>(LATENCY_BUCKETS_SECONDS.length + 1).fill(0), sumSeconds: 0 }));
      const hist = second.endpointHists[i];
      tot.requests += e.requests;
      for (const [k, v] of Object.entries(e.errorsByKind)) tot.errorsByKind[k] = (tot.errorsByKind[k] ?? 0) + v;
      if (hist && hist.totalCount > 0) {
        addBuckets(tot.buckets, hist);
        tot.sumSeconds += (hist.mean * hist.totalCount) / 1e6;
      }
      const endpoint = { endpoint: e.name };
      add(M.requests, tot.requests, endpoint);
      for (const [kind, n] of Object.entries(tot.errorsByKind)) add(M.errors, n, { ...endpoint, kind });
      let cumulative = 0;
      LATENCY_BUCKETS_SECONDS.forEach((le, b) => {
        cumulative += tot.buckets[b]!;
        add(`${M.duration}_bucket`, cumulative, { ...endpoint, le: String(le) });
      });
      cumulative += tot.buckets[LATENCY_BUCKETS_SECONDS.length]!;
      add(`${M.duration}_bucket`, cumulative, { ...endpoint, le: '+Inf' });
      add(`${M.duration}_count`, cumulative, endpoint);
      add(`${M.duration}_sum`, tot.sumSeconds, endpoint);
    });
    this.dropped += sample.dropped;
    add(M.dropped, this.dropped);
    for (const [check, c] of Object.entries(sample.checks ?? {})) {
      const tot = this.checks.get(check) ?? { passes: 0, fails: 0 };
      this.checks.set(check, { passes: tot.passes + c.passes, fails: tot.fails + c.fails });
    }
    for (const [check, c] of this.checks) {
      add(M.checks, c.passes, { check, result: 'pass' });
      add(M.checks, c.fails, { check, result: 'fail' });
    }
    add(M.offered, sample.offeredRate);
    add(M.achieved, sample.achievedRate);
    add(M.inFlight, sample.inFlight);
    if (sample.latencyMs.count > 0) {
      const q = sample.latencyMs;
      const byQuantile: Record<string, number> = { '0.5': q.p50, '0.9': q.p90, '0.95': q.p95, '0.99': q.p99, '1': q.max };
      for (const quantile of WINDOW_QUANTILES) add(M.latencyWindow, byQuantile[String(quantile)]! / 1000, { quantile: String(quantile) });
    }
    return out;
  }
}
