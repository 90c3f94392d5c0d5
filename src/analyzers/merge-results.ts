import { Aggregator, mergeFinals } from '../engine/aggregator.js';
import { decodeHistogram, encodeHistogram, newHistogram } from '../engine/latency-histogram.js';
import type { CheckCounts, ShardFinal } from '../engine/recorder.js';
import { MAX_SHARDS } from '../engine/shard-slice.js';
import type { GeneratorHealth, ShardHealth } from './generator-health.js';
import { maskCredentials } from '../shared/mask-credentials.js';
import { echo } from '../shared/printable.js';
import { round } from './numbers.js';
import { shardResultProblem } from './shard-result-problem.js';
import { assembleRunResult, type ResultShape, type RunResult, type ShardInfo } from './run-result.js';
import type { TelemetryPoint, TelemetrySummary } from './telemetry.js';

/** A shard's result and where it was read from (a file, or `pod/<pod>/<container>`), for messages. */
export interface ShardInput {
  source: string;
  result: RunResult;
}

/** Either the merged result, or why the shards cannot be merged (one line). */
export type MergeOutcome = { result: RunResult } | { problem: string };

/** A shard that started this much later than agreed gets a warning: its load is shifted in the merged seconds. */
export const START_LATE_WARNING_MS = 1000;

/**
 * Shards whose starts lie further apart than both of these (a share of the
 * merged load duration, and milliseconds) get a warning: the merged rates are
 * per the merged load duration, from the first start to the last shard's end.
 */
export const START_SPREAD_WARNING = { share: 0.01, minMs: 100 } as const;

type Shard = ShardInput & { info: ShardInfo; startMs: number };

const short = (hash: string): string => `${hash.slice(0, 12)}…`;

/** Most shard numbers an error lists before it counts the rest. */
const LISTED_MAX = 20;

/** "3", "2 and 3", "2, 3 and 4", "2, 3, ..., 21 and 979 more". */
function listed(ns: readonly number[]): string {
  if (ns.length > LISTED_MAX) return `${ns.slice(0, LISTED_MAX).join(', ')} and ${ns.length - LISTED_MAX} more`;
  return ns.length === 1 ? String(ns[0]) : `${ns.slice(0, -1).join(', ')} and ${ns[ns.length - 1]}`;
}

/** A target as one URL, whatever its spelling (case, default port, trailing slash), credentials masked. */
function sameTarget(target: string): string {
  const masked = maskCredentials(target);
  try {
    return new URL(masked).href;
  } catch {
    return masked;
  }
}

/** The inputs as shards of one run, sorted by index, or why they are not. */
function validate(inputs: readonly ShardInput[]): Shard[] | string {
  if (inputs.length === 0) return 'no shard results given';
  const shards: Shard[] = [];
  for (const { source, result } of inputs) {
    if (result.merged) return `${source}: already a merged result (of ${result.merged.shards} shards); merge takes the shards' own results`;
    const info = result.shard;
    if (!info || typeof info !== 'object') return `${source}: not a shard's result (no "shard" key): merge takes the results of scalectl run --shard I/N`;
    for (const key of ['index', 'count'] as const) {
      if (!Number.isInteger(info[key])) return `${source}: shard.${key}: expected a whole number, got ${echo(JSON.stringify(info[key]) ?? 'nothing')}`;
    }
    if (typeof info.scenarioHash !== 'string') return `${source}: shard.scenarioHash: expected a string`;
    if (info.count < 1 || info.count > MAX_SHARDS) return `${source}: shard.count: ${info.count} is not 1 to ${MAX_SHARDS}`;
    if (info.index < 1 || info.index > info.count) return `${source}: shard ${info.index} of ${info.count} is not a shard of ${info.count}`;
    const bad = shardResultProblem(result);
    if (bad) return `${source}: ${bad}`;
    shards.push({ source, result, info, startMs: Date.parse(result.startedAt) });
  }
  const first = shards[0]!;
  for (const s of shards) {
    if (s.info.count !== first.info.count) return `shard ${s.info.index} (${s.source}) is one of ${s.info.count}, shard ${first.info.index} (${first.source}) one of ${first.info.count}: shards of one run have one count`;
    if (s.info.scenarioHash !== first.info.scenarioHash) {
      return `shard ${s.info.index} is of another scenario (hash ${short(s.info.scenarioHash)} in ${s.source}; shard ${first.info.index}'s is ${short(first.info.scenarioHash)} in ${first.source})`;
    }
    // Masked, as results write it: the same target given with other credentials is still the same target.
    const [target, firstTarget] = [maskCredentials(s.result.target), maskCredentials(first.result.target)];
    if (sameTarget(target) !== sameTarget(firstTarget)) {
      return `shard ${s.info.index} ran against another target (${echo(target)} in ${s.source}; shard ${first.info.index}'s is ${echo(firstTarget)} in ${first.source}): shards of one run load one target`;
    }
    const twin = shards.find((o) => o !== s && o.info.index === s.info.index);
    if (twin) return `shard ${s.info.index} given twice (${twin.source} and ${s.source})`;
  }
  const count = first.info.count;
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !shards.some((s) => s.info.index === i));
  if (missing.length) return `missing shard${missing.length > 1 ? 's' : ''} ${listed(missing)} of ${count}`;
  for (const s of shards) {
    const bad = histogramProblem(s.result);
    if (bad) return `${s.source}: ${bad}`;
  }
  return shards.sort((a, b) => a.info.index - b.info.index);
}

/** Why a result's histograms cannot be merged, if they cannot. */
function histogramProblem(r: RunResult): string | undefined {
  const check = (what: string, h: unknown): string | undefined => {
    try {
      if (typeof h !== 'string') throw new Error('not a string');
      decodeHistogram(h);
      return undefined;
    } catch (err) {
      return `${what} not an encoded HdrHistogram (${(err as Error).message})`;
    }
  };
  for (const e of r.endpoints) {
    const h = r.histograms[e.name];
    const bad = h === undefined ? (e.requests > 0 ? 'has no entry' : undefined) : check('is', h);
    if (bad) return `histograms[${JSON.stringify(e.name)}] ${bad}`;
  }
  for (const f of r.flows) {
    const bad = f.histogram === undefined && f.iterations === 0 ? undefined : check('is', f.histogram);
    if (bad) return `flow ${JSON.stringify(f.name)}'s histogram ${bad}`;
  }
  for (const p of r.timeseries) {
    if (p.histogram === undefined) {
      if (p.rps > 0) return `timeseries second ${p.t} has no histogram (shard results carry each second's; was it written by scalectl run --shard?)`;
      continue;
    }
    const bad = check('is', p.histogram);
    if (bad) return `timeseries second ${p.t}'s histogram ${bad}`;
  }
  return undefined;
}

/** Names in the order first seen across the shards. */
function union(lists: readonly (readonly string[])[]): string[] {
  return [...new Set(lists.flat())];
}

/** A record's own entry: an endpoint may be named `constructor` or `__proto__`, which a plain lookup finds on Object.prototype. */
const own = <T>(record: Record<string, T> | undefined, name: string): T | undefined => (record !== undefined && Object.hasOwn(record, name) ? record[name] : undefined);

/** What the engine recorded in one shard, as its result holds it, indexed by the merged names. */
function shardFinal(r: RunResult, endpoints: readonly string[], flows: readonly string[], checks: readonly string[], empty: string, shiftS: number): ShardFinal {
  return {
    endpoints: endpoints.map((name) => {
      const e = r.endpoints.find((x) => x.name === name);
      return {
        counts: { requests: e?.requests ?? 0, errors: e?.errors ?? 0, statusCodes: e?.statusCodes ?? {}, errorsByKind: e?.errorsByKind ?? {} },
        hist: own(r.histograms, name) ?? empty,
      };
    }),
    flows: flows.map((name) => {
      const f = r.flows.find((x) => x.name === name);
      const it = { offered: f?.offered ?? 0, arrivals: f?.arrivals ?? 0, started: f?.started ?? 0, dropped: f?.dropped ?? 0, completed: f?.completed ?? 0, failed: f?.failed ?? 0 };
      return { iterations: it, hist: f?.histogram ?? empty };
    }),
    errorSamples: r.errorSamples,
    checks: checks.map((name): CheckCounts => {
      const c = r.checks?.find((x) => x.name === name);
      return { passes: c?.passes ?? 0, fails: c?.fails ?? 0 };
    }),
    httpClient: r.generator.httpClient,
    // A shard's times count from its own start: moved to the merged run's (`shiftS`, seconds).
    exemplars: endpoints.map((name) => (own(r.exemplars, name) ?? []).map((e) => ({ ...e, atS: round(e.atS + shiftS, 3) }))),
  };
}

/**
 * The shards' seconds on one clock: shard point t lands in merged second
 * floor((its startedAt + t s − the earliest startedAt) / 1 s), and each
 * merged second is closed by the run's own Aggregator (percentiles from the
 * added histograms, counts summed, the busiest generator).
 */
function mergeTimeseries(shards: readonly Shard[], startMs: number, empty: string): RunResult['timeseries'] {
  const agg = new Aggregator(shards.length);
  const reports = shards.flatMap((s) => s.result.timeseries.map((p) => ({ p, second: Math.floor((s.startMs + p.t * 1000 - startMs) / 1000) })));
  for (const { p, second } of reports.sort((a, b) => a.second - b.second)) {
    // The Aggregator reads of a window's iterations only offered, completed + failed and dropped: achievedRps stands for the latter two.
    agg.window({
      second,
      iterations: { offered: p.offeredRps, arrivals: 0, started: 0, dropped: p.dropped, completed: p.achievedRps, failed: 0 },
      counts: { requests: p.rps, errors: p.errors, statusCodes: {}, errorsByKind: p.errorsByKind ?? {} },
      hist: p.histogram ?? empty,
      inFlight: p.inFlight,
      ...(p.checks ? { checks: p.checks } : {}),
    }, p.generator);
  }
  agg.finish();
  return agg.points;
}

/** Keys of a result's timeseries point that belong to the load, not to the target's telemetry. */
const LOAD_KEYS = new Set(['t', 'offeredRps', 'achievedRps', 'rps', 'p50', 'p95', 'p99', 'errors', 'errorsByKind', 'dropped', 'inFlight', 'generator', 'checks', 'histogram']);

/** Shard 1's telemetry (only it collects any), its times moved to the merged clock. */
function shardOneTelemetry(s: Shard, startMs: number): { summary: TelemetrySummary; points: TelemetryPoint[] } | undefined {
  if (!('source' in s.result.telemetry)) return undefined;
  const offset = Math.floor((s.startMs - startMs) / 1000);
  const exact = (t: number): number => round(t + (s.startMs - startMs) / 1000, 2);
  const points = s.result.timeseries.map((p) => ({ ...Object.fromEntries(Object.entries(p).filter(([k]) => !LOAD_KEYS.has(k))), t: p.t + offset }) as TelemetryPoint);
  const summary = s.result.telemetry as TelemetrySummary;
  return {
    summary: {
      ...summary,
      drain: summary.drain && { ...summary.drain, series: summary.drain.series.map((d) => ({ ...d, t: exact(d.t) })) },
      replicas: summary.replicas && { ...summary.replicas, events: summary.replicas.events.map((e) => ({ ...e, t: exact(e.t) })) },
    },
    points,
  };
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** A sentence when the shards' starts spread over more than START_SPREAD_WARNING allows, else undefined. */
function startSpreadWarning(shards: readonly Shard[], loadDurationSec: number): string | undefined {
  const first = shards.reduce((a, b) => (b.startMs < a.startMs ? b : a));
  const last = shards.reduce((a, b) => (b.startMs > a.startMs ? b : a));
  const spreadMs = last.startMs - first.startMs;
  if (spreadMs <= START_SPREAD_WARNING.minMs || spreadMs <= START_SPREAD_WARNING.share * loadDurationSec * 1000) return undefined;
  return `the shards started up to ${round(spreadMs / 1000, 2)} s apart (shard ${first.info.index} first, shard ${last.info.index} last): ` +
    `every rate is per the merged load duration (${round(loadDurationSec, 2)} s, from the first start to the last shard's end), ` +
    `so rates read up to ${round((100 * spreadMs) / (loadDurationSec * 1000), 1)}% below what one process would have measured`;
}

/** Each shard's generator, and the run's: any shard saturated, the worst figures, every warning named by its shard (`spread`: the starts', first). */
function mergeGenerator(shards: readonly Shard[], spread: string | undefined): GeneratorHealth {
  const gs = shards.map((s) => s.result.generator);
  const per: ShardHealth[] = shards.map((s) => ({
    index: s.info.index,
    hostname: s.result.host?.hostname ?? null,
    workers: s.result.generator.workers,
    startLateMs: s.info.startLateMs,
    cpuPercent: s.result.generator.cpuPercent,
    eventLoopLagP99Ms: s.result.generator.eventLoopLagP99Ms,
    scheduleLagP99Ms: s.result.generator.scheduleLagP99Ms,
    saturated: s.result.generator.saturated,
    warnings: s.result.generator.warnings,
  }));
  const late = per.filter((p) => p.startLateMs >= START_LATE_WARNING_MS).map((p) =>
    `shard ${p.index} started ${round(p.startLateMs / 1000, 1)} s after the agreed start (--start-at): its load is that much later in the merged seconds`);
  return {
    workers: gs.reduce((n, g) => n + g.workers, 0),
    maxInFlight: gs.reduce((n, g) => n + g.maxInFlight, 0),
    connections: Math.max(...gs.map((g) => g.connections)),
    connectionWaitSeconds: Math.max(...gs.map((g) => g.connectionWaitSeconds)),
    cpuPercent: { mean: round(mean(gs.map((g) => g.cpuPercent.mean)), 1), max: Math.max(...gs.map((g) => g.cpuPercent.max)) },
    eventLoopUtilization: { mean: round(mean(gs.map((g) => g.eventLoopUtilization.mean)), 3), max: Math.max(...gs.map((g) => g.eventLoopUtilization.max)) },
    eventLoopLagP99Ms: Math.max(...gs.map((g) => g.eventLoopLagP99Ms)),
    scheduleLagP99Ms: Math.max(...gs.map((g) => g.scheduleLagP99Ms)),
    saturated: gs.some((g) => g.saturated),
    warnings: [...late, ...(spread ? [spread] : []), ...per.flatMap((p) => p.warnings.map((w) => `shard ${p.index}: ${w}`))],
    shards: per,
  };
}

/**
 * Merges the results of the N shards of one run (`scalectl run --shard I/N`)
 * into the result one process running the whole schedule would have written:
 * histograms added (percentiles from the sums, never averaged), counters
 * summed, seconds aligned by wall clock, telemetry and phases from shard 1,
 * each shard's generator under `generator.shards`; then the thresholds the
 * shards carry are judged on the merged numbers, by the code `run` judges with.
 */
export function mergeShardResults(inputs: readonly ShardInput[]): MergeOutcome {
  const shards = validate(inputs);
  if (typeof shards === 'string') return { problem: shards };
  const one = shards[0]!.result;
  const empty = encodeHistogram(newHistogram());
  const endpointNames = union(shards.map((s) => s.result.endpoints.map((e) => e.name)));
  const flowNames = union(shards.map((s) => s.result.flows.map((f) => f.name)));
  const checkNames = union(shards.map((s) => (s.result.checks ?? []).map((c) => c.name)));
  const shape: ResultShape = {
    scenario: one.scenario,
    endpoints: endpointNames.map((name) => ({ name, method: shards.flatMap((s) => s.result.endpoints).find((e) => e.name === name)!.method })),
    flows: flowNames.map((name) => ({ name, thinkMs: shards.flatMap((s) => s.result.flows).find((f) => f.name === name)!.thinkMs ?? 0 })),
    checkNames,
    thresholds: one.thresholds.filter((t) => !t.default).map((t) => t.expression),
  };
  const startMs = Math.min(...shards.map((s) => s.startMs));
  const endMs = Math.max(...shards.map((s) => Date.parse(s.result.endedAt)));
  const loadEndMs = Math.max(...shards.map((s) => s.startMs + s.result.loadDurationSec * 1000));
  const loadDurationSec = Math.max(0.001, (loadEndMs - startMs) / 1000);
  const result = assembleRunResult(shape, {
    startedAt: new Date(startMs),
    endedAt: new Date(endMs),
    durationSec: Math.max(0.001, (endMs - startMs) / 1000),
    loadDurationSec,
    aborted: shards.some((s) => s.result.aborted),
    phases: one.phases,
    timeseries: mergeTimeseries(shards, startMs, empty),
    final: mergeFinals(shards.map((s) => shardFinal(s.result, endpointNames, flowNames, checkNames, empty, (s.startMs - startMs) / 1000))),
    generator: mergeGenerator(shards, startSpreadWarning(shards, loadDurationSec)),
  }, {
    target: one.target,
    telemetry: shardOneTelemetry(shards[0]!, startMs),
    defaultThresholds: one.thresholds.filter((t) => t.default).map((t) => t.expression),
    ...(one.stack ? { stack: one.stack } : {}),
  });
  return { result: { ...result, merged: { shards: shards.length, scenarioHash: shards[0]!.info.scenarioHash } } };
}
