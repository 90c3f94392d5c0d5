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
 * Mean utilization in whole percent, truncated, as the HPA's metrics client
 * computes it (`int32(sum of usage × 100 / sum of requests)`). The epsilon
 * keeps a fraction such as 0.29 (28.999… × 100 in binary) at 29.
 */
const wholePercent = (sum: number, pods: number): number => Math.floor((sum * 100) / pods + 1e-9);

/** Kubernetes' Tolerances.isWithin, written the same way so that a ratio on the boundary falls the same side. */
const isWithin = (ratio: number, tolerance: number): boolean => 1 - tolerance <= ratio && ratio <= 1 + tolerance;

/**
 * The replica calculator's answer for a CPU utilization target
 * (replica_calculator.go GetResourceReplicas). The usage ratio is the ready
 * pods' mean utilization, in whole percent, over the target; within the
 * tolerance nothing changes, otherwise desired = ceil(ratio × ready pods).
 * When the ratio asks to scale up while pods are still starting, those count
 * as using 0% and the ratio is computed again over all pods: if that brings
 * it within the tolerance (or under 1), nothing changes, else desired =
 * ceil(new ratio × all pods). When scaling down, starting pods are left out.
 * No ready pod means no metric: no change (the HPA's FailedGetResourceMetric).
 */
export function hpaRawReplicas(rules: Pick<HpaRules, 'targetUtilization' | 'tolerance'>, obs: HpaObservation): { raw: number; utilization: number; why: string } {
  const ready = obs.readyUtilization.length;
  const current = ready + obs.starting;
  if (ready === 0) return { raw: current, utilization: 0, why: 'no ready pod to measure: no change' };
  const sum = obs.readyUtilization.reduce((a, b) => a + b, 0);
  const target = Math.round(rules.targetUtilization * 100);
  const util = wholePercent(sum, ready);
  const ratio = util / target;
  const utilization = util / 100;
  if (obs.starting === 0 || ratio <= 1) {
    if (isWithin(ratio, rules.tolerance)) {
      return { raw: current, utilization, why: `CPU ${util}% of request against a target of ${target}%: within the ${pct(rules.tolerance)} tolerance` };
    }
    const raw = Math.ceil(ratio * ready);
    const left = obs.starting > 0 ? ` (${obs.starting} starting left out)` : '';
    return { raw, utilization, why: `ceil(${ready} × ${util}% / ${target}%) = ${raw}${left}` };
  }
  const spreadUtil = wholePercent(sum, current);
  const spread = spreadUtil / target;
  if (spread < 1 || isWithin(spread, rules.tolerance)) {
    return { raw: current, utilization, why: `CPU ${util}% of request over ${ready} ready, but ${obs.starting} starting (counted at 0%) bring it to ${spreadUtil}%: within the tolerance of the ${target}% target` };
  }
  const raw = Math.ceil(spread * current);
  return { raw, utilization, why: `ceil(${current} × ${spreadUtil}% / ${target}%) = ${raw} (CPU ${util}% over ${ready} ready; ${obs.starting} starting counted at 0%)` };
}

/** Replicas added and removed by the events of the last `periodSec` (horizontal.go getReplicasChangePerPeriod). */
function changesWithin(events: ScalerMemory['events'], now: number, periodSec: number): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const e of events) {
    if (e.at <= now - periodSec) continue;
    if (e.change > 0) added += e.change;
    else removed -= e.change;
  }
  return { added, removed };
}

/**
 * Stabilisation and rate limits (the HPA's `behavior`): scale-down follows
 * the highest recommendation of the last `scaleDownWindowSec`; scale-up may
 * add at most max(pods, percent) per period, scale-down remove at most
 * `scaleDownPercent` per period, both counted from the replicas at the
 * period's start (current − added + removed within the period, as
 * calculateScaleUpLimitWithScalingRules and calculateScaleDownLimitWithBehaviors
 * count them); then min and max bound the result.
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
    const { added, removed } = changesWithin(events, now, rules.scaleUpPeriodSec);
    const base = current - added + removed;
    const limit = Math.max(base + rules.scaleUpPods, Math.ceil(base * (1 + rules.scaleUpPercent / 100)));
    if (desired > limit) {
      notes.push(`scale-up limited to ${Math.max(current, limit)} (${rules.scaleUpPods} pods or ${rules.scaleUpPercent}% per ${rules.scaleUpPeriodSec} s from ${base})`);
      desired = Math.max(current, limit);
    }
  } else if (desired < current) {
    const { added, removed } = changesWithin(events, now, rules.scaleDownPeriodSec);
    const base = current - added + removed;
    const limit = Math.floor(base * (1 - rules.scaleDownPercent / 100));
    if (desired < limit) {
      notes.push(`scale-down limited to ${Math.min(current, limit)} (${rules.scaleDownPercent}% per ${rules.scaleDownPeriodSec} s from ${base})`);
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

/**
 * The first decision of a controller remembers the replica count it found as
 * a recommendation (horizontal.go recordInitialRecommendation), so that it
 * does not scale down within its first stabilisation window.
 */
function withInitialRecommendation(memory: ScalerMemory, now: number, current: number): ScalerMemory {
  return memory.recommendations.length === 0 ? { ...memory, recommendations: [{ at: now, replicas: current }] } : memory;
}

/**
 * One HPA sync: the replica calculator, then `behavior` and the bounds.
 * Without a ready pod there is no metric: the count only moves into
 * [min, max], and no recommendation is recorded (the HPA stops at
 * FailedGetResourceMetric).
 */
export function hpaSync(rules: HpaRules, memory: ScalerMemory, obs: HpaObservation): ScalingDecision {
  const current = obs.readyUtilization.length + obs.starting;
  const seeded = withInitialRecommendation(memory, obs.now, current);
  const calc = hpaRawReplicas(rules, obs);
  if (obs.readyUtilization.length === 0) {
    const desired = clamp(current, rules.minReplicas, rules.maxReplicas);
    const bound = desired === current ? '' : `; bounded to ${desired} by ${desired === rules.minReplicas ? 'minReplicas' : 'maxReplicas'} ${desired}`;
    const events = desired === current ? seeded.events : [...seeded.events, { at: obs.now, change: desired - current }];
    return { current, raw: current, desired, metric: 0, reason: calc.why + bound, memory: { ...seeded, events } };
  }
  const b = applyBehavior(rules, seeded, obs.now, current, calc.raw);
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
 * count follows the highest desired count of the last `cooldownSec`, the
 * count found at the first poll included (as the HPA KEDA creates records
 * it). (KEDA itself hands 1↔N to an HPA with a 300 s scale-down window and
 * keeps its cooldown for scaling to zero; with both at their defaults the
 * effect is this one window. docs/reference-stack.md#autoscaling says so.)
 */
export function kedaPoll(rules: KedaRules, memory: ScalerMemory, obs: { now: number; backlog: number; current: number }): ScalingDecision {
  const wanted = Math.ceil(Math.max(0, obs.backlog) / rules.listLength);
  const raw = clamp(wanted, rules.minReplicas, rules.maxReplicas);
  const seeded = withInitialRecommendation(memory, obs.now, obs.current);
  const recommendations = [...seeded.recommendations.filter((r) => r.at > obs.now - rules.cooldownSec), { at: obs.now, replicas: raw }];
  let desired = raw;
  let why = `ceil(backlog ${obs.backlog} / ${rules.listLength} per replica) = ${wanted}`;
  if (raw !== wanted) why += `, bounded to ${raw}`;
  if (raw < obs.current) {
    const highest = Math.max(...recommendations.map((r) => r.replicas));
    const held = clamp(Math.min(obs.current, highest), rules.minReplicas, rules.maxReplicas);
    if (held > raw) {
      desired = held;
      why += `; held at ${desired} by the ${rules.cooldownSec} s cooldown (highest recent ${highest})`;
    }
  }
  const change = desired - obs.current;
  const events = seeded.events.filter((e) => e.at > obs.now - rules.cooldownSec);
  return { current: obs.current, raw, desired, metric: obs.backlog, reason: why, memory: { recommendations, events: change === 0 ? events : [...events, { at: obs.now, change }] } };
}
