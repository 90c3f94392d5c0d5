import { encodeHistogram, newHistogram, recordMs, type Histogram } from './latency-histogram.js';
import type { ErrorKind, HttpClientUsage } from './http-exchange.js';
import { SlowestRequests, type Exemplar } from './slowest-requests.js';

/** Request counters; merged by adding. */
export interface Counts {
  requests: number;
  errors: number;
  statusCodes: Record<string, number>;
  errorsByKind: Partial<Record<ErrorKind, number>>;
}

export function emptyCounts(): Counts {
  return { requests: 0, errors: 0, statusCodes: {}, errorsByKind: {} };
}

export function addCounts(into: Counts, from: Counts): void {
  into.requests += from.requests;
  into.errors += from.errors;
  for (const [k, v] of Object.entries(from.statusCodes)) into.statusCodes[k] = (into.statusCodes[k] ?? 0) + v;
  for (const [k, v] of Object.entries(from.errorsByKind) as [ErrorKind, number][]) into.errorsByKind[k] = (into.errorsByKind[k] ?? 0) + v;
}

/** Iteration counters of a flow (or of the whole run). */
export interface IterationCounts {
  /** Scheduled (open model) or begun (closed model). */
  offered: number;
  /** Of those, the open model's arrivals (started or dropped): what dropped_rate divides by. */
  arrivals: number;
  started: number;
  /** Not started because the in-flight cap was reached. */
  dropped: number;
  completed: number;
  /** Ended early by an error. */
  failed: number;
}

export function emptyIterations(): IterationCounts {
  return { offered: 0, arrivals: 0, started: 0, dropped: 0, completed: 0, failed: 0 };
}

export function addIterations(into: IterationCounts, from: IterationCounts): void {
  into.offered += from.offered;
  into.arrivals += from.arrivals;
  into.started += from.started;
  into.dropped += from.dropped;
  into.completed += from.completed;
  into.failed += from.failed;
}

/** Outcomes of one check (or of all). */
export interface CheckCounts {
  passes: number;
  fails: number;
}

/** Serialisable stats: counters plus an encoded HdrHistogram of latency (microseconds). */
export interface EncodedStats {
  counts: Counts;
  hist: string;
}

/** One second of one shard's recording. */
export interface WindowReport {
  /** Whole seconds since the run start. */
  second: number;
  iterations: IterationCounts;
  counts: Counts;
  /** Request latency within this second. */
  hist: string;
  /** Iterations in flight at the end of the second. */
  inFlight: number;
  /** Check outcomes in this second by check name; absent when the scenario has no checks. */
  checks?: Record<string, CheckCounts>;
  /** Per endpoint index, the endpoints with requests in this second: only when asked for (Recorder's endpointWindows). */
  endpoints?: Record<number, EncodedStats>;
}

/** Everything one shard recorded over the run. Run totals are sums of these (mergeFinals). */
export interface ShardFinal {
  endpoints: EncodedStats[];
  flows: { iterations: IterationCounts; hist: string }[];
  /** First message seen for each error kind, to help diagnose. */
  errorSamples: Partial<Record<ErrorKind, string>>;
  /** Check outcomes by index into the compiled scenario's check names (the same in every shard). */
  checks: CheckCounts[];
  /**
   * Requests sent by each HTTP client path (HttpClient.usage()). An engine
   * always reports it; a merge reads it back from a shard's result, where a
   * result written before it was recorded has none.
   */
  httpClient?: HttpClientUsage;
  /**
   * Per endpoint index, its slowest requests that carried a trace id, slowest
   * first; `atS` from the run start. Absent in a shard's result from before it was kept.
   */
  exemplars?: Exemplar[][];
}

class Stats {
  counts = emptyCounts();
  hist = newHistogram();

  record(latencyMs: number, status: number | undefined, error: ErrorKind | undefined): void {
    const c = this.counts;
    c.requests++;
    if (status !== undefined) c.statusCodes[status] = (c.statusCodes[status] ?? 0) + 1;
    if (error !== undefined) {
      c.errors++;
      c.errorsByKind[error] = (c.errorsByKind[error] ?? 0) + 1;
    }
    recordMs(this.hist, latencyMs);
  }

  encode(): EncodedStats {
    return { counts: this.counts, hist: encodeHistogram(this.hist) };
  }
}

/**
 * Records every request and iteration of one shard: cumulative stats per
 * endpoint and per flow, plus a rolling one-second window. The run's totals
 * are not kept here: they are exact sums of the endpoints and flows, so the
 * send path records each request into two histograms, not three.
 */
export class Recorder {
  private readonly endpoints: Stats[];
  private readonly flowHists: Histogram[];
  private readonly flowIterations: IterationCounts[];
  private window = new Stats();
  private windowIterations = emptyIterations();
  private readonly errorSamples: Partial<Record<ErrorKind, string>> = {};
  private readonly checks: CheckCounts[];
  private windowChecks: CheckCounts[];
  /** This second's requests per endpoint index, kept only for live streams (a run without them pays nothing). */
  private readonly endpointWindows: Map<number, Stats> | undefined;
  private readonly slowest: SlowestRequests[];
  /** The run's start on the engine's clock, milliseconds: exemplars' times count from it. */
  private readonly runStart: number;
  /** Iterations started and not yet finished. */
  inFlight = 0;

  constructor(endpointCount: number, flowCount: number, private readonly checkNames: readonly string[] = [], opts: { endpointWindows?: boolean; runStart?: number } = {}) {
    this.runStart = opts.runStart ?? 0;
    this.slowest = Array.from({ length: endpointCount }, () => new SlowestRequests());
    this.checks = checkNames.map(() => ({ passes: 0, fails: 0 }));
    this.windowChecks = checkNames.map(() => ({ passes: 0, fails: 0 }));
    this.endpointWindows = opts.endpointWindows ? new Map() : undefined;
    this.endpoints = Array.from({ length: endpointCount }, () => new Stats());
    this.flowHists = Array.from({ length: flowCount }, () => newHistogram());
    this.flowIterations = Array.from({ length: flowCount }, () => emptyIterations());
  }

  request(endpoint: number, latencyMs: number, status: number | undefined, error?: ErrorKind, message?: string): void {
    this.endpoints[endpoint]!.record(latencyMs, status, error);
    this.window.record(latencyMs, status, error);
    if (this.endpointWindows) {
      let w = this.endpointWindows.get(endpoint);
      if (!w) this.endpointWindows.set(endpoint, (w = new Stats()));
      w.record(latencyMs, status, error);
    }
    if (error !== undefined && message !== undefined && this.errorSamples[error] === undefined) this.errorSamples[error] = message;
  }

  /** Whether a request this slow would be kept among its endpoint's slowest. */
  slowEnough(endpoint: number, latencyMs: number): boolean {
    return this.slowest[endpoint]!.beats(latencyMs);
  }

  /** A request sent with a trace id, offered to its endpoint's slowest (`sentAt`: when its latency began, engine clock). */
  traced(endpoint: number, latencyMs: number, sentAt: number, traceId: string, status: number | undefined, error: ErrorKind | undefined): void {
    this.slowest[endpoint]!.offer(latencyMs, traceId, (sentAt - this.runStart) / 1000, status, error);
  }

  /** A closed-model iteration begun by a virtual user: offered, never an arrival (it cannot be dropped). */
  offered(flow: number): void {
    this.flowIterations[flow]!.offered++;
    this.windowIterations.offered++;
  }

  /** Open-model arrivals due (to be started or dropped): offered, and counted as arrivals for dropped_rate. */
  arrived(flow: number, n = 1): void {
    const f = this.flowIterations[flow]!;
    f.offered += n;
    f.arrivals += n;
    this.windowIterations.offered += n;
    this.windowIterations.arrivals += n;
  }

  /** Arrivals not started (the in-flight cap was reached): counted, nothing else kept. */
  dropped(flow: number, n = 1): void {
    this.flowIterations[flow]!.dropped += n;
    this.windowIterations.dropped += n;
  }

  started(flow: number): void {
    this.flowIterations[flow]!.started++;
    this.windowIterations.started++;
    this.inFlight++;
  }

  finished(flow: number, durationMs: number, ok: boolean): void {
    const key = ok ? 'completed' : 'failed';
    this.flowIterations[flow]![key]++;
    this.windowIterations[key]++;
    this.inFlight--;
    recordMs(this.flowHists[flow]!, durationMs);
  }

  /** An iteration cut short by the end of the run or a stop: no longer in flight, neither completed nor failed. */
  interrupted(): void {
    this.inFlight--;
  }

  /** A check was evaluated (index into the check names). */
  check(index: number, pass: boolean): void {
    const key = pass ? 'passes' : 'fails';
    this.checks[index]![key]++;
    this.windowChecks[index]![key]++;
  }

  /** A template failed at run time; the iteration fails with nothing sent (see finished). */
  templateFailed(message: string): void {
    this.errorSamples.template ??= message;
  }

  /** Closes the current one-second window and starts the next. */
  flushWindow(second: number): WindowReport {
    const report: WindowReport = {
      second,
      iterations: this.windowIterations,
      counts: this.window.counts,
      hist: encodeHistogram(this.window.hist),
      inFlight: this.inFlight,
    };
    if (this.checkNames.length > 0) {
      report.checks = Object.fromEntries(this.checkNames.map((n, i) => [n, this.windowChecks[i]!]));
      this.windowChecks = this.checkNames.map(() => ({ passes: 0, fails: 0 }));
    }
    if (this.endpointWindows) {
      // Each endpoint keeps its window's histogram from second to second (reset, not made anew).
      const used = [...this.endpointWindows].filter(([, w]) => w.counts.requests > 0);
      report.endpoints = Object.fromEntries(used.map(([i, w]) => [i, w.encode()]));
      for (const [, w] of used) {
        w.counts = emptyCounts();
        w.hist.reset();
      }
    }
    this.window.counts = emptyCounts();
    this.window.hist.reset();
    this.windowIterations = emptyIterations();
    return report;
  }

  /** A snapshot: later recording (there should be none) cannot change it. */
  final(): ShardFinal {
    return structuredClone({
      endpoints: this.endpoints.map((s) => s.encode()),
      flows: this.flowHists.map((h, i) => ({ iterations: this.flowIterations[i]!, hist: encodeHistogram(h) })),
      errorSamples: this.errorSamples,
      checks: this.checks,
      exemplars: this.slowest.map((s) => s.list()),
    });
  }
}

/**
 * True for an engine's last window (closed by the end of its run) that opened
 * at or after the schedule's end (`scheduleEndMs`, from the run start) and
 * saw nothing: no request, no iteration offered, started, ended or dropped,
 * none in flight, no check. Whether such a second exists at all depends only
 * on whether the engine's window timer fired just before the end of the
 * schedule or just after; left out, one process and two workers (or N shards)
 * give the same seconds. The first second is never idle: a run has one.
 */
export function isIdleTail(report: WindowReport, scheduleEndMs: number): boolean {
  if (report.second === 0 || report.second * 1000 < scheduleEndMs || report.inFlight > 0 || report.counts.requests > 0) return false;
  if (Object.values(report.iterations).some((n) => n > 0)) return false;
  return Object.values(report.checks ?? {}).every((c) => c.passes + c.fails === 0);
}
