import { decodeHistogram, newHistogram, type Histogram } from './latency-histogram.js';
import { addCounts, addIterations, emptyCounts, emptyIterations, type CheckCounts, type Counts, type IterationCounts, type ShardFinal, type WindowReport } from './recorder.js';
import { MAX_FALLBACK_REASONS, type ErrorKind, type HttpClientUsage } from './http-exchange.js';
import type { MonitorSample } from './self-monitor.js';
import { SlowestRequests, type Exemplar } from './slowest-requests.js';

/** One second of the run, all shards merged. */
export interface TimeseriesPoint {
  /** Seconds since the run start (the second [t, t+1)). */
  t: number;
  /** Iterations scheduled (open model) or begun (closed model) in this second: the load offered, so not only arrivals. */
  offeredRps: number;
  /** Iterations that finished (completed or failed) in this second. */
  achievedRps: number;
  /** Requests that finished in this second. */
  rps: number;
  /** Request latency of this second, milliseconds. */
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  /** Those errors by kind (kinds with none are left out; absent in results from before it existed). */
  errorsByKind?: Partial<Record<ErrorKind, number>>;
  dropped: number;
  inFlight: number;
  /** The generator's own load: worst engine thread (connection queues: all threads). */
  generator: MonitorSample;
  /** Check outcomes in this second by check name; absent when the scenario has no checks. */
  checks?: Record<string, CheckCounts>;
}

/** Cumulative view for live progress. */
export interface LiveTotals {
  requests: number;
  errors: number;
  dropped: number;
  /** Request latency over the run so far, milliseconds. */
  p99: number;
}

/** What a closing second carries beyond its point, for live streams. */
export interface PointDetail {
  /** Per endpoint index, the endpoints with requests in this second (only when the run asked for endpoint windows). */
  endpoints?: ReadonlyMap<number, { counts: Counts; hist: Histogram }>;
}

/** Everything the shards recorded, merged exactly (histograms added, never averaged). */
export interface MergedFinal {
  total: { counts: Counts; hist: Histogram };
  endpoints: { counts: Counts; hist: Histogram }[];
  flows: { iterations: IterationCounts; hist: Histogram }[];
  iterations: IterationCounts;
  errorSamples: Partial<Record<ErrorKind, string>>;
  /** Check outcomes by index into the check names. */
  checks: CheckCounts[];
  /** Requests sent by each HTTP client path; undefined when a shard did not record it (a result from before it existed). */
  httpClient: HttpClientUsage | undefined;
  /** Per endpoint index, the slowest traced requests of all shards (the top K of theirs), slowest first. */
  exemplars: Exemplar[][];
}

/** Adds check counts by name into `into`. */
function addChecks(into: Record<string, CheckCounts>, from: Record<string, CheckCounts>): void {
  for (const [name, c] of Object.entries(from)) {
    const t = (into[name] ??= { passes: 0, fails: 0 });
    t.passes += c.passes;
    t.fails += c.fails;
  }
}

const ms = (us: number): number => Math.round(us) / 1000;

function worst(samples: MonitorSample[]): MonitorSample {
  return {
    elu: Math.max(...samples.map((s) => s.elu)),
    loopLagP99Ms: Math.max(...samples.map((s) => s.loopLagP99Ms)),
    loopLagMaxMs: Math.max(...samples.map((s) => s.loopLagMaxMs)),
    scheduleLagP99Ms: Math.max(...samples.map((s) => s.scheduleLagP99Ms)),
    // Process-wide already: every thread reads the same process counter.
    cpuPercent: Math.max(...samples.map((s) => s.cpuPercent)),
    windowMs: Math.min(...samples.map((s) => s.windowMs)),
    connectionQueue: samples.reduce((n, s) => n + s.connectionQueue, 0),
  };
}

/** Merges shards' one-second windows into the run's time series as they arrive. */
export class Aggregator {
  readonly points: TimeseriesPoint[] = [];
  readonly live: LiveTotals = { requests: 0, errors: 0, dropped: 0, p99: 0 };
  private readonly pending = new Map<number, { reports: WindowReport[]; monitors: MonitorSample[] }>();
  private readonly runHist = newHistogram();

  constructor(
    private readonly shardCount: number,
    private readonly onPoint: (p: TimeseriesPoint, live: LiveTotals, hist: Histogram, detail: PointDetail) => void = () => {},
  ) {}

  window(report: WindowReport, monitor: MonitorSample): void {
    let slot = this.pending.get(report.second);
    if (!slot) this.pending.set(report.second, (slot = { reports: [], monitors: [] }));
    slot.reports.push(report);
    slot.monitors.push(monitor);
    if (slot.reports.length === this.shardCount) this.close(report.second);
  }

  /** Closes seconds some shard never reported (it stopped early). */
  finish(): void {
    for (const second of [...this.pending.keys()].sort((a, b) => a - b)) this.close(second);
  }

  private close(second: number): void {
    const slot = this.pending.get(second)!;
    this.pending.delete(second);
    const hist = newHistogram();
    const counts = emptyCounts();
    const it = emptyIterations();
    let inFlight = 0;
    let checks: Record<string, CheckCounts> | undefined;
    for (const r of slot.reports) {
      hist.add(decodeHistogram(r.hist));
      addCounts(counts, r.counts);
      addIterations(it, r.iterations);
      inFlight += r.inFlight;
      if (r.checks) addChecks((checks ??= {}), r.checks);
    }
    this.runHist.add(hist);
    const empty = hist.totalCount === 0;
    const point: TimeseriesPoint = {
      t: second,
      offeredRps: it.offered,
      achievedRps: it.completed + it.failed,
      rps: counts.requests,
      p50: empty ? 0 : ms(hist.getValueAtPercentile(50)),
      p95: empty ? 0 : ms(hist.getValueAtPercentile(95)),
      p99: empty ? 0 : ms(hist.getValueAtPercentile(99)),
      errors: counts.errors,
      errorsByKind: counts.errorsByKind,
      dropped: it.dropped,
      inFlight,
      generator: worst(slot.monitors),
      ...(checks ? { checks } : {}),
    };
    this.points.push(point);
    this.points.sort((a, b) => a.t - b.t);
    this.live.requests += counts.requests;
    this.live.errors += counts.errors;
    this.live.dropped += it.dropped;
    this.live.p99 = this.runHist.totalCount ? ms(this.runHist.getValueAtPercentile(99)) : 0;
    this.onPoint(point, this.live, hist, { endpoints: mergeEndpointWindows(slot.reports) });
  }
}

/** The shards' per-endpoint windows of one second, added up; undefined when none were recorded. */
function mergeEndpointWindows(reports: readonly WindowReport[]): PointDetail['endpoints'] {
  if (reports.every((r) => r.endpoints === undefined)) return undefined;
  const merged = new Map<number, { counts: Counts; hist: Histogram }>();
  for (const r of reports) {
    for (const [i, e] of Object.entries(r.endpoints ?? {})) {
      let m = merged.get(Number(i));
      if (!m) merged.set(Number(i), (m = { counts: emptyCounts(), hist: newHistogram() }));
      addCounts(m.counts, e.counts);
      m.hist.add(decodeHistogram(e.hist));
    }
  }
  return merged;
}

/**
 * The shards' requests by HTTP client path: counts added, reasons unioned in
 * the order first seen (at most MAX_FALLBACK_REASONS); undefined when any
 * shard did not record its own (a part would be taken for the whole).
 */
function mergeHttpClientUsage(usages: readonly (HttpClientUsage | undefined)[]): HttpClientUsage | undefined {
  const merged: HttpClientUsage = { lean: 0, undici: 0, undiciReasons: [] };
  const reasons = new Set<string>();
  for (const u of usages) {
    if (!u) return undefined;
    merged.lean += u.lean;
    merged.undici += u.undici;
    for (const r of u.undiciReasons) if (reasons.size < MAX_FALLBACK_REASONS) reasons.add(r);
  }
  merged.undiciReasons = [...reasons];
  return merged;
}

/** Adds up the shards' final recordings. */
export function mergeFinals(finals: readonly ShardFinal[]): MergedFinal {
  const first = finals[0]!;
  const merged: MergedFinal = {
    total: { counts: emptyCounts(), hist: newHistogram() },
    endpoints: first.endpoints.map(() => ({ counts: emptyCounts(), hist: newHistogram() })),
    flows: first.flows.map(() => ({ iterations: emptyIterations(), hist: newHistogram() })),
    iterations: emptyIterations(),
    errorSamples: {},
    checks: first.checks.map(() => ({ passes: 0, fails: 0 })),
    httpClient: mergeHttpClientUsage(finals.map((f) => f.httpClient)),
    exemplars: first.endpoints.map((_, i) => SlowestRequests.merge(finals.map((f) => f.exemplars?.[i]))),
  };
  for (const f of finals) {
    f.endpoints.forEach((e, i) => {
      addCounts(merged.endpoints[i]!.counts, e.counts);
      merged.endpoints[i]!.hist.add(decodeHistogram(e.hist));
    });
    f.flows.forEach((fl, i) => {
      addIterations(merged.flows[i]!.iterations, fl.iterations);
      merged.flows[i]!.hist.add(decodeHistogram(fl.hist));
    });
    merged.errorSamples = { ...f.errorSamples, ...merged.errorSamples };
    f.checks.forEach((c, i) => {
      merged.checks[i]!.passes += c.passes;
      merged.checks[i]!.fails += c.fails;
    });
  }
  // The run's totals are the exact sums of its endpoints and flows.
  for (const e of merged.endpoints) {
    addCounts(merged.total.counts, e.counts);
    merged.total.hist.add(e.hist);
  }
  for (const fl of merged.flows) addIterations(merged.iterations, fl.iterations);
  return merged;
}
