import { performance } from 'node:perf_hooks';
import { Aggregator, mergeFinals } from '../../src/engine/aggregator.js';
import { EngineShard } from '../../src/engine/engine-shard.js';
import { encodeHistogram } from '../../src/engine/latency-histogram.js';
import { defaultConnections, defaultMaxInFlight } from '../../src/engine/run-load.js';
import { hostInfo } from '../../src/commands/host-info.js';
import { buildRunResult, type RunResult } from '../../src/analyzers/run-result.js';
import { defaultThresholdsFor } from '../../src/analyzers/thresholds.js';
import type { LoadedScenario } from '../../src/scenarios/load-scenario.js';
import { schedulePhases } from '../../src/scenarios/schedule.js';

/**
 * The results N shards of a run write (`run --shard I/N`, one worker each),
 * made in this process: the N engine shards run at once against `target`,
 * shard i taking the engine's interleaved slice i of N, and each result is
 * built by buildRunResult with its `shard` key and per-second histograms.
 * TODO(issue 15): run `scalectl run --shard` instead once it exists.
 */
export async function runShardsInProcess(loaded: LoadedScenario, target: string, count: number, scenarioHash: string): Promise<RunResult[]> {
  const phases = schedulePhases(loaded.scenario.phases);
  const totalMs = phases[phases.length - 1]!.endMs;
  const startAtEpochMs = performance.timeOrigin + performance.now() + 50;
  const connections = defaultConnections(loaded, 1);
  const maxInFlight = Math.max(1, Math.floor(defaultMaxInFlight(loaded) / count));
  return Promise.all(Array.from({ length: count }, async (_, i) => {
    const hists = new Map<number, string>();
    const agg = new Aggregator(1, (p, _live, hist) => hists.set(p.t, encodeHistogram(hist)));
    const shard = new EngineShard(loaded, {
      target, shardIndex: i, shardCount: count, startAtEpochMs, maxInFlight, connections, gracefulStopMs: 5000, abortGraceMs: 1000, onWindow: (r, m) => agg.window(r, m),
    });
    const final = await shard.run();
    agg.finish();
    const endedAt = performance.timeOrigin + performance.now();
    const result = buildRunResult(loaded, {
      startedAt: new Date(startAtEpochMs), endedAt: new Date(endedAt), durationSec: (endedAt - startAtEpochMs) / 1000,
      loadDurationSec: Math.min(endedAt - startAtEpochMs, totalMs) / 1000, aborted: false, phases, workers: 1, maxInFlight, connections,
      connectionsSet: false, timeseries: agg.points, final: mergeFinals([final]),
    }, { target, cores: 2, defaultThresholds: defaultThresholdsFor(loaded.scenario), host: { ...hostInfo(), hostname: `shard-${i + 1}-pod` } });
    return {
      ...result,
      shard: { index: i + 1, count, scenarioHash, startAt: new Date(startAtEpochMs).toISOString(), startLateMs: 0, workers: 1 },
      timeseries: result.timeseries.map((p) => ({ ...p, histogram: hists.get(p.t)! })),
    };
  }));
}
