import { round } from '../analyzers/numbers.js';
import type { Verification } from './verification.js';
import type { LoadedScenario } from '../scenarios/load-scenario.js';
import { planCapacity, type CapacityPlan, type ReplicaCountResult } from './capacity-plan.js';
import type { CapacityRunOutcome } from './capacity-run.js';
import type { HostInfo } from '../analyzers/run-result.js';
import { maskCredentials } from '../shared/mask-credentials.js';
import type { AutoscalerSettings } from './autoscaler-settings.js';
import { scenarioSurgeProfile } from './surge-plan.js';
import { bullWaitList } from '../stack/contract.js';

/** The validated settings, with defaults (docs/capacity.md lists them). */
export interface CapacitySettings {
  replicas: number[];
  slos: string[];
  /** Judge the scenario's thresholds at each step (default), or only the SLOs. */
  scenarioThresholds: boolean;
  /** Requests per second at the peak (converted to iterations with the measured requests per iteration). */
  peakRps?: number;
  /** The peak as a multiple of the base rate. */
  surge?: number;
  /** Iterations per second before the surge; default the scenario's first arrivalRate. */
  baseRate?: number;
  headroom: number;
  precision: number;
  warmupMs: number;
  steadyMs: number;
  /** Longest measurement at one rate: windows are added while the verdict is undecided. */
  maxSteadyMs: number;
  startRate?: number;
  maxRate: number;
  target?: string;
  scaleCmd?: string;
  readyUrl?: string;
  readyTimeoutMs: number;
  /** --pod-startup; undefined: the reference stack's podStartup, else DEFAULT_POD_STARTUP_MS. */
  podStartupMs?: number;
  /** --consumers: consumer replicas during the measurement; undefined: the stack's `consumers` (target: reference), else each count's web replicas. */
  consumers?: number;
  rampSec?: number;
  queue: string;
  /** undefined: the reference stack's (`<keyPrefix>:bull`), else `bull`. */
  queuePrefix?: string;
  /** host:port of Redis for the KEDA trigger's `address` (default: addressFromEnv REDIS_ADDRESS). */
  redisAddress?: string;
  /** --redis-tls: the KEDA trigger connects with TLS. */
  redisTls: boolean;
  queueWaitMs: number;
  jobTimeMs?: number;
  deployment: string;
  consumerDeployment: string;
  out?: string;
  emitK8s?: string;
  html?: string;
  workers: number;
  /** Replay the scenario against the target running the recommended autoscaler, and compare (`--verify`). */
  verify: boolean;
  /** Another target: the command that puts the recommended autoscaler in place before the replay. */
  applyCmd?: string;
  /** Verify this saved capacity.json instead of measuring (`--plan`). */
  planFile?: string;
}

/** capacity.json (schemaVersion 1), documented in docs/capacity.md. */
export interface CapacityResult {
  schemaVersion: 1;
  kind: 'capacity';
  scenario: { name: string; file: string };
  target: string;
  startedAt: string;
  endedAt: string;
  /** Stopped by a signal: the counts measured so far are kept, the interrupted step is not. */
  aborted: boolean;
  /** Set when an error stopped the measurement (a resize failed, the target went away): what came before is kept. */
  error?: { message: string; exitCode: number };
  settings: {
    replicas: number[];
    slos: string[];
    scenarioThresholds: boolean;
    /** Fractions: 0.25 is 25%. */
    headroom: number;
    precision: number;
    warmupSec: number;
    steadySec: number;
    maxSteadySec: number;
    /** Iterations per second. */
    startRate: number;
    maxRate: number;
    scaleCmd: string | null;
    readyUrl: string | null;
    podStartupSec: number;
    rampSec: number;
    /** The autoscalers' timings the plan and the surge simulation used, and where they came from. */
    autoscaler: AutoscalerSettings;
    /** Consumer replicas while measuring (the time per job is per consumer); null: as many as each count's web replicas. */
    consumers: number | null;
    queue: string;
    /** The BullMQ waiting list the KEDA trigger watches, and the Deployments the manifests scale. */
    listName: string;
    /** Where listName came from: --queue-prefix, the target's metrics (queue info series), the reference stack's configuration, or BullMQ's default (unconfirmed). */
    listNameSource: ListNameSource;
    redisAddress: string | null;
    /** The RabbitMQ queues the consumers read, from the target's events info series (a rabbitmq trigger each); [] without the broker; absent from files written before it. */
    eventQueues?: string[];
    /** The BullMQ waiting lists of the event queues without a broker, from the target's events info series (a redis trigger each); [] when none; absent from files written before it. */
    eventWaitLists?: string[];
    /** The KEDA trigger connects with TLS (--redis-tls); absent from files written before it. */
    redisTls?: boolean;
    deployment: string;
    consumerDeployment: string;
    queueWaitSec: number;
    jobTimeSec: number | null;
    generatorWorkers: number;
    /** The rates the plan used, iterations per second, and where the peak came from. */
    baseRate: number;
    peakRate: number;
    peakSource: 'scenario' | 'surge' | 'peak-rps';
    surge: number | null;
    peakRps: number | null;
  };
  /** The generator's machine (cores is what the shared-cores warning used). */
  host: HostInfo;
  replicaCounts: ReplicaCountResult[];
  /** Counts whose knees contradicted each other, and whether measuring them again settled it. */
  crossChecks: CapacityRunOutcome['crossChecks'];
  plan: CapacityPlan;
  warnings: string[];
  /** `capacity --verify`: the replay against the target running the recommended autoscaler, compared with plan.surge (docs/capacity.md). */
  verification?: Verification;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The first rate tried when neither --start-rate nor the scenario (its first arrivalRate) gives one. */
export const DEFAULT_START_RATE = 10;

/** The first rate the search tries: --start-rate, else the base rate, else DEFAULT_START_RATE. */
export const firstRateOf = (s: { startRate?: number }, baseRate: number | undefined): number => s.startRate ?? baseRate ?? DEFAULT_START_RATE;

/** The rate before the surge: the scenario's first open-model phase's rate. */
export function baseRateOf(loaded: LoadedScenario): number | undefined {
  const first = loaded.scenario.phases.find((p) => p.kind === 'arrivalRate');
  return first?.kind === 'arrivalRate' ? first.arrivalRate : undefined;
}

/** The scenario's peak: the highest rate any phase reaches. */
function peakRateOf(loaded: LoadedScenario): number | undefined {
  const rates = loaded.scenario.phases.flatMap((p) => (p.kind === 'arrivalRate' ? [p.arrivalRate, p.rampTo] : []));
  return rates.length ? Math.max(...rates) : undefined;
}

/** The surge's climb: the scenario's first phase that ramps its rate up, seconds. */
export function rampSecOf(loaded: LoadedScenario): number | undefined {
  const ramp = loaded.scenario.phases.find((p) => p.kind === 'arrivalRate' && p.rampTo > p.arrivalRate);
  return ramp ? ramp.durationMs / 1000 : undefined;
}

export type ListNameSource = 'flag' | 'target' | 'config' | 'unconfirmed';

/**
 * The BullMQ waiting list the KEDA trigger must watch: --queue-prefix, else
 * what the target's metrics name, else (reference stack) its configured
 * keyPrefix, else BullMQ's default, unconfirmed. KEDA reads a missing key as
 * an empty queue and never scales, so a guess is said out loud.
 */
export function resolveListName(s: CapacitySettings, fromTarget: string | undefined, referencePrefix: string | undefined): { listName: string; source: ListNameSource; warning?: string } {
  if (s.queuePrefix !== undefined) {
    const listName = `${s.queuePrefix}:${s.queue}:wait`;
    return fromTarget !== undefined && fromTarget !== listName
      ? { listName, source: 'flag', warning: `--queue-prefix gives the KEDA listName ${listName}, but the target's metrics name ${fromTarget}: check which key the consumers read` }
      : { listName, source: 'flag' };
  }
  if (fromTarget !== undefined) return { listName: fromTarget, source: 'target' };
  if (referencePrefix !== undefined) return { listName: bullWaitList(referencePrefix, s.queue), source: 'config' };
  const listName = `bull:${s.queue}:wait`;
  return { listName, source: 'unconfirmed', warning:
    `the KEDA listName ${listName} is BullMQ's default, not confirmed by the target (its metrics name no queue_info series for "${s.queue}"): ` +
    `KEDA reads a missing key as an empty queue and never scales; check the key (redis-cli --scan --pattern '*${s.queue}:wait') and give --queue-prefix` };
}

export interface ResultInput {
  s: CapacitySettings;
  loaded: LoadedScenario;
  file: string;
  reference: boolean;
  url: string;
  /** undefined: only --peak-rps was given and the scenario has no open-model phase. */
  baseRate: number | undefined;
  /** The reference stack's keyPrefix (target: reference), for the waiting list when its metrics did not say. */
  referencePrefix: string | undefined;
  rampSec: number;
  /** resolveAutoscalerSettings for this target. */
  autoscaler: AutoscalerSettings;
  /** Consumer replicas while measuring (undefined: each count's web replicas). */
  consumers: number | undefined;
  host: HostInfo;
  startedAt: Date;
  aborted: boolean;
  outcome: CapacityRunOutcome;
}

/**
 * The peak and base rates in iterations per second. --peak-rps is requests
 * per second: divided by the requests per iteration measured in passing steps.
 */
function rates(input: ResultInput): { base: number; peak: number; warnings: string[] } {
  const { s, loaded } = input;
  const { counts } = input.outcome;
  const warnings: string[] = [];
  let peak: number;
  if (s.peakRps !== undefined) {
    const perIteration = counts.flatMap((c) => c.steps.filter((v) => v.passed).map((v) => v.requestsPerIteration));
    if (perIteration.length) peak = s.peakRps / mean(perIteration);
    else {
      peak = s.peakRps;
      warnings.push('no step passed, so requests per iteration are unknown: --peak-rps was taken as iterations per second');
    }
  } else {
    peak = s.surge !== undefined ? input.baseRate! * s.surge : peakRateOf(loaded) ?? input.baseRate!;
  }
  let base = input.baseRate ?? peak;
  if (input.baseRate === undefined) warnings.push('no base rate (no arrivalRate phase, no --base-rate): the surge is taken as flat, so the HPA plan sees no ramp');
  if (base > peak) {
    warnings.push(`the base rate (${round(base, 2)}/s) is above the peak (${round(peak, 2)}/s): the base is taken as the peak`);
    base = peak;
  }
  return { base, peak, warnings };
}

/** Assembles capacity.json from the counts measured so far (also after Ctrl-C or an error). */
export function buildCapacityResult(input: ResultInput): CapacityResult {
  const { s, loaded } = input;
  const { counts, error } = input.outcome;
  const { base, peak, warnings: rateWarnings } = rates(input);
  const list = resolveListName(s, input.outcome.listFromTarget, input.referencePrefix);
  // The scenario's own surge unless flags changed its rates; then the plan builds one from them.
  const ownSurge = s.baseRate === undefined && s.rampSec === undefined && s.surge === undefined && s.peakRps === undefined;
  const plan = planCapacity(counts, {
    baseRate: base, peakRate: peak, headroom: s.headroom, rampSec: input.rampSec,
    podStartupSec: input.autoscaler.podStartupSec, queueWaitSec: s.queueWaitMs / 1000, jobTimeSec: s.jobTimeMs === undefined ? undefined : s.jobTimeMs / 1000,
    consumers: input.consumers, autoscaler: input.autoscaler, surge: ownSurge ? scenarioSurgeProfile(loaded.scenario.phases) : undefined,
  });
  return {
    schemaVersion: 1,
    kind: 'capacity',
    scenario: { name: loaded.scenario.name, file: input.file },
    target: input.reference ? 'reference' : maskCredentials(input.url),
    startedAt: input.startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    aborted: input.aborted,
    ...(error ? { error } : {}),
    settings: {
      replicas: s.replicas,
      slos: s.slos,
      scenarioThresholds: s.scenarioThresholds,
      headroom: s.headroom,
      precision: s.precision,
      warmupSec: s.warmupMs / 1000,
      steadySec: s.steadyMs / 1000,
      maxSteadySec: s.maxSteadyMs / 1000,
      startRate: firstRateOf(s, input.baseRate),
      maxRate: s.maxRate,
      scaleCmd: s.scaleCmd === undefined ? null : maskCredentials(s.scaleCmd),
      readyUrl: s.readyUrl === undefined ? null : maskCredentials(s.readyUrl),
      podStartupSec: input.autoscaler.podStartupSec,
      rampSec: input.rampSec,
      autoscaler: input.autoscaler,
      consumers: input.consumers ?? null,
      queue: s.queue,
      listName: list.listName,
      listNameSource: list.source,
      redisAddress: s.redisAddress ?? null,
      eventQueues: input.outcome.eventQueues ?? [],
      eventWaitLists: input.outcome.eventWaitLists ?? [],
      redisTls: s.redisTls,
      deployment: s.deployment,
      consumerDeployment: s.consumerDeployment,
      queueWaitSec: s.queueWaitMs / 1000,
      jobTimeSec: s.jobTimeMs === undefined ? null : s.jobTimeMs / 1000,
      generatorWorkers: s.workers,
      baseRate: round(base, 2),
      peakRate: round(peak, 2),
      peakSource: s.peakRps !== undefined ? 'peak-rps' : s.surge !== undefined ? 'surge' : 'scenario',
      surge: s.surge ?? null,
      peakRps: s.peakRps ?? null,
    },
    host: input.host,
    replicaCounts: counts,
    crossChecks: input.outcome.crossChecks,
    plan,
    warnings: [
      ...counts.flatMap((c) => c.warnings), ...rateWarnings, ...plan.warnings,
      ...input.outcome.crossChecks.filter((c) => !c.settled).map((c) => `after measuring again, the counts still disagree: ${c.text}`),
      ...(list.warning && plan.keda ? [list.warning] : []),
    ],
  };
}
