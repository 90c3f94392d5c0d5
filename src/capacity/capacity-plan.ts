import { plural, round } from '../analyzers/numbers.js';
import { planHpa, planKeda, type HpaPlan, type KedaPlan } from '../analyzers/autoscaler.js';
import { planReplicas, scalingModel, type ReplicaPlan, type ScalingModel } from '../analyzers/replica-plan.js';
import { UslDataError, uslThroughput } from '../analyzers/usl.js';
import type { ReplicaCountResult } from './count-search.js';
import { crossCheck, modelMisses } from './cross-check.js';
import { resolveAutoscalerSettings, type AutoscalerSettings } from './autoscaler-settings.js';
import type { SurgePrediction } from './surge-simulation.js';
import { planSurgeProfile, predictSurge, type SurgeProfile } from './surge-plan.js';

export type { ReplicaCountResult } from './count-search.js';

export interface PlanSettings {
  /** Before the surge and at its peak, flow iterations per second. */
  baseRate: number;
  peakRate: number;
  headroom: number;
  rampSec: number;
  podStartupSec: number;
  /** How long an order may wait in the queue, seconds. */
  queueWaitSec: number;
  /** Seconds per job per consumer replica when given (--job-time); otherwise measured from the drains. */
  jobTimeSec?: number;
  /** Consumer replicas during the measurement; undefined: each count's web replica count. */
  consumers?: number;
  /** The autoscalers' timings; default Kubernetes' and KEDA's, with `podStartupSec`. */
  autoscaler?: AutoscalerSettings;
  /** The surge to simulate; default one built from baseRate, rampSec and peakRate. */
  surge?: SurgeProfile;
}

/** recommended: the measurements support a recommendation; infeasible: no count meets the SLOs at the peak (or at all); inconclusive: the data cannot tell. */
export type PlanVerdict = 'recommended' | 'infeasible' | 'inconclusive';

export interface CapacityPlan {
  verdict: PlanVerdict;
  /** Why, in words; the first line is the headline. */
  reasons: string[];
  /** What to measure again when inconclusive. */
  remeasure: string[];
  model: (Omit<ScalingModel['fit'], 'peakConcurrency' | 'peakThroughput'> & {
    kind: ScalingModel['kind'];
    /** null when unbounded (kappa = 0, or sigma = kappa = 0). */
    peakReplicas: number | null;
    peakThroughput: number | null;
    points: { replicas: number; throughput: number }[];
  }) | null;
  replicas: ReplicaPlan | null;
  hpa: HpaPlan | null;
  keda: (KedaPlan & { secondsPerJob: number | null; jobsPerIteration: number | null; source: 'measured' | '--job-time' | null }) | null;
  /** The surge second by second under the recommended autoscalers (only with a recommendation and an HPA plan). */
  surge: SurgePrediction | null;
  warnings: string[];
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Drains shorter than this are a few scrapes long: their time says more about the scrape interval than the consumers. */
const MIN_DRAIN_SEC = 5;
const MIN_BACKLOG = 20;

/**
 * Seconds one consumer replica spends per job, from drains after the load:
 * consumers × drain time ÷ backlog (waiting + active + delayed at the end of
 * the load), where the backlog was at least 20 jobs and took at least 5 s to
 * drain. `consumers` is the consumer replicas that ran (undefined: as many as
 * the count's web replicas, for services whose web replicas consume too).
 * Median over the steps that qualify; null when none did.
 */
export function measuredSecondsPerJob(counts: readonly ReplicaCountResult[], consumers?: number): number | null {
  const samples = counts.flatMap((c) => c.steps.flatMap((s) => {
    const { queueDepthFinal: q, drainTimeSec: d } = s.telemetry;
    return q !== null && d !== null && q >= MIN_BACKLOG && d >= MIN_DRAIN_SEC ? [((consumers ?? c.replicas) * d) / q] : [];
  }));
  return samples.length ? median(samples) : null;
}

/**
 * Jobs per flow iteration (checkouts per iteration, for the reference shop):
 * the median over passing steps that made jobs at all. Steps with none are
 * left out: a flash sale's stock runs out, and later steps place no orders.
 */
function jobsPerIteration(counts: readonly ReplicaCountResult[]): number | null {
  const ratios = counts.flatMap((c) => c.steps.flatMap((s) => {
    const jobs = s.telemetry.jobsCompleted;
    return s.passed && jobs !== null && jobs > 0 && s.rate > 0 && s.measuredSec > 0 ? [jobs / (s.rate * s.measuredSec)] : [];
  }));
  return ratios.length ? median(ratios) : null;
}

type ModelOut = NonNullable<CapacityPlan['model']>;
const noPlan = { model: null, replicas: null, hpa: null, keda: null, surge: null } as const;
const r1 = (v: number): number => round(v, 1);

function modelOut(model: ScalingModel, points: { n: number; x: number }[]): ModelOut {
  const { fit } = model;
  return {
    ...fit,
    kind: model.kind,
    peakReplicas: finiteOrNull(fit.peakConcurrency),
    peakThroughput: finiteOrNull(fit.peakThroughput),
    points: points.map((p) => ({ replicas: p.n, throughput: p.x })),
  };
}

/** The KEDA plan from the jobs the steps completed, or null with a warning when no passing step made jobs. */
function planConsumers(counts: readonly ReplicaCountResult[], settings: PlanSettings, warnings: string[]): CapacityPlan['keda'] {
  const measuredJob = measuredSecondsPerJob(counts, settings.consumers);
  const secondsPerJob = settings.jobTimeSec ?? measuredJob;
  const perIteration = jobsPerIteration(counts);
  if (perIteration === null) {
    if (counts.some((c) => c.steps.some((st) => st.telemetry.jobsCompleted !== null))) {
      warnings.push('no passing step completed any job (a sold-out flash sale places no orders): the queue consumers were not sized');
    }
    return null;
  }
  const k = planKeda({ secondsPerJob, acceptableWaitSec: settings.queueWaitSec, peakJobRate: perIteration * settings.peakRate, headroom: settings.headroom });
  warnings.push(...k.warnings);
  return { ...k, secondsPerJob, jobsPerIteration: perIteration, source: settings.jobTimeSec !== undefined ? '--job-time' : measuredJob !== null ? 'measured' : null };
}

/**
 * Within the measured range a measured knee outranks the model: the fewest
 * replicas the model gives (n, or null when the model cannot reach the rate)
 * is raised past every count where nothing passed, and past measured counts
 * whose knee is below the required rate; a measured count that sustained the
 * rate stands even where the model says no count does. Returns the count and
 * a note when it moved, or why the measurements and the model cannot agree.
 */
export function checkAgainstMeasured(n: number | null, required: number, measured: readonly ReplicaCountResult[], failed: readonly ReplicaCountResult[]): { n: number | null; note?: string; contradiction?: string } {
  const floor = Math.max(0, ...failed.map((c) => c.replicas));
  const covering = (above: number): ReplicaCountResult | undefined =>
    measured.filter((c) => c.replicas > above && c.knee! >= required).sort((a, b) => a.replicas - b.replicas)[0];
  if (n === null) {
    const cover = covering(floor);
    return cover ? { n: cover.replicas, note: `${cover.replicas} replicas sustained ${r1(cover.knee!)} it/s (measured), though the model tops out below ${r1(required)} it/s` } : { n: null };
  }
  let note: string | undefined;
  if (n <= floor) {
    note = `raised from ${n} to ${floor + 1}: no rate met the SLOs with ${plural(floor, 'replica')}`;
    n = floor + 1;
  }
  const short = measured.filter((c) => c.replicas >= n! && c.knee! < required).sort((a, b) => b.replicas - a.replicas)[0];
  if (short?.generatorLimited) {
    return { n, contradiction: `the model says ${plural(n, 'replica')} carry ${r1(required)} it/s, but the generator could not load ${short.replicas} replicas past ${r1(short.knee!)} it/s to confirm it` };
  }
  if (short) {
    const cover = covering(short.replicas);
    if (!cover) return { n, contradiction: `the model says ${plural(n, 'replica')} carry ${r1(required)} it/s, but ${short.replicas} sustained only ${r1(short.knee!)} it/s` };
    note = `raised from ${n} to ${cover.replicas}: ${short.replicas} replicas sustained only ${r1(short.knee!)} it/s of the ${r1(required)} it/s required, ${cover.replicas} sustained ${r1(cover.knee!)} it/s`;
    n = cover.replicas;
  }
  return { n, note };
}

/** Inconclusive, with the model kept for reference but no recommendation or autoscaler settings. */
function inconclusive(reasons: string[], remeasure: string[], rest: Pick<CapacityPlan, 'model' | 'replicas' | 'warnings'>): CapacityPlan {
  return { verdict: 'inconclusive', reasons, remeasure, ...rest, hpa: null, keda: null, surge: null };
}

/**
 * From the knees per replica count: the verdict, the scalability model,
 * replicas for the peak, the HPA's CPU target and the queue consumers' KEDA
 * target. Only a `recommended` verdict carries autoscaler settings. Pure.
 */
export function planCapacity(counts: readonly ReplicaCountResult[], settings: PlanSettings): CapacityPlan {
  // An interrupted count's knee is often just where its probe started: not a measurement of it.
  const done = counts.filter((c) => c.outcome !== 'interrupted');
  const measured = done.filter((c) => c.knee !== null && c.knee > 0);
  const failed = done.filter((c) => c.knee === null && (c.outcome === 'nothingPassed' || c.outcome === 'loadIndependent'));
  const unsettled = done.filter((c) => c.knee === null && !failed.includes(c));
  const warnings: string[] = [];
  const stalls = done.filter((c) => c.outcome === 'loadIndependent');
  if (stalls.length || (failed.length && !measured.length && !unsettled.length)) {
    const diagnoses = (stalls.length ? stalls : failed).map((c) => c.diagnosis ?? `nothing passed with ${plural(c.replicas, 'replica')}`);
    return { verdict: 'infeasible', reasons: diagnoses, remeasure: [], ...noPlan, warnings: ['no rate met the SLOs: nothing to recommend'] };
  }
  if (unsettled.length) {
    return inconclusive(unsettled.map((c) => `the search at ${plural(c.replicas, 'replica')} ended without a knee (${c.outcome})`),
      [`measure --replicas ${unsettled.map((c) => c.replicas).join(',')} again with a longer --steady window`], { model: null, replicas: null, warnings });
  }
  if (!measured.length) return inconclusive(['no replica count was measured to the end'], ['run the measurement to the end'], { model: null, replicas: null, warnings });
  const points = measured.map((c) => ({ n: c.replicas, x: c.knee! }));
  let model: ScalingModel;
  try {
    model = scalingModel(points);
  } catch (err) {
    if (!(err instanceof UslDataError)) throw err;
    return inconclusive([`the scalability model could not be fitted: ${err.message}`], [], { model: null, replicas: null, warnings });
  }
  warnings.push(...model.warnings);
  if (measured.some((c) => c.generatorLimited)) warnings.push('some knees are lower bounds (the generator was the limit): the model understates the target');
  for (const c of failed) warnings.push(c.diagnosis ?? `nothing passed with ${plural(c.replicas, 'replica')}`);
  const replicas = planReplicas({ model, peakRate: settings.peakRate, baseRate: settings.baseRate, headroom: settings.headroom });
  warnings.push(...replicas.warnings);
  const out = { model: modelOut(model, points), replicas, warnings };

  // Inconclusive: knees that contradict each other, or a model that misses them.
  const disagreements = crossCheck(done);
  const doubts = [
    ...disagreements.filter((d) => d.kind === 'superlinear').map((d) => `super-linear: ${d.text}`),
    ...disagreements.filter((d) => d.kind === 'falls' && failed.some((c) => c.replicas === d.replicas[1])).map((d) => `more replicas did worse: ${d.text}`),
    ...modelMisses(measured, model.fit),
  ];
  if (doubts.length) {
    const suspects = [...new Set(disagreements.flatMap((d) => d.replicas))];
    return inconclusive(doubts, [`measure ${suspects.length ? `--replicas ${suspects.join(',')}` : 'the counts'} again with a longer --steady window, on a quiet machine; add a count between them to see the trend`], out);
  }
  const checked = checkAgainstMeasured(replicas.feasible ? replicas.replicas! : null, replicas.requiredRate, measured, failed);
  if (checked.contradiction) return inconclusive([checked.contradiction], [`measure more replica counts above ${Math.max(...measured.map((c) => c.replicas))}`], out);
  if (checked.n === null) return { verdict: 'infeasible', reasons: [`no replica count serves the peak: ${replicas.reason}`], remeasure: [], ...out, hpa: null, keda: null, surge: null };
  const n = checked.n;
  const base = checkAgainstMeasured(replicas.feasible ? replicas.minReplicas! : n, settings.baseRate * (1 + settings.headroom), measured, failed);
  const minReplicas = Math.min(base.n ?? n, n);
  const arithmetic = [...replicas.arithmetic, ...(checked.note ? [checked.note] : []), ...(base.note ? [`minReplicas ${base.note}`] : [])];
  const plan: ReplicaPlan = { ...replicas, feasible: true, replicas: n, maxReplicas: n, minReplicas, modelledRate: uslThroughput(model.fit, n), reason: undefined, arithmetic };
  // The knee per replica: measured where it was, modelled between; CPU at the count nearest the autoscaler's floor.
  const kneeAt = new Map(measured.map((c) => [c.replicas, c.knee!]));
  const nearest = [...measured].sort((a, b) => Math.abs(a.replicas - minReplicas) - Math.abs(b.replicas - minReplicas))[0]!;
  const kneePerReplica = (m: number): number => (kneeAt.get(m) ?? uslThroughput(model.fit, m)) / m;
  const cpuAtKneePercent = nearest.atKnee?.cpuPerReplicaPercent ?? null;
  const autoscaler = settings.autoscaler ?? resolveAutoscalerSettings({ reference: false, stack: undefined, env: {}, podStartupMs: settings.podStartupSec * 1000 });
  const hpa = planHpa({
    kneePerReplica, cpuAtKneePercent, minReplicas, maxReplicas: n,
    baseRate: settings.baseRate, peakRate: settings.peakRate, rampSec: settings.rampSec,
    podStartupSec: autoscaler.podStartupSec, syncSec: autoscaler.syncSec, tolerance: autoscaler.tolerance,
    measuredCounts: measured.map((c) => c.replicas),
  });
  warnings.push(...hpa.warnings);
  const keda = planConsumers(counts, settings, warnings);
  const surge = predictSurge({
    hpa, keda, kneePerReplica, cpuAtKneePercent, autoscaler, queueWaitSec: settings.queueWaitSec,
    surge: settings.surge ?? planSurgeProfile(settings, autoscaler),
  });
  const measuredAt = measured.find((c) => c.replicas === n);
  const evidence = measuredAt
    ? `measured: ${r1(measuredAt.knee!)} it/s with ${plural(n, 'replica')}${measuredAt.kneeConfidence === 'leaning' ? ' (its pass only leaned that way: not settled at 95% confidence)' : ''}`
    : `modelled: ${r1(plan.modelledRate!)} it/s with ${plural(n, 'replica')}`;
  return {
    verdict: 'recommended',
    reasons: [`${plural(n, 'replica')} for a peak of ${r1(settings.peakRate)} it/s with ${Math.round(settings.headroom * 100)}% headroom (${r1(plan.requiredRate)} it/s; ${evidence})`],
    remeasure: [],
    ...out, replicas: plan, hpa, keda, surge, warnings,
  };
}
