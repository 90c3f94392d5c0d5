/** The HorizontalPodAutoscaler's defaults (kube-controller-manager). */
export const HPA = {
  /** It acts only when current/target is outside 1 ± this. */
  tolerance: 0.1,
  /** --horizontal-pod-autoscaler-sync-period. */
  syncSec: 15,
} as const;

/** Targets below this are not worth autoscaling on CPU: pre-scale instead. */
const MIN_USEFUL_TARGET = 0.3;

export interface HpaInput {
  /** Throughput one replica sustains at its knee when m replicas run (the model's X(m) / m), iterations per second. */
  kneePerReplica: (m: number) => number;
  /** CPU one replica used at its knee, percent of one core (null: not measured). */
  cpuAtKneePercent: number | null;
  minReplicas: number;
  maxReplicas: number;
  /** Rate before the surge and at its peak, iterations per second. */
  baseRate: number;
  peakRate: number;
  /** How long the surge takes to climb from base to peak, seconds. */
  rampSec: number;
  /** From scheduling to ready, seconds. */
  podStartupSec: number;
}

export interface HpaPlan {
  /** CPU request to give each pod: what it used at its knee, rounded up to 10 millicores. */
  cpuRequestMillicores: number | null;
  /** averageUtilization for the HPA, percent of the CPU request. */
  targetUtilizationPercent: number | null;
  /** minReplicas, raised when the surge is too steep for the HPA to catch from the autoscaler's floor. */
  minReplicas: number;
  maxReplicas: number;
  /** Pods the HPA may add per 15 s to keep up with the ramp. */
  scaleUpPodsPer15s: number;
  warnings: string[];
  arithmetic: string[];
}

const f1 = (v: number): string => (Math.round(v * 10) / 10).toString();

/** Utilization at which the HPA must fire when `m` replicas carry the ramp, as a fraction of the knee. */
function triggerAt(input: HpaInput, m: number, slope: number, reactionSec: number): number {
  const knee = input.kneePerReplica(m);
  return (knee - (slope * reactionSec) / m) / knee / (1 + HPA.tolerance);
}

/**
 * Where to set the HPA's CPU target so that scale-up starts before a replica
 * passes its knee. CPU is taken as proportional to load, so the knee's CPU is
 * 100% of a request set to it. While the HPA reacts (one sync period plus pod
 * start-up) the ramp adds slope × reaction time to the load, spread over the
 * replicas running; the HPA acts only past target × (1 + tolerance). So
 * target = (knee − slope × reaction / replicas) / knee / (1 + tolerance),
 * taken at minReplicas, where the surge starts. When that leaves less than 30%
 * the surge is too steep to chase, and minReplicas is raised until it is not
 * (pre-scale before the sale).
 */
export function planHpa(input: HpaInput): HpaPlan {
  const slope = Math.max(0, input.peakRate - input.baseRate) / Math.max(1, input.rampSec);
  const reactionSec = HPA.syncSec + input.podStartupSec;
  const arithmetic = [
    `ramp slope = (peak − base) / ramp = (${f1(input.peakRate)} − ${f1(input.baseRate)}) / ${f1(input.rampSec)} s = ${f1(slope)}/s per s`,
    `reaction = HPA sync ${HPA.syncSec} s + pod start-up ${f1(input.podStartupSec)} s = ${f1(reactionSec)} s`,
  ];
  const warnings: string[] = [];
  let minReplicas = input.minReplicas;
  let target = triggerAt(input, minReplicas, slope, reactionSec);
  while (target < MIN_USEFUL_TARGET && minReplicas < input.maxReplicas) target = triggerAt(input, ++minReplicas, slope, reactionSec);
  if (minReplicas > input.minReplicas) {
    warnings.push(`the surge is too steep for the HPA to catch from ${input.minReplicas} replicas; minReplicas raised to ${minReplicas} (or scale up before the sale)`);
  }
  const knee = input.kneePerReplica(minReplicas);
  arithmetic.push(
    `during the reaction each of ${minReplicas} replica${minReplicas > 1 ? 's' : ''} gains ${f1(slope)} × ${f1(reactionSec)} / ${minReplicas} = ${f1((slope * reactionSec) / minReplicas)}/s`,
    `trigger load = knee ${f1(knee)}/s per replica at ${minReplicas} − ${f1((slope * reactionSec) / minReplicas)}/s = ${f1(knee - (slope * reactionSec) / minReplicas)}/s`,
    `target = trigger / knee / (1 + tolerance ${HPA.tolerance}) = ${f1(target * 100)}% of the knee's CPU`,
  );
  if (target < MIN_USEFUL_TARGET) {
    warnings.push(`even at ${minReplicas} replicas the HPA cannot react in time (target ${f1(target * 100)}%): run maxReplicas from the start of the sale`);
    target = MIN_USEFUL_TARGET;
  }
  // New replicas settle at the target's share of the knee, so each takes knee × target of the ramp.
  const scaleUpPodsPer15s = Math.max(1, Math.ceil((slope * HPA.syncSec) / (knee * target)));
  arithmetic.push(`scale-up pace: ${f1(slope)}/s per s × ${HPA.syncSec} s / (${f1(knee)}/s × ${f1(target * 100)}%) per new replica → at least ${scaleUpPodsPer15s} pod(s) per ${HPA.syncSec} s`);
  let cpuRequestMillicores: number | null = null;
  let targetUtilizationPercent: number | null = null;
  if (input.cpuAtKneePercent !== null && input.cpuAtKneePercent > 0) {
    // Percent of a core is tens of millicores: 37.3% → 373m → 380m.
    cpuRequestMillicores = Math.ceil(input.cpuAtKneePercent) * 10;
    targetUtilizationPercent = Math.floor(target * 100);
    arithmetic.push(`CPU request = CPU at the knee ${f1(input.cpuAtKneePercent)}% of a core → ${cpuRequestMillicores}m; averageUtilization ${targetUtilizationPercent}%`);
  } else {
    warnings.push('no CPU was measured at the knee (no telemetry): the CPU request and target are not set');
  }
  return { cpuRequestMillicores, targetUtilizationPercent, minReplicas, maxReplicas: input.maxReplicas, scaleUpPodsPer15s, warnings, arithmetic };
}

export interface KedaInput {
  /** Seconds one consumer replica takes per job (its concurrency included), measured or given. */
  secondsPerJob: number | null;
  /** How long a job may wait in the queue, seconds. */
  acceptableWaitSec: number;
  /** Jobs per second at the peak. */
  peakJobRate: number;
  headroom: number;
}

export interface KedaPlan {
  /** listLength for the redis trigger: backlog one replica may hold (null: time per job unknown). */
  listLengthPerReplica: number | null;
  /** Consumer replicas for the peak's job rate with headroom. */
  replicas: number | null;
  warnings: string[];
  arithmetic: string[];
}

/** KEDA's queue target: acceptable backlog per replica = acceptable wait ÷ time per job. */
export function planKeda(input: KedaInput): KedaPlan {
  if (input.secondsPerJob === null || !(input.secondsPerJob > 0)) {
    return { listLengthPerReplica: null, replicas: null, arithmetic: [], warnings: ['the time per job was not measured (the queue never backed up); give --job-time to size the queue consumers'] };
  }
  const s = input.secondsPerJob;
  const listLengthPerReplica = Math.max(1, Math.floor(input.acceptableWaitSec / s));
  const replicas = Math.max(1, Math.ceil(input.peakJobRate * s * (1 + input.headroom)));
  return {
    listLengthPerReplica,
    replicas,
    warnings: [],
    arithmetic: [
      `backlog per replica = acceptable wait / time per job = ${f1(input.acceptableWaitSec)} s / ${(s * 1000).toFixed(1)} ms = ${listLengthPerReplica} jobs`,
      `consumers = peak jobs ${f1(input.peakJobRate)}/s × ${(s * 1000).toFixed(1)} ms × ${f1(1 + input.headroom)} = ${replicas}`,
    ],
  };
}
