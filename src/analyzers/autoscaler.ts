import { plural } from './numbers.js';
import { HPA_DEFAULTS } from '../stack/contract.js';

/** Targets below this are not worth autoscaling on CPU: pre-scale instead. */
export const MIN_USEFUL_TARGET = 0.3;

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
  /** The HPA's sync period, seconds. Default HPA_DEFAULTS.syncSec (15). */
  syncSec?: number;
  /** The HPA acts only when current/target is outside 1 ± this. Default HPA_DEFAULTS.tolerance (0.1). */
  tolerance?: number;
  /**
   * The replica counts whose knees were measured. With fewer than 2 distinct
   * counts the knee per replica elsewhere is extrapolated, and a warning says so.
   * Undefined: unknown, no warning.
   */
  measuredCounts?: readonly number[];
}

export interface HpaPlan {
  /** CPU request to give each pod: what it used at its knee, rounded up to 10 millicores (null: CPU not measured). */
  cpuRequestMillicores: number | null;
  /** averageUtilization for the HPA, percent of the CPU request (null: CPU not measured, or no target can react in time). */
  targetUtilizationPercent: number | null;
  /**
   * The target as a percent of the CPU a replica uses at its knee (floored),
   * also when CPU was not measured; equal to targetUtilizationPercent when it
   * is set (the request is the knee's CPU). Null when no target can react in time.
   */
  kneeTargetPercent: number | null;
  /** False when the surge is too steep for any CPU target even at maxReplicas: pre-scale instead (see `advice`). */
  feasible: boolean;
  /** True when minReplicas === maxReplicas: the HPA never scales, it pins the count. */
  pinned: boolean;
  /** minReplicas, raised when the surge is too steep for the HPA to catch from the autoscaler's floor. */
  minReplicas: number;
  maxReplicas: number;
  /**
   * Pods the HPA may add per 15 s (HPA_DEFAULTS.scaleUpPeriodSec) to keep up with the ramp. When infeasible,
   * the pace with each new replica taking a full knee (a lower bound).
   */
  scaleUpPodsPer15s: number;
  /** What to do, in words with the numbers: the CPU target to set, or why none works and what to do instead. */
  advice: string;
  warnings: string[];
  arithmetic: string[];
}

const f1 = (v: number): string => (Math.round(v * 10) / 10).toString();

/** Utilization at which the HPA must fire when `m` replicas carry the ramp, as a fraction of the knee (negative: no load is early enough). */
function triggerAt(input: HpaInput, m: number, { slope, reactionSec, tolerance }: Surge): number {
  const knee = input.kneePerReplica(m);
  return (knee - (slope * reactionSec) / m) / knee / (1 + tolerance);
}

/** Replica counts to measure around `maxReplicas`, e.g. 10 → 5,10,15. */
function countsAround(maxReplicas: number): string {
  const b = Math.max(2, maxReplicas);
  const a = Math.max(1, Math.floor(b / 2));
  return `${a},${b},${b + (b - a)}`;
}

interface Surge {
  slope: number;
  reactionSec: number;
  syncSec: number;
  tolerance: number;
}

/**
 * Why no CPU target works even at maxReplicas, and what to do instead. Every
 * number in it is non-negative: a gain past the knee is said in words.
 */
function infeasibleAdvice(input: HpaInput, { slope, reactionSec, syncSec, tolerance }: Surge, target: number): string {
  const m = input.maxReplicas;
  const knee = input.kneePerReplica(m);
  const gain = (slope * reactionSec) / m;
  const why = gain >= knee
    ? `more than a replica's knee (${f1(knee)}/s): no CPU target can react in time`
    : `${f1((gain / knee) * 100)}% of a replica's knee (${f1(knee)}/s): the CPU target would have to be ${f1(target * 100)}%, under the ${MIN_USEFUL_TARGET * 100}% worth autoscaling on`;
  // The start-up that would leave the minimum useful target at maxReplicas.
  const startupLimit = ((1 - MIN_USEFUL_TARGET * (1 + tolerance)) * knee * m) / slope - syncSec;
  const shorten = startupLimit >= 1
    ? `or shorten pod start-up to under ${Math.floor(startupLimit)} s`
    : 'shortening pod start-up alone cannot fix it (the sync period is already too long)';
  return `even at maxReplicas ${m} the surge adds ${f1(gain)}/s per replica during the HPA's ${f1(reactionSec)} s reaction ` +
    `(sync ${syncSec} s + pod start-up ${f1(input.podStartupSec)} s), ${why}; ` +
    `pre-scale to ${plural(m, 'replica')} before the sale (pin minReplicas = maxReplicas = ${m}), ${shorten}`;
}

/** Warnings that do not depend on the target: pinned count, one measured count. */
function countWarnings(input: HpaInput, minReplicas: number): string[] {
  const warnings: string[] = [];
  if (minReplicas === input.maxReplicas) {
    warnings.push(`minReplicas = maxReplicas = ${minReplicas}: this HPA never scales, it pins the Deployment at ${plural(minReplicas, 'replica')}`);
  }
  if (input.measuredCounts !== undefined) {
    const distinct = [...new Set(input.measuredCounts)];
    if (distinct.length < 2) {
      const which = distinct.length === 1 ? `only one replica count was measured (${distinct[0]})` : 'no replica count was measured';
      warnings.push(`${which}: the knee per replica at other counts is extrapolated, so the HPA's settings are a guess; ` +
        `measure 2 or more counts around the recommendation (e.g. --replicas ${countsAround(input.maxReplicas)})`);
    }
  }
  return warnings;
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
 * (pre-scale before the sale). When not even maxReplicas leaves 30%, no target
 * is given (right or silent): `feasible` is false and `advice` says to pre-scale.
 */
export function planHpa(input: HpaInput): HpaPlan {
  const slope = Math.max(0, input.peakRate - input.baseRate) / Math.max(1, input.rampSec);
  const syncSec = input.syncSec ?? HPA_DEFAULTS.syncSec;
  const tolerance = input.tolerance ?? HPA_DEFAULTS.tolerance;
  const reactionSec = syncSec + input.podStartupSec;
  const surge: Surge = { slope, reactionSec, syncSec, tolerance };
  const arithmetic = [
    `ramp slope = (peak − base) / ramp = (${f1(input.peakRate)} − ${f1(input.baseRate)}) / ${f1(input.rampSec)} s = ${f1(slope)}/s per s`,
    `reaction = HPA sync ${f1(syncSec)} s + pod start-up ${f1(input.podStartupSec)} s = ${f1(reactionSec)} s`,
  ];
  let minReplicas = input.minReplicas;
  let target = triggerAt(input, minReplicas, surge);
  while (target < MIN_USEFUL_TARGET && minReplicas < input.maxReplicas) target = triggerAt(input, ++minReplicas, surge);
  const feasible = target >= MIN_USEFUL_TARGET;
  const knee = input.kneePerReplica(minReplicas);
  const gain = (slope * reactionSec) / minReplicas;
  arithmetic.push(`during the reaction each of ${plural(minReplicas, 'replica')} gains ${f1(slope)} × ${f1(reactionSec)} / ${minReplicas} = ${f1(gain)}/s`);
  if (gain >= knee) {
    arithmetic.push(`trigger load: the gain ${f1(gain)}/s is at or past the knee ${f1(knee)}/s per replica at ${minReplicas}, so no load is early enough and no target works`);
  } else {
    arithmetic.push(
      `trigger load = knee ${f1(knee)}/s per replica at ${minReplicas} − ${f1(gain)}/s = ${f1(knee - gain)}/s`,
      `target = trigger / knee / (1 + tolerance ${tolerance}) = ${f1(target * 100)}% of the knee's CPU` +
        (feasible ? '' : `, under the ${MIN_USEFUL_TARGET * 100}% worth autoscaling on`),
    );
  }
  const warnings: string[] = [];
  if (feasible && minReplicas > input.minReplicas) {
    warnings.push(`the surge is too steep for the HPA to catch from ${plural(input.minReplicas, 'replica')}: raise minReplicas to ${minReplicas} before the sale (pre-scale to ${plural(minReplicas, 'replica')}); the plan uses ${minReplicas}`);
  }
  // New replicas settle at the target's share of the knee, so each takes knee × target of the ramp;
  // with no target, a full knee each gives the least pace that could keep up.
  const share = feasible ? target : 1;
  const period = HPA_DEFAULTS.scaleUpPeriodSec;
  const scaleUpPodsPer15s = Math.max(1, Math.ceil((slope * period) / (knee * share)));
  if (feasible) {
    arithmetic.push(`scale-up pace: ${f1(slope)}/s per s × ${period} s / (${f1(knee)}/s × ${f1(target * 100)}%) per new replica → at least ${scaleUpPodsPer15s} pod(s) per ${period} s`);
  }
  let cpuRequestMillicores: number | null = null;
  let targetUtilizationPercent: number | null = null;
  let advice: string;
  const measuredCpu = input.cpuAtKneePercent !== null && input.cpuAtKneePercent > 0 ? input.cpuAtKneePercent : null;
  if (measuredCpu !== null) {
    // Percent of a core is tens of millicores: 37.3% → 373m → 380m.
    cpuRequestMillicores = Math.ceil(measuredCpu) * 10;
    arithmetic.push(`CPU request = CPU at the knee ${f1(measuredCpu)}% of a core → ${cpuRequestMillicores}m`);
  }
  if (!feasible) {
    advice = infeasibleAdvice(input, surge, target);
    warnings.push(advice);
  } else if (measuredCpu !== null) {
    targetUtilizationPercent = Math.floor(target * 100);
    arithmetic.push(`averageUtilization = floor(${f1(target * 100)}%) = ${targetUtilizationPercent}%`);
    advice = `set the CPU request to ${cpuRequestMillicores}m and the HPA's target averageUtilization to ${targetUtilizationPercent}% ` +
      `(minReplicas ${minReplicas}, maxReplicas ${input.maxReplicas}): scale-up then starts in time for the surge`;
  } else {
    advice = `a CPU target of ${Math.floor(target * 100)}% of what a replica uses at its knee would start scale-up in time ` +
      `(minReplicas ${minReplicas}, maxReplicas ${input.maxReplicas}), but CPU was not measured: collect telemetry to set the request and target`;
    warnings.push('no CPU was measured at the knee (no telemetry): the CPU request and target are not set');
  }
  warnings.push(...countWarnings(input, minReplicas));
  return {
    cpuRequestMillicores, targetUtilizationPercent, kneeTargetPercent: feasible ? Math.floor(target * 100) : null, feasible, pinned: minReplicas === input.maxReplicas,
    minReplicas, maxReplicas: input.maxReplicas, scaleUpPodsPer15s, advice, warnings, arithmetic,
  };
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
