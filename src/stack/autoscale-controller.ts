import { HPA_DEFAULTS, emptyMemory, hpaSync, kedaPoll, type HpaRules, type KedaRules, type ScalerMemory, type ScalingDecision } from './autoscale-rules.js';
import type { AutoscaleMetrics, ScaledRole } from './autoscale-metrics.js';
import type { StackLog } from './cluster-primary.js';
import { CpuWindows } from './cpu-windows.js';

/*
 * The primary's autoscalers: an HPA-like controller for the web workers (CPU
 * utilization against the request) and a KEDA-like one for the order
 * consumers (queue backlog). They measure and act; the decisions are the pure
 * rules of autoscale-rules.ts, the same ones `scalectl capacity` simulates.
 */

export type Role = ScaledRole;

export interface RoleHandle {
  /** Ready replicas by id, and how many are starting (forked, not ready yet). */
  replicas(): { ready: string[]; starting: number };
  /** Bring the role to n replicas: fork new ones (starting until ready) or retire some (drain). */
  scaleTo(n: number): void;
}

export interface AutoscaleHooks {
  web: RoleHandle & {
    /** Cumulative CPU seconds of each ready web worker (user+system), by id; a worker that could not be measured is left out. */
    cpuSeconds(): Promise<Map<string, number>>;
  };
  consumer: RoleHandle & {
    /** Jobs waiting in the order queue (KEDA's list length). Throws when the queue cannot be read. */
    backlog(): Promise<number>;
  };
}

/** Time for the controllers; tests pass a fake one. */
export interface AutoscaleClock {
  /** Monotonic time in seconds. */
  now(): number;
  /** Calls fn every `ms` milliseconds until the returned cancel is called. */
  every(ms: number, fn: () => void): () => void;
}

/**
 * The stack knobs the autoscalers read (a subset of StackConfig; durations
 * in milliseconds, as StackConfig holds them).
 */
export interface AutoscaleSettings {
  /** Web workers the HPA keeps, at least and at most. */
  minWorkers: number;
  maxWorkers: number;
  /** Target mean CPU utilization of ready web workers, percent of cpuRequest. */
  cpuTarget: number;
  /** CPU request of one web worker, millicores (1000 = one core). */
  cpuRequest: number;
  /** HPA sync period, ms. */
  hpaSync: number;
  /** No action while utilization / target is within 1 ± this. */
  hpaTolerance: number;
  /** Scale-down stabilisation window, ms. */
  scaleDownWindow: number;
  /** Scale-up policies: at most max(pods, percent) added per scaleUpPeriod (ms). */
  scaleUpPods: number;
  scaleUpPercent: number;
  scaleUpPeriod: number;
  /** Order consumers KEDA keeps, at least and at most. */
  minConsumers: number;
  maxConsumers: number;
  /** Jobs waiting per consumer (KEDA's listLength). */
  backlogTarget: number;
  /** KEDA polling interval, ms. */
  pollingInterval: number;
  /** KEDA cooldown before a scale-down, ms. */
  cooldown: number;
}

/** CPU is sampled this often (ms), or at each sync when syncs are more frequent. */
const CPU_SAMPLE_MS = 1_000;

/** The HPA's rules from the stack's knobs; scale-down policies are Kubernetes' defaults. */
export function hpaRulesOf(s: AutoscaleSettings): HpaRules {
  return {
    minReplicas: s.minWorkers, maxReplicas: s.maxWorkers, targetUtilization: s.cpuTarget / 100, tolerance: s.hpaTolerance,
    scaleDownWindowSec: s.scaleDownWindow / 1000, scaleUpPods: s.scaleUpPods, scaleUpPercent: s.scaleUpPercent,
    scaleUpPeriodSec: s.scaleUpPeriod / 1000, scaleDownPercent: HPA_DEFAULTS.scaleDownPercent, scaleDownPeriodSec: HPA_DEFAULTS.scaleDownPeriodSec,
  };
}

/** KEDA's rules from the stack's knobs. */
export function kedaRulesOf(s: AutoscaleSettings): KedaRules {
  return { minReplicas: s.minConsumers, maxReplicas: s.maxConsumers, listLength: s.backlogTarget, cooldownSec: s.cooldown / 1000 };
}

const realClock: AutoscaleClock = {
  now: () => performance.now() / 1000,
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Calls `tick` every `ms`, never two at once: a firing while the previous
 * tick still runs (its hooks are async) is skipped. `alive()` turns false
 * at stop, so a tick that was waiting on a hook then changes nothing.
 */
function ticker(clock: AutoscaleClock, ms: number, tick: (alive: () => boolean) => Promise<void>, onError: (err: unknown) => void): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;
  const cancel = clock.every(ms, () => {
    if (stopped || running) return;
    running = tick(() => !stopped).catch(onError).finally(() => { running = undefined; });
  });
  return {
    async stop() {
      stopped = true;
      cancel();
      await running;
    },
  };
}

interface Decider {
  role: Role;
  /** Log prefix: which real controller this one imitates. */
  kind: 'HPA' | 'KEDA';
  handle: RoleHandle;
  log: StackLog;
  metrics: AutoscaleMetrics;
}

/** Acts on a decision: records it, and scales and logs it (with its numbers) when the count changes. */
function act(d: Decider, decision: ScalingDecision, metric: number): void {
  d.metrics.desired(d.role, decision.desired);
  if (decision.desired === decision.current) return;
  // The decision is logged before the forks and retirements it causes, as `kubectl describe hpa` lists the event first.
  d.log('info', `${d.kind} ${d.role}: ${decision.current} → ${decision.desired} replicas (${decision.reason})`,
    { role: d.role, from: decision.current, to: decision.desired, metric, reason: decision.reason });
  d.metrics.scaled(d.role, decision.desired > decision.current ? 'up' : 'down');
  d.handle.scaleTo(decision.desired);
}

/**
 * Warns (once per streak of syncs) when ready web workers had no CPU sample
 * at a sync: they then count as starting, and if none can be measured the
 * HPA holds, so an operator must hear of it.
 */
function unmeasuredWarning(log: StackLog): { check(ids: string[]): void } {
  let warned = false;
  return {
    check(ids) {
      if (ids.length === 0) {
        warned = false;
        return;
      }
      if (warned) return;
      warned = true;
      log('warn', `HPA web: cannot sample CPU of web worker${ids.length === 1 ? '' : 's'} ${ids.join(', ')}; counted as starting`, { role: 'web', workers: ids });
    },
  };
}

/** The web workers' HPA: samples CPU every second, decides every hpaSync. */
function startHpa(s: AutoscaleSettings, hook: AutoscaleHooks['web'], log: StackLog, metrics: AutoscaleMetrics, clock: AutoscaleClock): { stop(): Promise<void> } {
  const rules = hpaRulesOf(s);
  const syncSec = s.hpaSync / 1000;
  const sampleMs = Math.min(CPU_SAMPLE_MS, s.hpaSync);
  const windows = new CpuWindows(syncSec, sampleMs / 1000, s.cpuRequest / 1000);
  const decider: Decider = { role: 'web', kind: 'HPA', handle: hook, log, metrics };
  let memory: ScalerMemory = emptyMemory();
  let nextSync = clock.now() + syncSec;
  let failing = false;
  const unmeasured = unmeasuredWarning(log);
  return ticker(clock, sampleMs, async (alive) => {
    // A worker that becomes ready while the sample is taken has none yet: that is not a failure to measure it.
    const readyBefore = new Set(hook.replicas().ready);
    let cpu: Map<string, number> | undefined;
    try {
      cpu = await hook.cpuSeconds();
      failing = false;
    } catch (err) {
      // Once per streak: a stack whose workers cannot answer would otherwise log every second.
      if (!failing) log('warn', `HPA web: cannot sample CPU: ${message(err)}`, { role: 'web' });
      failing = true;
    }
    if (!alive()) return;
    const now = clock.now();
    const { ready, starting } = hook.replicas();
    windows.record(now, ready, cpu);
    // Half a sample early still counts: the interval timer and the clock may disagree by a few ms.
    if (now < nextSync - sampleMs / 2000) return;
    while (nextSync <= now + sampleMs / 2000) nextSync += syncSec;
    unmeasured.check(failing ? [] : ready.filter((id) => readyBefore.has(id) && !cpu?.has(id)));
    const readyUtilization: number[] = [];
    for (const id of ready) {
      const u = windows.utilization(id, now);
      if (u !== undefined) readyUtilization.push(u);
    }
    // A ready worker without a usable window of samples counts as starting, as the HPA treats a pod whose metric window began before it was ready.
    const decision = hpaSync(rules, memory, { now, readyUtilization, starting: starting + ready.length - readyUtilization.length });
    memory = decision.memory;
    const percent = Math.round(decision.metric * 100);
    if (readyUtilization.length > 0) metrics.observed('web', percent);
    act(decider, decision, percent);
  }, (err) => log('error', `HPA web: ${message(err)}`, { role: 'web' }));
}

/** The order consumers' KEDA ScaledObject: reads the backlog every pollingInterval. */
function startKeda(s: AutoscaleSettings, hook: AutoscaleHooks['consumer'], log: StackLog, metrics: AutoscaleMetrics, clock: AutoscaleClock): { stop(): Promise<void> } {
  const rules = kedaRulesOf(s);
  const decider: Decider = { role: 'consumer', kind: 'KEDA', handle: hook, log, metrics };
  let memory: ScalerMemory = emptyMemory();
  return ticker(clock, s.pollingInterval, async (alive) => {
    let backlog: number;
    try {
      backlog = await hook.backlog();
    } catch (err) {
      if (alive()) log('warn', `KEDA consumer: cannot read the backlog: ${message(err)}; no change`, { role: 'consumer' });
      return;
    }
    if (!alive()) return;
    const { ready, starting } = hook.replicas();
    const decision = kedaPoll(rules, memory, { now: clock.now(), backlog, current: ready.length + starting });
    memory = decision.memory;
    metrics.observed('consumer', backlog);
    act(decider, decision, backlog);
  }, (err) => log('error', `KEDA consumer: ${message(err)}`, { role: 'consumer' }));
}

/**
 * Starts both autoscalers. The first decisions come one hpaSync and one
 * pollingInterval after the start (a full CPU window first). `stop()` cancels
 * the timers and waits for a tick that is running.
 */
export function startAutoscalers(settings: AutoscaleSettings, hooks: AutoscaleHooks, log: StackLog, metrics: AutoscaleMetrics, clock: AutoscaleClock = realClock): { stop(): Promise<void> } {
  const web = startHpa(settings, hooks.web, log, metrics, clock);
  const consumer = startKeda(settings, hooks.consumer, log, metrics, clock);
  return {
    async stop() {
      await Promise.all([web.stop(), consumer.stop()]);
    },
  };
}
