import type { HpaPlan, KedaPlan } from '../analyzers/autoscaler.js';
import { HPA_DEFAULTS } from '../stack/contract.js';
import type { Phase } from '../scenarios/schema.js';
import type { AutoscalerSettings } from './autoscaler-settings.js';
import { simulateSurge, type ConsumerSurgeSettings, type SurgePhase, type SurgePrediction, type WebSurgeSettings } from './surge-simulation.js';

/** The surge simulated: the scenario's phases, or one built from the plan's rates. */
export interface SurgeProfile {
  phases: SurgePhase[];
  profile: 'scenario' | 'plan';
}

/** The scenario's phases as the surge to simulate: open-model ramps, pauses at 0, closed-model phases marked. */
export function scenarioSurgeProfile(phases: readonly Phase[]): SurgeProfile {
  return {
    profile: 'scenario',
    phases: phases.map((p): SurgePhase => p.kind === 'vus' ? { kind: 'closed', durationSec: p.durationMs / 1000 }
      : p.kind === 'pause' ? { kind: 'open', durationSec: p.durationMs / 1000, fromRate: 0, toRate: 0 }
      : { kind: 'open', durationSec: p.durationMs / 1000, fromRate: p.arrivalRate, toRate: p.rampTo }),
  };
}

/**
 * The surge the plan's rates describe, when flags changed the scenario's
 * (--base-rate, --surge, --peak-rps, --ramp): the base rate for two sync
 * periods (at least 30 s), the ramp to the peak over `rampSec`, then the peak
 * for two reactions (sync + start-up; at least 60 s), so that the last
 * replicas the ramp asked for are ready before it ends.
 */
export function planSurgeProfile(rates: { baseRate: number; peakRate: number; rampSec: number }, a: AutoscalerSettings): SurgeProfile {
  return {
    profile: 'plan',
    phases: [
      { kind: 'open', durationSec: Math.max(30, 2 * a.syncSec), fromRate: rates.baseRate, toRate: rates.baseRate },
      { kind: 'open', durationSec: rates.rampSec, fromRate: rates.baseRate, toRate: rates.peakRate },
      { kind: 'open', durationSec: Math.ceil(Math.max(60, 2 * (a.syncSec + a.podStartupSec))), fromRate: rates.peakRate, toRate: rates.peakRate },
    ],
  };
}

export interface SurgePlanInput {
  hpa: HpaPlan;
  keda: (KedaPlan & { secondsPerJob: number | null; jobsPerIteration: number | null }) | null;
  kneePerReplica: (m: number) => number;
  /** CPU one replica used at its knee, percent of one core (null: not measured). */
  cpuAtKneePercent: number | null;
  autoscaler: AutoscalerSettings;
  surge: SurgeProfile;
  /** How long a job may wait in the queue, seconds. */
  queueWaitSec: number;
}

/** The HPA settings to simulate: the recommended ones, the knee's share when CPU was not measured, or the pinned count when no target reacts in time. */
function webSettings(input: SurgePlanInput, notes: string[]): WebSurgeSettings {
  const { hpa } = input;
  const request = hpa.cpuRequestMillicores;
  const cpu = request !== null && input.cpuAtKneePercent !== null
    ? { cpuAtKneeOverRequest: (input.cpuAtKneePercent * 10) / request, utilizationCap: 1000 / request, cpuRequestMillicores: request }
    : { cpuAtKneeOverRequest: 1, utilizationCap: null, cpuRequestMillicores: null };
  if (hpa.feasible === false || hpa.kneeTargetPercent === null) {
    notes.push(`no CPU target can react in time: simulated pinned at ${hpa.maxReplicas} replicas, as the advice says`);
    return { minReplicas: hpa.maxReplicas, maxReplicas: hpa.maxReplicas, targetUtilization: 1, ...cpu };
  }
  if (hpa.targetUtilizationPercent === null || cpu.cpuRequestMillicores === null) {
    notes.push(`CPU was not measured: simulated with the plan's target of ${hpa.kneeTargetPercent}% of what a replica uses at its knee, CPU taken as proportional to load`);
    return { minReplicas: hpa.minReplicas, maxReplicas: hpa.maxReplicas, targetUtilization: hpa.kneeTargetPercent / 100, ...cpu };
  }
  return { minReplicas: hpa.minReplicas, maxReplicas: hpa.maxReplicas, targetUtilization: hpa.targetUtilizationPercent / 100, ...cpu };
}

/** The KEDA settings to simulate, when the queue was sized (1 consumer at least, as the emitted ScaledObject says). */
function consumerSettings(input: SurgePlanInput): ConsumerSurgeSettings | null {
  const k = input.keda;
  if (!k || k.listLengthPerReplica === null || k.replicas === null || !k.secondsPerJob || k.jobsPerIteration === null) return null;
  return {
    minReplicas: 1, maxReplicas: Math.max(1, k.replicas), listLength: k.listLengthPerReplica,
    secondsPerJob: k.secondsPerJob, jobsPerIteration: k.jobsPerIteration, acceptableWaitSec: input.queueWaitSec,
  };
}

/**
 * The HPA's Pods policy to recommend: the pods the ramp needs per scale-up
 * period (the plan's pace per 15 s, scaled to the period) or the target's
 * own policy, whichever is larger, so that the plan's pace never lowers
 * Kubernetes' default of 4. One decision: the surge is simulated with it and
 * hpa.yaml writes it (both read `plan.surge.settings.autoscaler.scaleUpPods`).
 */
export function recommendedScaleUpPods(autoscaler: AutoscalerSettings, hpa: Pick<HpaPlan, 'scaleUpPodsPer15s'>): number {
  const pace = Math.ceil((hpa.scaleUpPodsPer15s * autoscaler.scaleUpPeriodSec) / HPA_DEFAULTS.scaleUpPeriodSec);
  return Math.max(autoscaler.scaleUpPods, pace);
}

/**
 * The autoscaler the plan recommends: the target's timings with the Pods
 * policy raised to the ramp's pace, said in a note when raised. A pinned
 * count never scales, so it keeps the target's policy.
 */
function recommendedAutoscaler(input: SurgePlanInput, web: WebSurgeSettings, notes: string[]): AutoscalerSettings {
  const a = input.autoscaler;
  if (web.minReplicas >= web.maxReplicas) return a;
  const pods = recommendedScaleUpPods(a, input.hpa);
  if (pods === a.scaleUpPods) return a;
  const stack = a.source === 'reference stack' ? `; the reference stack runs ${a.scaleUpPods} unless its scaleUpPods is set to ${pods}` : '';
  notes.push(`the HPA's Pods policy is raised from ${a.scaleUpPods} to ${pods} pods per ${a.scaleUpPeriodSec} s, the pace the ramp needs (hpa.yaml says the same)${stack}`);
  return { ...a, scaleUpPods: pods };
}

/** The surge prediction for a recommended plan (capacity.json `plan.surge`): its `settings` are the autoscalers to apply. */
export function predictSurge(input: SurgePlanInput): SurgePrediction {
  const notes: string[] = [];
  if (input.surge.profile === 'plan') notes.push("the surge was built from the plan's rates (base, ramp, peak), since flags changed the scenario's");
  const web = webSettings(input, notes);
  const autoscaler = recommendedAutoscaler(input, web, notes);
  return simulateSurge({
    phases: input.surge.phases, profile: input.surge.profile, autoscaler, web,
    kneePerReplica: input.kneePerReplica, consumer: consumerSettings(input), notes,
  });
}
