import { analyzeTelemetry, type TelemetryPoint, type TelemetrySummary } from '../analyzers/telemetry.js';
import { runLoad, type LoadData, type LoadOptions } from '../engine/run-load.js';
import type { LoadedScenario } from '../scenarios/load-scenario.js';
import { afterLoad } from './after-load.js';
import type { TelemetryCollector } from './telemetry-collector.js';
import type { TelemetryPlan } from './telemetry-plan.js';

/**
 * Runs the load while `collector` (already started) watches the target, then
 * waits for the target's queue to drain, stops the collector and analyses
 * what it saw. A Ctrl-C during the drain marks the load aborted, like one
 * during the load: not judged.
 */
export async function loadWithTelemetry(
  loaded: LoadedScenario,
  opts: LoadOptions & { signal: AbortSignal },
  watch: { plan: TelemetryPlan; collector: TelemetryCollector } | undefined,
  say: (line: string) => void,
): Promise<{ data: LoadData; telemetry?: { summary: TelemetrySummary; points: TelemetryPoint[] } }> {
  let loadData: LoadData;
  let recording;
  try {
    loadData = await runLoad(loaded, opts);
    if (watch && !loadData.aborted) await afterLoad(watch.collector, watch.plan, opts.signal, say);
  } finally {
    recording = await watch?.collector.stop();
  }
  const data = { ...loadData, aborted: loadData.aborted || opts.signal.aborted };
  const telemetry = recording && watch ? analyzeTelemetry(recording, {
    startedAt: data.startedAt.getTime(), loadDurationSec: data.loadDurationSec, signals: watch.plan.signals, quiet: watch.plan.quiet, custom: watch.plan.custom,
  }) : undefined;
  return { data, telemetry };
}
