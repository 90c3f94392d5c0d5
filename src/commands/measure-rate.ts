import { buildRunResult, type RunResult } from '../analyzers/run-result.js';
import { runLoad } from '../engine/run-load.js';
import type { LoadedScenario } from '../scenarios/load-scenario.js';
import { TelemetryCollector } from '../telemetry/telemetry-collector.js';
import { loadWithTelemetry } from './load-with-telemetry.js';
import type { TelemetryPlan } from '../telemetry/telemetry-plan.js';

export interface MeasureSetup {
  loaded: LoadedScenario;
  target: string;
  /** Extra threshold expressions (--slo), judged like the scenario's own. */
  slos: readonly string[];
  /** Judge the scenario's own thresholds too (default), or only the SLOs. */
  scenarioThresholds: boolean;
  warmupMs: number;
  steadyMs: number;
  workers: number;
  plan?: TelemetryPlan;
  cores: number;
  signal: AbortSignal;
  say: (line: string) => void;
}

/** The scenario at one constant rate for `durationMs`, with the SLOs added to its thresholds. */
function atRate(setup: MeasureSetup, rate: number, durationMs: number, name: string): LoadedScenario {
  const { scenario } = setup.loaded;
  return {
    ...setup.loaded,
    scenario: {
      ...scenario,
      phases: [{ kind: 'arrivalRate', name, durationMs, arrivalRate: rate, rampTo: rate }],
      thresholds: [...(setup.scenarioThresholds ? scenario.thresholds : []), ...setup.slos.map((text) => ({ text, at: ['--slo'] }))],
    },
  };
}

/**
 * One step of the knee search: a warm-up at the rate (not judged), then the
 * steady window, measured with the target's telemetry and followed by a wait
 * for the target's queue to drain, so the next step starts clean. Returns the
 * steady window's RunResult (its thresholds include the SLOs), or undefined
 * when Ctrl-C came during the warm-up.
 */
export async function measureRate(setup: MeasureSetup, rate: number): Promise<RunResult | undefined> {
  const common = { target: setup.target, workers: setup.workers, signal: setup.signal };
  if (setup.warmupMs > 0) await runLoad(atRate(setup, rate, setup.warmupMs, 'warm-up'), { ...common, abortGraceMs: 500 });
  if (setup.signal.aborted) return undefined;
  const steady = atRate(setup, rate, setup.steadyMs, 'steady');
  const { plan } = setup;
  const collector = plan ? new TelemetryCollector(plan.source, { intervalMs: plan.intervalMs, timeoutMs: plan.timeoutMs }) : undefined;
  collector?.start();
  const { data, telemetry } = await loadWithTelemetry(steady, common, plan && collector ? { plan, collector } : undefined, setup.say);
  return buildRunResult(steady, data, { target: setup.target, cores: setup.cores, telemetry });
}
