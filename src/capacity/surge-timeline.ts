import { round } from '../analyzers/numbers.js';
import { emptyMemory, HPA_DEFAULTS, hpaSync, kedaPoll, type HpaRules, type KedaRules, type ScalerMemory } from '../stack/contract.js';
import type { Breach, ScaleEvent, SurgeInput, SurgePhase, SurgeRole, SurgeSecond, SurgeTimeline } from './surge-types.js';

/** The open-model rate of each second, the mean over [t, t + 1) (a linear ramp's value at t + 0.5). */
export function ratesPerSecond(phases: readonly SurgePhase[]): number[] {
  const total = phases.reduce((a, p) => a + p.durationSec, 0);
  const rates: number[] = [];
  for (let t = 0; t < Math.ceil(total); t++) {
    const mid = Math.min(t + 0.5, total);
    let start = 0;
    let rate = 0;
    for (const p of phases) {
      if (p.kind === 'open' && mid >= start && mid <= start + p.durationSec) {
        rate = p.fromRate + ((p.toRate - p.fromRate) * (mid - start)) / Math.max(p.durationSec, 1e-9);
        break;
      }
      start += p.durationSec;
    }
    rates.push(rate);
  }
  return rates;
}

/** One role's replicas: each one's ready time (starting while it is in the future), the autoscaler's memory and its next tick. */
interface Pool {
  role: SurgeRole;
  readyAt: number[];
  desired: number;
  memory: ScalerMemory;
  nextTick: number;
}

const newPool = (role: SurgeRole, replicas: number, tickSec: number): Pool =>
  ({ role, readyAt: Array.from({ length: replicas }, () => -Infinity), desired: replicas, memory: emptyMemory(), nextTick: tickSec });

const readyAt = (p: Pool, t: number): number => p.readyAt.filter((r) => r <= t).length;

/** Acts on a decision: new replicas start now and are ready after the start-up; a scale-down removes starting replicas first, then the newest. */
function resize(p: Pool, t: number, desired: number, startupSec: number, events: ScaleEvent[]): void {
  const current = p.readyAt.length;
  p.desired = desired;
  if (desired === current) return;
  if (desired > current) {
    for (let i = current; i < desired; i++) p.readyAt.push(t + startupSec);
  } else {
    p.readyAt.sort((a, b) => a - b).splice(desired);
  }
  events.push({ role: p.role, t, from: current, to: desired, readyAt: desired > current ? t + startupSec : t });
}

/** Whether the pool's autoscaler acts at second t (at tickSec, 2·tickSec, … since the load's start; at most once a second). */
function due(p: Pool, t: number, tickSec: number): boolean {
  if (t < p.nextTick) return false;
  while (p.nextTick <= t) p.nextTick += tickSec;
  return true;
}

/** Consecutive seconds past the limit, as intervals with their worst value. */
function intervals(role: SurgeRole, marks: readonly (number | null)[]): Breach[] {
  const out: Breach[] = [];
  marks.forEach((v, t) => {
    if (v === null) return;
    const last = out[out.length - 1];
    if (last && last.toSec === t) {
      last.toSec = t + 1;
      last.worst = Math.max(last.worst, v);
    } else out.push({ role, fromSec: t, toSec: t + 1, worst: v });
  });
  return out.map((b) => ({ ...b, worst: round(b.worst, 3) }));
}

const hpaRulesOf = (input: SurgeInput): HpaRules => ({
  minReplicas: input.web.minReplicas, maxReplicas: input.web.maxReplicas, targetUtilization: input.web.targetUtilization,
  tolerance: input.autoscaler.tolerance, scaleDownWindowSec: input.autoscaler.scaleDownWindowSec,
  scaleUpPods: input.autoscaler.scaleUpPods, scaleUpPercent: input.autoscaler.scaleUpPercent, scaleUpPeriodSec: input.autoscaler.scaleUpPeriodSec,
  scaleDownPercent: HPA_DEFAULTS.scaleDownPercent, scaleDownPeriodSec: HPA_DEFAULTS.scaleDownPeriodSec,
});

/**
 * One HPA sync, measured as the reference stack's controller measures
 * (src/stack/cpu-windows.ts): each ready replica's utilization is its mean
 * CPU over the seconds of the past window it was ready for; one ready for
 * none of them has no metric yet and counts as starting, as the HPA treats
 * a pod whose metric window began before it was ready.
 */
function webSync(input: SurgeInput, p: Pool, window: readonly { t: number; u: number }[], t: number, events: ScaleEvent[]): void {
  if (!window.length) return;
  const ready = p.readyAt.filter((r) => r <= t);
  // Replicas that became ready together carry the same load: one mean per ready time, not per replica.
  const byReadyAt = new Map<number, number | undefined>();
  const cpuOf = (r: number): number | undefined => {
    if (!byReadyAt.has(r)) {
      const seen = window.filter((s) => s.t >= r);
      byReadyAt.set(r, seen.length ? seen.reduce((a, s) => a + s.u, 0) / seen.length : undefined);
    }
    return byReadyAt.get(r);
  };
  const readyUtilization = ready.map(cpuOf).filter((u): u is number => u !== undefined);
  const starting = p.readyAt.length - readyUtilization.length;
  const d = hpaSync(hpaRulesOf(input), p.memory, { now: t, readyUtilization, starting });
  p.memory = d.memory;
  resize(p, t, d.desired, input.autoscaler.podStartupSec, events);
}

/**
 * The surge second by second under the autoscalers' rules (the same
 * functions the reference stack's controllers run). Pure. Web replicas
 * share the load equally; CPU is proportional to load (the knee's CPU at
 * the knee), capped at one core. Consumers drain the backlog at
 * 1 / secondsPerJob jobs per second each.
 */
export function runSurgeTimeline(input: SurgeInput): SurgeTimeline {
  const { web, autoscaler: a } = input;
  const c = input.consumer ?? null;
  const rates = ratesPerSecond(input.phases);
  const events: ScaleEvent[] = [];
  const seconds: SurgeSecond[] = [];
  const webPool = newPool('web', web.minReplicas, a.syncSec);
  const consumers = c ? newPool('consumer', Math.max(1, c.minReplicas), a.pollingSec) : null;
  const kedaRules: KedaRules | null = c ? { minReplicas: Math.max(1, c.minReplicas), maxReplicas: c.maxReplicas, listLength: c.listLength, cooldownSec: a.cooldownSec } : null;
  let window: { t: number; u: number }[] = [];
  let backlog = 0;
  const webMarks: (number | null)[] = [];
  const waitMarks: (number | null)[] = [];
  rates.forEach((rate, t) => {
    if (due(webPool, t, a.syncSec)) {
      webSync(input, webPool, window, t, events);
      window = [];
    }
    const ready = Math.max(1, readyAt(webPool, t));
    const load = rate / ready;
    const knee = input.kneePerReplica(ready);
    const raw = (load / knee) * web.cpuAtKneeOverRequest;
    const utilization = web.utilizationCap === null ? raw : Math.min(raw, web.utilizationCap);
    window.push({ t, u: utilization });
    webMarks.push(load > knee ? load / knee : null);
    const second: SurgeSecond = {
      t, rate: round(rate, 3), web: { ready, starting: webPool.readyAt.length - ready, desired: webPool.desired },
      loadPerReplica: round(load, 3), kneePerReplica: round(knee, 3), utilization: round(utilization, 4),
    };
    if (c && consumers && kedaRules) {
      // The queue holds whole jobs: KEDA reads a list length.
      if (due(consumers, t, a.pollingSec)) {
        const d = kedaPoll(kedaRules, consumers.memory, { now: t, backlog: Math.round(backlog), current: consumers.readyAt.length });
        consumers.memory = d.memory;
        resize(consumers, t, d.desired, a.podStartupSec, events);
      }
      const working = readyAt(consumers, t);
      backlog = Math.max(0, backlog + c.jobsPerIteration * rate - working / c.secondsPerJob);
      // With every consumer still starting, the wait is at least one consumer's worth.
      const wait = (backlog * c.secondsPerJob) / Math.max(1, working);
      waitMarks.push(wait > c.acceptableWaitSec ? wait : null);
      second.consumer = { ready: working, starting: consumers.readyAt.length - working, desired: consumers.desired, backlog: round(backlog, 2) };
    }
    seconds.push(second);
  });
  return { seconds, scaleEvents: events, breaches: [...intervals('web', webMarks), ...intervals('consumer', waitMarks)] };
}
