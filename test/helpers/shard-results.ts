import { performance } from 'node:perf_hooks';
import { encodeHistogram } from '../../src/engine/latency-histogram.js';
import { runLoad } from '../../src/engine/run-load.js';
import { hostInfo } from '../../src/commands/host-info.js';
import { shardInfoOf } from '../../src/commands/run-shard.js';
import { buildRunResult, type RunResult } from '../../src/analyzers/run-result.js';
import { defaultThresholdsFor } from '../../src/analyzers/thresholds.js';
import type { LoadedScenario } from '../../src/scenarios/load-scenario.js';

/**
 * The results N shards of a run write (`run --shard I/N`, one worker each),
 * made in this process by the code `run` uses: the N shards run at once
 * against `target` from one agreed start, and each result carries its
 * `shard` key and per-second histograms. Each claims its own host name.
 */
export async function runShardsInProcess(loaded: LoadedScenario, target: string, count: number): Promise<RunResult[]> {
  const startAtEpochMs = performance.timeOrigin + performance.now() + 100;
  return Promise.all(Array.from({ length: count }, async (_, index) => {
    const shard = { index, count };
    const histograms = new Map<number, string>();
    const data = await runLoad(loaded, { target, workers: 1, shard, startAtEpochMs, onPoint: (p, _live, hist) => histograms.set(p.t, encodeHistogram(hist)) });
    return buildRunResult(loaded, data, {
      target, cores: 2, defaultThresholds: defaultThresholdsFor(loaded.scenario), host: { ...hostInfo(), hostname: `shard-${index + 1}-pod` },
      shard: { info: shardInfoOf(shard, loaded, data, startAtEpochMs), histograms },
    });
  }));
}
