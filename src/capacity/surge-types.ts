import type { AutoscalerSettings } from './autoscaler-settings.js';

/** One phase of the surge: an open-model rate ramp (a pause is 0 → 0), or a closed-model phase the prediction cannot follow. */
export type SurgePhase =
  | { kind: 'open'; durationSec: number; /** Iterations per second at the phase's start and end (linear between). */ fromRate: number; toRate: number }
  | { kind: 'closed'; durationSec: number };

/** The HPA part of the prediction: the recommended settings, and how CPU follows load. */
export interface WebSurgeSettings {
  minReplicas: number;
  maxReplicas: number;
  /** averageUtilization, a fraction of the CPU request (0.8 for 80%). */
  targetUtilization: number;
  /** CPU one replica uses at its knee over its request: 1 when the request is the knee's CPU (slightly under when rounded up). */
  cpuAtKneeOverRequest: number;
  /** Highest utilization a replica can show: one core (1000m) over its request; null when the request is unknown. */
  utilizationCap: number | null;
  /** The CPU request, millicores (null: not measured: utilization is then a share of the knee's CPU). */
  cpuRequestMillicores: number | null;
}

/** The KEDA part: queue consumers scaled on the backlog. */
export interface ConsumerSurgeSettings {
  /** At least 1. */
  minReplicas: number;
  maxReplicas: number;
  /** Backlog one replica may hold (the redis trigger's listLength), jobs. */
  listLength: number;
  /** Seconds one consumer replica spends per job. */
  secondsPerJob: number;
  /** Jobs each flow iteration makes. */
  jobsPerIteration: number;
  /** Longest acceptable wait in the queue, seconds. */
  acceptableWaitSec: number;
}

/** What simulateSurge needs: the surge, the autoscalers' settings and the capacity model. */
export interface SurgeInput {
  phases: readonly SurgePhase[];
  /** Where the phases came from: the scenario's, or a surge built from the plan's rates (flags changed them). */
  profile: 'scenario' | 'plan';
  autoscaler: AutoscalerSettings;
  web: WebSurgeSettings;
  /** Iterations per second one replica sustains within the SLOs when m run: measured where measured, else the model's X(m) / m. */
  kneePerReplica: (m: number) => number;
  consumer?: ConsumerSurgeSettings | null;
  /** Said with the prediction (e.g. CPU not measured). */
  notes?: readonly string[];
}

export interface ReplicaCounts {
  ready: number;
  starting: number;
  /** What the autoscaler last asked for. */
  desired: number;
}

/** One second of the surge, [t, t + 1). */
export interface SurgeSecond {
  /** Seconds since the load's start. */
  t: number;
  /** Iterations per second offered (the mean over the second). */
  rate: number;
  web: ReplicaCounts;
  /** Iterations per second each ready replica carries. */
  loadPerReplica: number;
  /** What each carries at its knee at this ready count. */
  kneePerReplica: number;
  /** Each ready replica's CPU, a fraction of its request. */
  utilization: number;
  /** Queue consumers and the backlog at the end of the second (jobs). */
  consumer?: ReplicaCounts & { backlog: number };
}

export type SurgeRole = 'web' | 'consumer';

export interface ScaleEvent {
  role: SurgeRole;
  /** The sync (web) or poll (consumer) that decided it, seconds since the load's start. */
  t: number;
  from: number;
  to: number;
  /** When the new replicas take traffic or jobs (= t for a scale-down). */
  readyAt: number;
}

export interface Breach {
  role: SurgeRole;
  /** First second of the breach, and the end of its last second. */
  fromSec: number;
  toSec: number;
  /** web: the highest load per replica over the knee (1.6 = 160% of it); consumer: the longest expected wait, seconds. */
  worst: number;
}

/** When web breaches: the smallest minReplicas and the highest target for which the same simulation has no breach (null: none does). */
export interface SurgeAdvice {
  minReplicas: number | null;
  /** Percent, like the recommended target; a multiple of 5 from 30 up to under the recommended. */
  targetUtilizationPercent: number | null;
}

/** capacity.json `plan.surge`: the surge second by second under the recommended autoscaler settings (docs/capacity.md). */
export interface SurgePrediction {
  /** False when a closed-model phase makes the arrival rate unknowable (then `seconds` is empty). */
  applies: boolean;
  profile: SurgeInput['profile'];
  /** The surge simulated, phase by phase: what `capacity --verify` replays. */
  phases: SurgePhase[];
  settings: { autoscaler: AutoscalerSettings; web: WebSurgeSettings; consumer: ConsumerSurgeSettings | null };
  seconds: SurgeSecond[];
  scaleEvents: ScaleEvent[];
  breaches: Breach[];
  /** The prediction in one sentence, with its numbers. */
  sentence: string;
  advice: SurgeAdvice | null;
  notes: string[];
}

/** The simulation's raw output, before the words. */
export interface SurgeTimeline {
  seconds: SurgeSecond[];
  scaleEvents: ScaleEvent[];
  breaches: Breach[];
}
