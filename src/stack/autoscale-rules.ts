/*
 * The autoscalers' decision rules, as Kubernetes' HorizontalPodAutoscaler
 * (kube-controller-manager's replica calculator and its `behavior`) and
 * KEDA's ScaledObject make them. Pure: the reference stack's controllers
 * (src/stack/autoscale-controller.ts) run them on what they measure, and
 * `scalectl capacity` runs the very same rules on what its model predicts
 * (src/capacity/surge-simulation.ts), so that a gap between prediction and
 * reality is about the model, never about two implementations drifting.
 * Times are in seconds on any monotonic clock.
 */

/** Kubernetes' defaults (autoscaling/v2 `behavior`, kube-controller-manager flags). */
export const HPA_DEFAULTS = {
  /** --horizontal-pod-autoscaler-sync-period. */
  syncSec: 15,
  /** --horizontal-pod-autoscaler-tolerance: no action while current/target is within 1 ± this. */
  tolerance: 0.1,
  /** behavior.scaleDown.stabilizationWindowSeconds. */
  scaleDownWindowSec: 300,
  /** behavior.scaleUp.policies: 4 pods or 100% per 15 s, whichever adds more (selectPolicy Max). */
  scaleUpPods: 4,
  scaleUpPercent: 100,
  scaleUpPeriodSec: 15,
  /** behavior.scaleDown.policies: 100% per 15 s. */
  scaleDownPercent: 100,
  scaleDownPeriodSec: 15,
} as const;

/** KEDA's defaults (ScaledObject). */
export const KEDA_DEFAULTS = {
  /** pollingInterval. */
  pollingSec: 30,
  /** cooldownPeriod. */
  cooldownSec: 300,
  /** The redis trigger's listLength: backlog one replica may hold. */
  listLength: 5,
} as const;

export interface HpaRules {
  minReplicas: number;
  maxReplicas: number;
  /** averageUtilization, as a fraction of the CPU request (0.8 for 80%). */
  targetUtilization: number;
  tolerance: number;
  scaleDownWindowSec: number;
  scaleUpPods: number;
  scaleUpPercent: number;
  scaleUpPeriodSec: number;
  scaleDownPercent: number;
  scaleDownPeriodSec: number;
}

/** What the controller remembers between syncs: its recent recommendations and scaling events. */
export interface ScalerMemory {
  recommendations: { at: number; replicas: number }[];
  /** Replicas added (positive) or removed (negative) at `at`. */
  events: { at: number; change: number }[];
}

export const emptyMemory = (): ScalerMemory => ({ recommendations: [], events: [] });

export interface HpaObservation {
  now: number;
  /** Ready pods' CPU utilization, each a fraction of its request (0.92 for 92%). */
  readyUtilization: readonly number[];
  /** Pods created but not ready yet (starting up). */
  starting: number;
}

export interface ScalingDecision {
  /** Replicas before: ready + starting. */
  current: number;
  /** What the metric asks for, before stabilisation and rate limits. */
  raw: number;
  /** After stabilisation, the scale-up/down policies and the bounds: the count to run. */
  desired: number;
  /** The metric the decision was made on: average utilization (a fraction), or the backlog. */
  metric: number;
  /** How the numbers led to `desired`, for the log (`kubectl describe hpa` events). */
  reason: string;
  memory: ScalerMemory;
}

const pct = (v: number): string => `${Math.round(v * 100)}%`;
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
/**
 * ceil() of a replica count computed in floating point: 1.6 / 0.8 × 1 is
 * 2.0000000000000004, which must stay 2 (Kubernetes computes utilization in
 * whole percents, where it is exactly 2), so errors under 1e-9 are dropped.
 */
const ceilCount = (v: number): number => Math.ceil(v - 1e-9);

/**
 * The replica calculator's answer for a CPU utilization target. The usage
 * ratio is the ready pods' mean utilization over the target; within the
 * tolerance nothing changes. When scaling up, pods still starting count as
 * using 0% (they will take load once ready), and if that brings the ratio
 * back under 1 + tolerance, nothing changes; when scaling down, they are left
 * out. desired = ceil(ratio × pods counted).
 */
export function hpaRawReplicas(rules: Pick<HpaRules, 'targetUtilization' | 'tolerance'>, obs: HpaObservation): { raw: number; utilization: number; why: string } {
  const ready = obs.readyUtilization.length;
  const current = ready + obs.starting;
  if (ready === 0) return { raw: current, utilization: 0, why: 'no ready pod to measure: no change' };
  const sum = obs.readyUtilization.reduce((a, b) => a + b, 0);
  const mean = sum / ready;
  const ratio = mean / rules.targetUtilization;
  if (Math.abs(ratio - 1) <= rules.tolerance && obs.starting === 0) {
    return { raw: current, utilization: mean, why: `CPU ${pct(mean)} of request against a target of ${pct(rules.targetUtilization)}: within the ${pct(rules.tolerance)} tolerance` };
  }
  if (ratio > 1 && obs.starting > 0) {
    const spread = sum / current / rules.targetUtilization;
    if (spread <= 1 + rules.tolerance) {
      return { raw: current, utilization: mean, why: `CPU ${pct(mean)} of request over ${ready} ready, but ${obs.starting} starting (counted at 0%) bring it to ${pct(sum / current)}: within the tolerance of the ${pct(rules.targetUtilization)} target` };
    }
    const raw = ceilCount(spread * current);
    return { raw, utilization: mean, why: `ceil(${current} × ${pct(sum / current)} / ${pct(rules.targetUtilization)}) = ${raw} (CPU ${pct(mean)} over ${ready} ready; ${obs.starting} starting counted at 0%)` };
  }
  if (Math.abs(ratio - 1) <= rules.tolerance) {
    return { raw: current, utilization: mean, why: `CPU ${pct(mean)} of request against a target of ${pct(rules.targetUtilization)}: within the ${pct(rules.tolerance)} tolerance` };
  }
  const raw = ceilCount(ratio * ready);
  return { raw, utilization: mean, why: `ceil(${ready} × ${pct(mean)} / ${pct(rules.targetUtilization)}) = ${raw}` };
}

/**
 * Stabilisation and rate limits (the HPA's `behavior`): scale-down follows
 * the highest recommendation of the last `scaleDownWindowSec`; scale-up may
 * add at most max(pods, percent) per period, counted from the replicas at the
 * period's start; scale-down may remove at most `scaleDownPercent` per period;
 * then min and max bound the result.
 */
export function applyBehavior(rules: HpaRules, memory: ScalerMemory, now: number, current: number, raw: number): { desired: number; why: string; memory: ScalerMemory } {
  const recommendations = [...memory.recommendations.filter((r) => r.at > now - rules.scaleDownWindowSec), { at: now, replicas: raw }];
  const events = memory.events.filter((e) => e.at > now - Math.max(rules.scaleUpPeriodSec, rules.scaleDownPeriodSec));
  const notes: string[] = [];
  let desired = raw;
  if (raw < current) {
    const highest = Math.max(...recommendations.map((r) => r.replicas));
    if (highest > raw) {
      desired = Math.min(current, highest);
      notes.push(`held at ${desired} by the ${rules.scaleDownWindowSec} s scale-down stabilisation window (highest recommendation ${highest})`);
    }
  }
  if (desired > current) {
    const added = events.filter((e) => e.at > now - rules.scaleUpPeriodSec && e.change > 0).reduce((a, e) => a + e.change, 0);
    const base = current - added;
    const limit = Math.max(base + rules.scaleUpPods, Math.ceil(base * (1 + rules.scaleUpPercent / 100)));
    if (desired > limit) {
      notes.push(`scale-up limited to ${limit} (${rules.scaleUpPods} pods or ${rules.scaleUpPercent}% per ${rules.scaleUpPeriodSec} s from ${base})`);
      desired = Math.max(current, limit);
    }
  } else if (desired < current) {
    const removed = events.filter((e) => e.at > now - rules.scaleDownPeriodSec && e.change < 0).reduce((a, e) => a - e.change, 0);
    const base = current + removed;
    const limit = Math.floor(base * (1 - rules.scaleDownPercent / 100));
    if (desired < limit) {
      notes.push(`scale-down limited to ${limit} (${rules.scaleDownPercent}% per ${rules.scaleDownPeriodSec} s from ${base})`);
      desired = Math.min(current, limit);
    }
  }
  const bounded = clamp(desired, rules.minReplicas, rules.maxReplicas);
  if (bounded !== desired) notes.push(`bounded to ${bounded} by ${bounded === rules.minReplicas ? `minReplicas ${rules.minReplicas}` : `maxReplicas ${rules.maxReplicas}`}`);
  const change = bounded - current;
  return {
    desired: bounded,
    why: notes.join('; '),
    memory: { recommendations, events: change === 0 ? events : [...events, { at: now, change }] },
  };
}

/** One HPA sync: the replica calculator, then `behavior` and the bounds. */
export function hpaSync(rules: HpaRules, memory: ScalerMemory, obs: HpaObservation): ScalingDecision {
  const current = obs.readyUtilization.length + obs.starting;
  const calc = hpaRawReplicas(rules, obs);
  const b = applyBehavior(rules, memory, obs.now, current, calc.raw);
  return { current, raw: calc.raw, desired: b.desired, metric: calc.utilization, reason: [calc.why, b.why].filter(Boolean).join('; '), memory: b.memory };
}

export interface KedaRules {
  minReplicas: number;
  maxReplicas: number;
  /** Backlog one replica may hold (the redis trigger's listLength). */
  listLength: number;
  cooldownSec: number;
}

/**
 * One KEDA poll on a queue: desired = ceil(backlog / listLength), bounded by
 * min and max. Scale-up is immediate; scale-down waits for the cooldown: the
 * count follows the highest desired count of the last `cooldownSec`.
 * (KEDA itself hands 1↔N to an HPA with a 300 s scale-down window and keeps
 * its cooldown for scaling to zero; with both at their defaults the effect
 * is this one window. docs/reference-stack.md#autoscaling says so.)
 */
export function kedaPoll(rules: KedaRules, memory: ScalerMemory, obs: { now: number; backlog: number; current: number }): ScalingDecision {
  const raw = clamp(Math.ceil(Math.max(0, obs.backlog) / rules.listLength), rules.minReplicas, rules.maxReplicas);
  const recommendations = [...memory.recommendations.filter((r) => r.at > obs.now - rules.cooldownSec), { at: obs.now, replicas: raw }];
  let desired = raw;
  let why = `ceil(backlog ${obs.backlog} / ${rules.listLength} per replica) = ${Math.ceil(Math.max(0, obs.backlog) / rules.listLength)}`;
  if (raw !== Math.ceil(Math.max(0, obs.backlog) / rules.listLength)) why += `, bounded to ${raw}`;
  if (raw < obs.current) {
    const highest = Math.max(...recommendations.map((r) => r.replicas));
    if (highest > raw) {
      desired = Math.min(obs.current, highest);
      why += `; held at ${desired} by the ${rules.cooldownSec} s cooldown (highest recent ${highest})`;
    }
  }
  const change = desired - obs.current;
  const events = memory.events.filter((e) => e.at > obs.now - rules.cooldownSec);
  return { current: obs.current, raw, desired, metric: obs.backlog, reason: why, memory: { recommendations, events: change === 0 ? events : [...events, { at: obs.now, change }] } };
}
