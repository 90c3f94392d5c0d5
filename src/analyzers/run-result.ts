import { encodeHistogram, newHistogram, summarizeHistogram, type Histogram, type LatencySummary } from '../engine/latency-histogram.js';
import type { MergedFinal, TimeseriesPoint } from '../engine/aggregator.js';
import type { Counts } from '../engine/recorder.js';
import type { ErrorKind, HttpClientUsage } from '../engine/http-exchange.js';
import type { LoadData } from '../engine/run-load.js';
import type { LoadedScenario } from '../scenarios/load-scenario.js';
import { listEndpoints } from '../engine/compiled-scenario.js';
import { listCheckNames, thinkMsOf } from '../scenarios/walk-steps.js';
import { evaluateThresholds, type MeasuredScope, type ThresholdResult } from './thresholds.js';
import { judgeGenerator, type GeneratorHealth } from './generator-health.js';
import type { TelemetryPoint, TelemetrySummary } from './telemetry.js';
import { maskCredentials } from '../shared/mask-credentials.js';
import type { StackSettings } from '../stack/contract.js';
import type { Exemplar } from '../engine/slowest-requests.js';

/** Request statistics of the run or of one endpoint. */
export interface RequestStats {
  requests: number;
  errors: number;
  /** errors / requests, 0..1. */
  errorRate: number;
  /** Requests per second of load (loadDurationSec). */
  rps: number;
  latencyMs: LatencySummary;
  statusCodes: Record<string, number>;
  errorsByKind: Partial<Record<ErrorKind, number>>;
}

export interface FlowResult {
  name: string;
  /** Iterations that ran to the end or to an error. */
  iterations: number;
  /** Scheduled (open model) or begun (closed model). */
  offered: number;
  /** Of those, the open model's arrivals (started or dropped); absent in results from before it existed. */
  arrivals?: number;
  started: number;
  completed: number;
  failed: number;
  dropped: number;
  /** Started but cut off by the end of the run or a signal. */
  interrupted: number;
  /** Iteration duration, milliseconds (from the scheduled start in the open model), think time included. */
  durationMs: LatencySummary;
  /** The flow's think steps added up: milliseconds of each whole iteration spent waiting on purpose (absent in older results). */
  thinkMs?: number;
  /** Encoded HdrHistogram of iteration durations, microseconds. */
  histogram: string;
}

/** How often a check held (passes) and did not (fails). */
export interface CheckTotals {
  passes: number;
  fails: number;
}

/** One check's outcomes over the run (docs/scenarios.md#checks). */
export interface CheckResult extends CheckTotals {
  name: string;
}

/** The machine the generator ran on. */
export interface HostInfo {
  hostname: string;
  /** Platform, kernel release and architecture, e.g. `linux 6.1.0 x64`. */
  os: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  scalectl: string;
}

/** A shard's place in a distributed run (`run --shard I/N`; docs/results.md#shards). */
export interface ShardInfo {
  /** From 1, as on the command line. */
  index: number;
  count: number;
  /** scenarioHash of the scenario and its data files: shards of one run have the same. */
  scenarioHash: string;
  /** The agreed start (`--start-at`), or without one when this shard started, ISO-8601. */
  startAt: string;
  /** How much later than startAt this shard's first phase began, milliseconds. */
  startLateMs: number;
  /** Engine threads of this shard. */
  workers: number;
}

/** The RunResult contract (schemaVersion 1), documented in docs/results.md. */
export interface RunResult {
  schemaVersion: 1;
  scenario: { name: string; file: string };
  target: string;
  startedAt: string;
  endedAt: string;
  durationSec: number;
  /** Seconds of load (the phases, or until a stop), without the drain; every rps is per this. */
  loadDurationSec: number;
  aborted: boolean;
  passed: boolean;
  totals: RequestStats & {
    droppedIterations: number;
    iterations: Omit<FlowResult, 'name' | 'durationMs' | 'histogram'>;
    /** All checks' outcomes added up (absent in results from before checks existed). */
    checks?: CheckTotals;
  };
  endpoints: (RequestStats & { name: string; method: string })[];
  flows: FlowResult[];
  phases: { name: string; kind: string; startSec: number; durationSec: number }[];
  /** Each check's outcomes, in the order first written; [] without checks (absent in results from before checks existed). */
  checks?: CheckResult[];
  /**
   * Per second: the load's figures, and the target's telemetry when collected;
   * in a shard's result also `histogram`, that second's request latencies
   * (encoded like `histograms`), so a merge computes each second's percentiles exactly.
   */
  timeseries: (TimeseriesPoint & Partial<Omit<TelemetryPoint, 't'>> & { histogram?: string })[];
  /** Target telemetry (cache, queue, CPU; docs/telemetry.md); {} when the run collected none. */
  telemetry: TelemetrySummary | Record<string, never>;
  thresholds: ThresholdResult[];
  generator: GeneratorHealth;
  /** The first message seen for each error kind. */
  errorSamples: Partial<Record<ErrorKind, string>>;
  /** Encoded HdrHistograms of request latency (microseconds) per endpoint name; their sum is the run total. */
  histograms: Record<string, string>;
  /**
   * Per endpoint name, its slowest requests sent with a trace id (at most
   * EXEMPLARS_PER_ENDPOINT, slowest first), to look up in a tracing backend;
   * endpoints with none are left out. Absent in results from before it was kept.
   */
  exemplars?: Record<string, Exemplar[]>;
  /** The generator's machine (absent in results from before it was recorded). */
  host?: HostInfo;
  /** With `target: reference`: the settings the stack ran with (docs/reference-stack.md#knobs). */
  stack?: StackSettings;
  /** Only in a shard's result (`run --shard I/N`): which slice of the schedule it ran. */
  shard?: ShardInfo;
  /** Only in a result `scalectl merge` made of shards' results. */
  merged?: { shards: number; scenarioHash: string };
}

const round = (v: number, d = 2): number => Math.round(v * 10 ** d) / 10 ** d;

function requestStats(counts: Counts, latencyMs: LatencySummary, durationSec: number): RequestStats {
  return {
    requests: counts.requests,
    errors: counts.errors,
    errorRate: counts.requests ? round(counts.errors / counts.requests, 6) : 0,
    rps: round(counts.requests / durationSec),
    latencyMs,
    statusCodes: counts.statusCodes,
    errorsByKind: counts.errorsByKind,
  };
}

export interface BuildOptions {
  /** The URL load was sent to; its credentials (`user:pass@`) are masked in the result. */
  target: string;
  /** CPU cores of the generator's machine, for warnings. */
  cores: number;
  /** What the target's metrics showed, when telemetry was collected. */
  telemetry?: { summary: TelemetrySummary; points: TelemetryPoint[] };
  /** The generator's machine. */
  host?: HostInfo;
  /** Thresholds judged besides the scenario's own (defaultThresholdsFor; `run` passes them). */
  defaultThresholds?: readonly string[];
  /** The reference stack's settings, when the run started one. */
  stack?: StackSettings;
  /** This run is one shard of a distributed run; `histograms`: each second's encoded request latencies, by second. */
  shard?: { info: ShardInfo; histograms: ReadonlyMap<number, string> };
}

/** Adds each second's telemetry (the last scrape in that second) to the timeseries point of that second. */
function mergeTimeseries(points: readonly TimeseriesPoint[], telemetry: readonly TelemetryPoint[]): (TimeseriesPoint & Partial<TelemetryPoint>)[] {
  const bySecond = new Map<number, TelemetryPoint>();
  for (const p of telemetry) bySecond.set(p.t, p);
  return points.map((p) => ({ ...bySecond.get(p.t), ...p }));
}

/**
 * What a result's layout needs of its scenario: names in the order the
 * engine indexes its recordings, and the thresholds to judge. A merge reads
 * it back from a shard's result (merge-results.ts).
 */
export interface ResultShape {
  scenario: { name: string; file: string };
  endpoints: readonly { name: string; method: string }[];
  flows: readonly { name: string; thinkMs: number }[];
  checkNames: readonly string[];
  /** The scenario's own thresholds, as written. */
  thresholds: readonly string[];
}

/** The shape of a loaded scenario's results. */
export function shapeOf(loaded: LoadedScenario): ResultShape {
  return {
    scenario: { name: loaded.scenario.name, file: loaded.file },
    endpoints: listEndpoints(loaded.scenario),
    flows: loaded.scenario.flows.map((f) => ({ name: f.name, thinkMs: thinkMsOf(f.steps) })),
    checkNames: listCheckNames(loaded.scenario.flows),
    thresholds: loaded.scenario.thresholds.map((t) => t.text),
  };
}

/** What was recorded, ready to be summarised: one run's LoadData, or shards' results merged. */
export interface RecordedRun {
  startedAt: Date;
  endedAt: Date;
  durationSec: number;
  /** Seconds of load; every rate is per this. */
  loadDurationSec: number;
  aborted: boolean;
  phases: RunResult['phases'];
  timeseries: TimeseriesPoint[];
  final: MergedFinal;
  generator: GeneratorHealth;
}

/** Turns what the engine recorded into the RunResult, thresholds judged. */
export function buildRunResult(loaded: LoadedScenario, data: LoadData, opts: BuildOptions): RunResult {
  const { cores, ...rest } = opts;
  return assembleRunResult(shapeOf(loaded), {
    ...data,
    phases: data.phases.map((p) => ({ name: p.label, kind: p.phase.kind, startSec: p.startMs / 1000, durationSec: p.phase.durationMs / 1000 })),
    generator: judgeGenerator(data.timeseries, { workers: data.workers, maxInFlight: data.maxInFlight, connections: data.connections, connectionsSet: data.connectionsSet, cores }, data.final.iterations.dropped),
  }, rest);
}

/** Summarises a recorded run (one process's, or shards' merged) into the RunResult and judges its thresholds. */
export function assembleRunResult(shape: ResultShape, data: RecordedRun, opts: Omit<BuildOptions, 'cores'>): RunResult {
  // Rates are per second of load; the drain after the last phase would dilute them.
  const { final, loadDurationSec: durationSec } = data;
  const compiledEndpoints = shape.endpoints;
  const totalStats = requestStats(final.total.counts, summarizeHistogram(final.total.hist), durationSec);
  const endpoints = final.endpoints.map((e, i) => ({
    name: compiledEndpoints[i]!.name,
    method: compiledEndpoints[i]!.method,
    ...requestStats(e.counts, summarizeHistogram(e.hist), durationSec),
  }));
  const flows: FlowResult[] = final.flows.map((f, i) => {
    const it = f.iterations;
    const flow = shape.flows[i]!;
    return {
      name: flow.name,
      iterations: it.completed + it.failed,
      ...it,
      interrupted: it.started - it.completed - it.failed,
      durationMs: summarizeHistogram(f.hist),
      thinkMs: flow.thinkMs,
      histogram: encodeHistogram(f.hist),
    };
  });
  const scopes = new Map<string, MeasuredScope>();
  const flowScope = (iterations: number, failed: number, hist: Histogram, latencyMs = summarizeHistogram(hist)): MeasuredScope =>
    ({ samples: iterations, latencyMs, errorRate: iterations ? failed / iterations : 0, rps: iterations / durationSec, hist });
  flows.forEach((f, i) => scopes.set(f.name, flowScope(f.iterations, f.failed, final.flows[i]!.hist, f.durationMs)));
  endpoints.forEach((e, i) => scopes.set(e.name, { samples: e.requests, ...e, hist: final.endpoints[i]!.hist }));
  const it = final.iterations;
  // Every flow's iterations together (k6's iterations and iteration_duration): their histograms merged, never their percentiles averaged.
  const allIterations = newHistogram();
  for (const f of final.flows) allIterations.add(f.hist);
  const total: MeasuredScope = {
    samples: totalStats.requests, ...totalStats, hist: final.total.hist, arrivals: { offered: it.arrivals, dropped: it.dropped },
    iterations: flowScope(it.completed + it.failed, it.failed, allIterations),
  };
  const checkNames = shape.checkNames;
  const checks: CheckResult[] = final.checks.map((c, i) => ({ name: checkNames[i]!, passes: c.passes, fails: c.fails }));
  const checkTotals: CheckTotals = { passes: 0, fails: 0 };
  for (const c of checks) {
    checkTotals.passes += c.passes;
    checkTotals.fails += c.fails;
  }
  const thresholds = evaluateThresholds(shape.thresholds, total, scopes, opts.telemetry?.summary, opts.defaultThresholds,
    { total: checkTotals, byName: new Map(checks.map((c) => [c.name, { passes: c.passes, fails: c.fails }])) });
  return {
    schemaVersion: 1,
    scenario: { ...shape.scenario },
    // The boundary: a result is written to disk and shown in CI, so it never holds the target's credentials.
    target: maskCredentials(opts.target),
    startedAt: data.startedAt.toISOString(),
    endedAt: data.endedAt.toISOString(),
    durationSec: round(data.durationSec, 3),
    loadDurationSec: round(durationSec, 3),
    aborted: data.aborted,
    // A shard judges nothing: its thresholds saw a slice of the load; `passed` says only that it ran to its end.
    passed: !data.aborted && (opts.shard !== undefined || thresholds.every((t) => t.ok)),
    totals: {
      ...totalStats,
      droppedIterations: it.dropped,
      iterations: { iterations: it.completed + it.failed, ...it, interrupted: it.started - it.completed - it.failed },
      checks: checkTotals,
    },
    checks,
    endpoints,
    flows,
    phases: data.phases,
    timeseries: withHistograms(opts.telemetry ? mergeTimeseries(data.timeseries, opts.telemetry.points) : data.timeseries, opts.shard?.histograms),
    telemetry: opts.telemetry?.summary ?? {},
    thresholds,
    generator: withHttpClient(data.generator, final.httpClient),
    errorSamples: Object.fromEntries(Object.entries(final.errorSamples).map(([k, m]) => [k, maskCredentials(m)])),
    histograms: Object.fromEntries(final.endpoints.map((e, i) => [compiledEndpoints[i]!.name, encodeHistogram(e.hist)])),
    exemplars: Object.fromEntries(final.exemplars.flatMap((list, i) => (list.length > 0 ? [[compiledEndpoints[i]!.name, list]] : []))),
    ...(opts.host ? { host: opts.host } : {}),
    ...(opts.stack ? { stack: opts.stack } : {}),
    ...(opts.shard ? { shard: opts.shard.info } : {}),
  };
}

/**
 * The generator's health with the requests by HTTP client path, placed after
 * the connection figures; the reasons masked like error samples (a result
 * never holds credentials). Left out when the recording has none.
 */
function withHttpClient(g: GeneratorHealth, usage: HttpClientUsage | undefined): GeneratorHealth {
  if (!usage) return g;
  const { workers, maxInFlight, connections, connectionWaitSeconds, ...rest } = g;
  const httpClient = { lean: usage.lean, undici: usage.undici, undiciReasons: usage.undiciReasons.map((r) => maskCredentials(r)) };
  return { workers, maxInFlight, connections, connectionWaitSeconds, httpClient, ...rest };
}

/** Each second's histogram added to its point (a shard's result), when given. */
function withHistograms<P extends { t: number }>(points: P[], histograms: ReadonlyMap<number, string> | undefined): (P & { histogram?: string })[] {
  if (!histograms) return points;
  return points.map((p) => {
    const histogram = histograms.get(p.t);
    return histogram === undefined ? p : { ...p, histogram };
  });
}
