import { plural, round } from '../analyzers/numbers.js';
import type { ThresholdResult } from '../analyzers/thresholds.js';
import { formatDuration } from '../shared/duration.js';
import type { SecondCounts, TailCriterion } from './step-verdict.js';
import { tailEvidence, zForLooks } from './tail-evidence.js';

/*
 * `capacity --verify`: what happened when the scenario's surge met the
 * autoscaled target, against what the plan predicted. Pure.
 */

/** Seconds pooled to judge the SLOs during the surge: one second holds too few samples for a tail (a coin toss). */
export const VERIFY_WINDOW_SEC = 5;

export type ScalingRole = 'web' | 'consumer';

/** A change of a role's replica count: predicted (decided at `t`, ready at `readyAt`) or observed (seen ready at `t`). */
export interface ScaleChange {
  role: string;
  t: number;
  from: number;
  to: number;
  /** Predicted changes: when the new replicas are ready (t + start-up). */
  readyAt?: number;
}

/** What the surge simulation predicted, as far as verification needs it. */
export interface PredictionView {
  scaleEvents: readonly ScaleChange[];
  breaches: readonly { role: string; fromSec: number; toSec: number }[];
  /** The HPA's sync period the prediction assumed, seconds. */
  syncSec: number;
  /** Largest consumer backlog predicted (null: consumers not simulated). */
  maxBacklog: number | null;
  /** The web replicas the prediction starts with (minReplicas). */
  webMinReplicas?: number;
}

/** One second of the replay, for the report's charts. */
export interface ObservedSecond {
  t: number;
  /** Iterations per second finished, and the second's p99 latency (ms). */
  achievedRps: number;
  p99: number;
  /** Ready replicas by role, as the target's telemetry reported them in that second. */
  replicas?: Record<string, number>;
}

/** What the replay observed. */
export interface ObservedRun {
  /** Per second of the replay, for the charts. */
  timeline: readonly ObservedSecond[];
  aborted: boolean;
  /** Per second of load: requests, errors and answers slower than each whole-run latency limit. */
  seconds: readonly SecondCounts[];
  /** Replica count changes seen in the target's telemetry (RunResult telemetry.replicas.events). */
  replicaEvents: readonly ScaleChange[];
  /** Whether replicas were seen at all (a target whose telemetry has no replicas signal). */
  sawReplicas: boolean;
  /** The SLOs judged on the whole replay (RunResult.thresholds of the SLO expressions). */
  thresholds: readonly ThresholdResult[];
  queue: { maxDepth: number | null; drainSec: number | null } | null;
}

export interface SloBreach {
  expression: string;
  fromSec: number;
  /** The end of the breach's last second (exclusive, like the prediction's breaches). */
  toSec: number;
  /** The worst window's share past the limit, and the share allowed. */
  worstShare: number;
  allowed: number;
}

export interface ScalingComparison {
  role: string;
  /** The count reached (a scale-up to it). */
  replicas: number;
  /** Seconds from the load's start when that replica was ready: predicted, observed (null: did not happen). */
  predictedSec: number | null;
  observedSec: number | null;
  /** observed − predicted, seconds. */
  differenceSec: number | null;
}

/**
 * held: no window broke an SLO and none leaned past it, and every SLO passed over the whole replay;
 * broke: a window broke one at 95% confidence (or stalled), or one failed over the whole replay;
 * unsure: windows leaned past an SLO without settling it, or there was nothing to judge by;
 * interrupted: the replay was stopped (Ctrl-C): not judged.
 */
export type VerificationVerdict = 'held' | 'broke' | 'unsure' | 'interrupted';

export interface Verification {
  verdict: VerificationVerdict;
  /** verdict === 'held'. */
  held: boolean;
  /** One sentence: the verdict and the first scale-up, predicted and observed. */
  summary: string;
  slos: { expression: string; ok: boolean; actual: number | null }[];
  breaches: SloBreach[];
  /** Windows that leaned past an SLO without settling it at 95% (not enough samples to say). */
  doubtful: SloBreach[];
  /** Whether the prediction and the replay agree on a breach: both saw one, only one of them, or neither. */
  breachAgreement: 'both' | 'predicted only' | 'observed only' | 'neither';
  /** Predicted breaches, for reference (the simulation's seconds with load past the knee or a queue wait past its bound). */
  predictedBreaches: { role: string; fromSec: number; toSec: number }[];
  scaling: ScalingComparison[];
  /** The first web scale-up: predicted and observed ready times, and whether they are within one sync period. */
  firstScaleUp: { predictedSec: number | null; observedSec: number | null; syncSec: number; withinSyncPeriod: boolean | null } | null;
  /** Observed scale-downs (role, time, from → to). */
  scaleDowns: ScaleChange[];
  queue: { predictedMaxBacklog: number | null; observedMaxDepth: number | null; observedDrainSec: number | null } | null;
  /** The replay second by second: rate, p99 and the replicas seen. */
  timeline: ObservedSecond[];
  warnings: string[];
}

/** Adds window [start, end) to the intervals of one criterion: joined to the last one when they touch. */
function widen(out: SloBreach[], c: TailCriterion, start: number, end: number, share: number): void {
  const last = out.at(-1);
  if (last && last.expression === c.expression && start <= last.toSec) {
    last.toSec = end;
    last.worstShare = Math.max(last.worstShare, share);
  } else {
    out.push({ expression: c.expression, fromSec: start, toSec: end, worstShare: share, allowed: c.allowed });
  }
}

/**
 * Where whole-run tail criteria broke, and where they may have: every window
 * of VERIFY_WINDOW_SEC seconds is judged like a capacity step (the share of
 * samples past the limit, its 95% interval widened for bursts), with the
 * confidence split across the windows looked at (Bonferroni), so that a long
 * replay does not find a breach by chance. A window breaks the SLO when its
 * whole interval is past the allowance, or when load was offered and nothing
 * answered (a stall); it is doubtful when it leans past the allowance but its
 * interval still reaches under it.
 */
export function sloBreaches(seconds: readonly SecondCounts[], criteria: readonly TailCriterion[]): { breaches: SloBreach[]; doubtful: SloBreach[] } {
  const judged = criteria.filter((c) => c.scope === undefined);
  const windows = Math.max(1, seconds.length - VERIFY_WINDOW_SEC + 1);
  const z = zForLooks(windows * Math.max(1, judged.length));
  const breaches: SloBreach[] = [];
  const doubtful: SloBreach[] = [];
  for (const c of judged) {
    for (let start = 0; start + VERIFY_WINDOW_SEC <= seconds.length; start++) {
      const slice = seconds.slice(start, start + VERIFY_WINDOW_SEC);
      const batches = slice.map((s) => (c.kind === 'errors'
        ? { samples: s.samples, exceed: s.errors }
        : { samples: s.timed, exceed: s.slower[String(c.limitMs)] ?? 0 }));
      const samples = batches.reduce((a, b) => a + b.samples, 0);
      const exceed = batches.reduce((a, b) => a + b.exceed, 0);
      const end = start + VERIFY_WINDOW_SEC;
      if (samples === 0) {
        // Nothing measured must not pass: load offered and no answer is a stall; no load offered (a pause) says nothing.
        if (slice.some((s) => (s.offered ?? 0) > 0)) widen(breaches, c, start, end, 1);
        continue;
      }
      const e = tailEvidence(c.expression, c.allowed, samples, exceed, batches, z);
      if (e.verdict === 'fail') widen(breaches, c, start, end, e.observed);
      else if (e.verdict === 'undecided' && e.observed > c.allowed) widen(doubtful, c, start, end, e.observed);
    }
  }
  return { breaches, doubtful };
}

/** One row per replica count reached on the way up: the first time each count of a role was reached. */
function ups(changes: readonly ScaleChange[], useReady: boolean): Map<string, number> {
  const first = new Map<string, number>();
  for (const c of [...changes].sort((a, b) => a.t - b.t)) {
    for (let n = c.from + 1; n <= c.to; n++) {
      const key = `${c.role}:${n}`;
      if (!first.has(key)) first.set(key, useReady ? c.readyAt ?? c.t : c.t);
    }
  }
  return first;
}

/** Predicted against observed scale-ups, per role and count reached. */
export function compareScaling(predicted: readonly ScaleChange[], observed: readonly ScaleChange[]): ScalingComparison[] {
  const p = ups(predicted, true);
  const o = ups(observed, false);
  const keys = [...new Set([...p.keys(), ...o.keys()])];
  return keys.map((key) => {
    const [role, n] = key.split(':') as [string, string];
    const predictedSec = p.get(key) ?? null;
    const observedSec = o.get(key) ?? null;
    return { role, replicas: Number(n), predictedSec, observedSec, differenceSec: predictedSec !== null && observedSec !== null ? round(observedSec - predictedSec, 2) : null };
  }).sort((a, b) => a.role.localeCompare(b.role) || a.replicas - b.replicas);
}

const ordinal = (n: number): string => `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;
const at = (s: number | null): string => (s === null ? 'never' : `at ${round(s, 1)} s`);

const describeBreaches = (bs: readonly SloBreach[]): string =>
  bs.map((b) => `${b.expression} from ${b.fromSec} s to ${b.toSec} s (worst window ${round(b.worstShare * 100, 2)}% past the limit, ${round(b.allowed * 100, 2)}% allowed)`).join('; ');

function summarize(v: Omit<Verification, 'summary'>): string {
  const failedWhole = v.slos.filter((s) => !s.ok).map((s) => s.expression);
  const verdict = v.verdict === 'interrupted' ? 'the replay was interrupted: not judged'
    : v.verdict === 'held' ? 'the SLOs held during the surge'
    : v.verdict === 'unsure' ? (v.doubtful.length ? `not settled: ${describeBreaches(v.doubtful)}, without enough samples to say at 95%` : 'nothing to judge: no SLO')
    : v.breaches.length ? `the SLOs broke during the surge: ${describeBreaches(v.breaches)}`
    : `the SLOs broke over the whole replay: ${failedWhole.join(', ')}`;
  const f = v.firstScaleUp;
  if (!f) return verdict;
  const first = v.scaling.find((s) => s.role === 'web');
  const which = first ? `the ${ordinal(first.replicas)} web replica` : 'a web replica';
  const timing = f.predictedSec === null && f.observedSec === null
    ? 'no web scale-up was predicted or seen'
    : `${which} was ready ${at(f.observedSec)} (predicted ${at(f.predictedSec)}` +
      (f.withinSyncPeriod === null ? ')' : f.withinSyncPeriod ? `, within one ${formatDuration(f.syncSec * 1000)} sync period)` : `, more than one ${formatDuration(f.syncSec * 1000)} sync period apart)`);
  return `${verdict}; ${timing}`;
}

/** Compares the replay with the prediction: the SLOs per window of the surge, the scaling times, the queue. */
export function verifySurge(prediction: PredictionView, observed: ObservedRun, criteria: readonly TailCriterion[]): Verification {
  const warnings: string[] = [];
  if (!observed.sawReplicas) warnings.push("the target's telemetry showed no replica counts (the replicas signal): observed scaling times are unknown");
  const roles = new Set(observed.timeline.flatMap((p) => Object.keys(p.replicas ?? {})));
  if (observed.sawReplicas && roles.size > 0 && !roles.has('web') && !roles.has('consumer')) {
    warnings.push(`the replicas seen are of ${[...roles].join(', ')}, none of them the web or consumer role the prediction has: give --deployment and --consumer-deployment the names the telemetry uses`);
  }
  const judgedPerWindow = criteria.filter((c) => c.scope === undefined);
  if (judgedPerWindow.length < criteria.length) warnings.push(`${plural(criteria.length - judgedPerWindow.length, 'SLO')} of an endpoint or flow ${criteria.length - judgedPerWindow.length === 1 ? 'is' : 'are'} judged on the whole replay only (the seconds are counted for the whole run)`);
  if (observed.seconds.length < VERIFY_WINDOW_SEC) warnings.push(`the replay lasted under ${VERIFY_WINDOW_SEC} s: no window to judge`);
  const { breaches, doubtful } = sloBreaches(observed.seconds, criteria);
  const slos = observed.thresholds.map((t) => ({ expression: t.expression, ok: t.ok, actual: t.actual }));
  const scaling = compareScaling(prediction.scaleEvents, observed.replicaEvents);
  const web = scaling.filter((s) => s.role === 'web');
  const firstPredicted = web.find((s) => s.predictedSec !== null)?.predictedSec ?? null;
  const firstObserved = web.find((s) => s.observedSec !== null)?.observedSec ?? null;
  // With replicas seen, a scale-up on one side only is the biggest miss there is, not an unknown.
  const firstScaleUp = {
    predictedSec: firstPredicted,
    observedSec: observed.sawReplicas ? firstObserved : null,
    syncSec: prediction.syncSec,
    withinSyncPeriod: !observed.sawReplicas ? null
      : firstPredicted !== null && firstObserved !== null ? Math.abs(firstObserved - firstPredicted) <= prediction.syncSec
      : firstPredicted === null && firstObserved === null,
  };
  const firstWeb = observed.timeline.find((p) => p.replicas?.web !== undefined)?.replicas?.web;
  if (prediction.webMinReplicas !== undefined && firstWeb !== undefined && firstWeb !== prediction.webMinReplicas) {
    warnings.push(`the replay started with ${plural(firstWeb, 'web replica')}, the prediction with ${prediction.webMinReplicas} (minReplicas): scale the target to it before verifying (an HPA holds extra replicas for its scale-down window)`);
  }
  const predictedBacklog = prediction.maxBacklog;
  const observedDepth = observed.queue?.maxDepth ?? null;
  if (predictedBacklog !== null && observedDepth !== null && Math.max(predictedBacklog, observedDepth) >= 20
    && Math.max(predictedBacklog, observedDepth) > 2 * Math.max(1, Math.min(predictedBacklog, observedDepth))) {
    warnings.push(`the consumers' prediction missed: a largest backlog of ${round(predictedBacklog, 1)} predicted, ${observedDepth} observed; ` +
      'the time per job it used (measured from queue drains, or --job-time) is likely off: give --job-time from what the consumers really take');
  }
  const verdict: VerificationVerdict = observed.aborted ? 'interrupted'
    : breaches.length || slos.some((s) => !s.ok) ? 'broke'
    : doubtful.length || criteria.length === 0 ? 'unsure' : 'held';
  const predictedBreach = prediction.breaches.length > 0;
  const observedBreach = breaches.length > 0;
  const rest: Omit<Verification, 'summary'> = {
    verdict,
    held: verdict === 'held',
    slos,
    breaches,
    doubtful,
    breachAgreement: predictedBreach && observedBreach ? 'both' : predictedBreach ? 'predicted only' : observedBreach ? 'observed only' : 'neither',
    predictedBreaches: prediction.breaches.map((b) => ({ ...b })),
    scaling,
    firstScaleUp,
    scaleDowns: observed.replicaEvents.filter((e) => e.to < e.from).map((e) => ({ ...e })),
    queue: observed.queue || prediction.maxBacklog !== null
      ? { predictedMaxBacklog: prediction.maxBacklog, observedMaxDepth: observed.queue?.maxDepth ?? null, observedDrainSec: observed.queue?.drainSec ?? null }
      : null,
    timeline: observed.timeline.map((p) => ({ ...p })),
    warnings,
  };
  return { summary: summarize(rest), ...rest };
}
