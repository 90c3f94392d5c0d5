import { buildRunResult } from '../analyzers/run-result.js';
import { runLoad } from '../engine/run-load.js';
import type { LoadedScenario } from '../scenarios/load-scenario.js';
import { TelemetryCollector } from '../telemetry/telemetry-collector.js';
import type { TelemetryPlan } from '../telemetry/telemetry-plan.js';
import { loadWithTelemetry } from '../telemetry/load-with-telemetry.js';
import type { StepPurpose } from './knee-search.js';
import { zForLooks } from './tail-evidence.js';
import { judgeStep, secondCounts, type MeasuredWindow, type SecondCounts, type StepVerdict, type TailCriterion } from './step-verdict.js';
import { printable } from '../shared/printable.js';

export interface MeasureSetup {
  loaded: LoadedScenario;
  target: string;
  /** Extra threshold expressions (--slo), judged like the scenario's own. */
  slos: readonly string[];
  /** Judge the scenario's own thresholds too (default), or only the SLOs. */
  scenarioThresholds: boolean;
  warmupMs: number;
  /** One measured window. */
  steadyMs: number;
  /** Measure at most this long at one rate: windows are added while the verdict is undecided. */
  maxSteadyMs: number;
  workers: number;
  plan?: TelemetryPlan;
  cores: number;
  replicas: number;
  /** The tail criteria among the thresholds and SLOs (judged by counting samples). */
  criteria: readonly TailCriterion[];
  signal: AbortSignal;
  /** Progress, one line per window. */
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

/** One measured window at the rate, with telemetry and a wait for the queue to drain; undefined when stopped. */
async function measureWindow(setup: MeasureSetup, rate: number, limitsMs: readonly number[]): Promise<MeasuredWindow | undefined> {
  const steady = atRate(setup, rate, setup.steadyMs, 'steady');
  const { plan } = setup;
  const collector = plan ? new TelemetryCollector(plan.source, { intervalMs: plan.intervalMs, timeoutMs: plan.timeoutMs }) : undefined;
  collector?.start();
  const seconds: SecondCounts[] = [];
  // Each second's answers past each latency limit, counted as the second closes: the batches that show bursts.
  const onPoint: Parameters<typeof runLoad>[1]['onPoint'] = (point, _live, hist) => {
    seconds.push(secondCounts(point, hist, limitsMs));
  };
  const common = { target: setup.target, workers: setup.workers, signal: setup.signal };
  const { data, telemetry } = await loadWithTelemetry(steady, { ...common, onPoint }, plan && collector ? { plan, collector } : undefined, () => undefined);
  if (data.aborted) return undefined;
  return { result: buildRunResult(steady, data, { target: setup.target, cores: setup.cores, telemetry }), seconds };
}

/**
 * One step of the knee search: a warm-up at the rate (not judged; skipped
 * when the step repeats the rate just measured), then measured windows, each
 * followed by a wait for the target's queue to drain. While the tail criteria
 * are undecided another window is added, up to maxSteadyMs. Returns undefined
 * when Ctrl-C came before the step could be judged.
 */
export async function measureStep(setup: MeasureSetup, rate: number, purpose: StepPurpose, warmup: boolean): Promise<StepVerdict | undefined> {
  const started = Date.now();
  if (warmup && setup.warmupMs > 0) {
    await runLoad(atRate(setup, rate, setup.warmupMs, 'warm-up'), { target: setup.target, workers: setup.workers, signal: setup.signal, abortGraceMs: 500 });
  }
  const limitsMs = [...new Set(setup.criteria.filter((c) => c.kind === 'latency' && c.scope === undefined).map((c) => c.limitMs))];
  const windows: MeasuredWindow[] = [];
  // Up to this many looks at the evidence: each is judged at a stricter z, so the step keeps 95%.
  const z = zForLooks(Math.max(1, Math.floor(setup.maxSteadyMs / setup.steadyMs)));
  for (let measured = 0; measured < setup.maxSteadyMs && !setup.signal.aborted; measured += setup.steadyMs) {
    const window = await measureWindow(setup, rate, limitsMs);
    if (!window) return undefined;
    windows.push(window);
    const v = judgeStep(windows, rate, setup.replicas, purpose, setup.criteria, z);
    // More samples where the verdict steers the search: an undecided probe that leans to pass is
    // taken as it leans (a higher rate is tried next anyway); a lean to fail, or a bracket step, is measured on.
    const settled = v.verdict !== 'undecided' || (purpose === 'probe' && v.passed);
    if (settled || measured + 2 * setup.steadyMs > setup.maxSteadyMs) {
      return { ...v, elapsedSec: Math.round((Date.now() - started) / 100) / 10 };
    }
    // The reasons name every open question: undecided tail criteria, and a throughput just short of the line.
    setup.say(`    after ${v.measuredSec} s: ${printable(v.reasons.join('; '))}; measuring another ${setup.steadyMs / 1000} s`);
  }
  return undefined;
}
