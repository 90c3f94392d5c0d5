import { planHpa, planKeda, type HpaPlan, type KedaPlan } from './autoscaler.js';
import type { KneeSearchOutcome } from './knee-search.js';
import { planReplicas, scalingModel, type ReplicaPlan, type ScalingModel } from './replica-plan.js';
import { UslDataError, uslThroughput } from './usl.js';
import type { StepTelemetry, StepVerdict } from './step-verdict.js';

/** The knee search at one replica count. */
export interface ReplicaCountResult {
  replicas: number;
  /** Highest rate that passed, flow iterations per second (null: none did). */
  knee: number | null;
  /** Index in `steps` of the knee's step. */
  kneeStep: number | null;
  /** Requests per second measured at the knee. */
  kneeRps: number | null;
  /** Lowest rate that failed (null: none did). */
  firstFailure: number | null;
  outcome: KneeSearchOutcome | 'generatorLimited' | 'interrupted';
  /** The generator, not the target, failed a step: the knee is a lower bound. */
  generatorLimited: boolean;
  /** What the target's metrics showed at the knee. */
  atKnee: StepTelemetry | null;
  steps: StepVerdict[];
  warnings: string[];
}

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
}

export interface CapacityPlan {
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
 * replicas × drain time ÷ backlog (waiting + active + delayed at the end of
 * the load), where the backlog was at least 20 jobs and took at least 5 s to
 * drain. Median over the steps that qualify; null when none did.
 */
export function measuredSecondsPerJob(counts: readonly ReplicaCountResult[]): number | null {
  const samples = counts.flatMap((c) => c.steps.flatMap((s) => {
    const { queueDepthFinal: q, drainTimeSec: d } = s.telemetry;
    return q !== null && d !== null && q >= MIN_BACKLOG && d >= MIN_DRAIN_SEC ? [(c.replicas * d) / q] : [];
  }));
  return samples.length ? median(samples) : null;
}

/**
 * Jobs per flow iteration (checkouts per iteration, for the reference shop):
 * the median over passing steps that made jobs at all. Steps with none are
 * left out: a flash sale's stock runs out, and later steps place no orders.
 */
function jobsPerIteration(counts: readonly ReplicaCountResult[], steadySec: number): number | null {
  const ratios = counts.flatMap((c) => c.steps.flatMap((s) => {
    const jobs = s.telemetry.jobsCompleted;
    return s.passed && jobs !== null && jobs > 0 && s.rate > 0 ? [jobs / (s.rate * steadySec)] : [];
  }));
  return ratios.length ? median(ratios) : null;
}

/**
 * From the knees per replica count: the scalability model, replicas for the
 * peak, the HPA's CPU target and the queue consumers' KEDA target. Pure.
 */
export function planCapacity(counts: readonly ReplicaCountResult[], settings: PlanSettings, steadySec: number): CapacityPlan {
  // An interrupted count's knee is often just where its probe started: not a measurement of it.
  const measured = counts.filter((c) => c.knee !== null && c.knee > 0 && c.outcome !== 'interrupted');
  const warnings: string[] = [];
  if (measured.length === 0) return { model: null, replicas: null, hpa: null, keda: null, warnings: ['no replica count sustained any rate: nothing to model'] };
  const points = measured.map((c) => ({ n: c.replicas, x: c.knee! }));
  let model: ScalingModel;
  try {
    model = scalingModel(points);
  } catch (err) {
    if (!(err instanceof UslDataError)) throw err;
    return { model: null, replicas: null, hpa: null, keda: null, warnings: [`the scalability model could not be fitted: ${err.message}`] };
  }
  warnings.push(...model.warnings);
  if (measured.some((c) => c.generatorLimited)) warnings.push('some knees are lower bounds (the generator was the limit): the model understates the target');
  const replicas = planReplicas({ model, peakRate: settings.peakRate, baseRate: settings.baseRate, headroom: settings.headroom });
  warnings.push(...replicas.warnings);

  let hpa: HpaPlan | null = null;
  if (replicas.feasible) {
    // CPU at the knee: the measured count nearest the autoscaler's floor, where the surge starts.
    const nearest = [...measured].sort((a, b) => Math.abs(a.replicas - replicas.minReplicas!) - Math.abs(b.replicas - replicas.minReplicas!))[0]!;
    hpa = planHpa({
      kneePerReplica: (m) => uslThroughput(model.fit, m) / m,
      cpuAtKneePercent: nearest.atKnee?.cpuPerReplicaPercent ?? null,
      minReplicas: replicas.minReplicas!,
      maxReplicas: replicas.maxReplicas!,
      baseRate: settings.baseRate,
      peakRate: settings.peakRate,
      rampSec: settings.rampSec,
      podStartupSec: settings.podStartupSec,
    });
    warnings.push(...hpa.warnings);
  }

  const measuredJob = measuredSecondsPerJob(counts);
  const secondsPerJob = settings.jobTimeSec ?? measuredJob;
  const perIteration = jobsPerIteration(counts, steadySec);
  let keda: CapacityPlan['keda'] = null;
  if (perIteration === null) {
    if (counts.some((c) => c.steps.some((st) => st.telemetry.jobsCompleted !== null))) {
      warnings.push('no passing step completed any job (a sold-out flash sale places no orders): the queue consumers were not sized');
    }
  } else {
    const k = planKeda({ secondsPerJob, acceptableWaitSec: settings.queueWaitSec, peakJobRate: perIteration * settings.peakRate, headroom: settings.headroom });
    keda = { ...k, secondsPerJob, jobsPerIteration: perIteration, source: settings.jobTimeSec !== undefined ? '--job-time' : measuredJob !== null ? 'measured' : null };
    warnings.push(...k.warnings);
  }

  const { fit } = model;
  return {
    model: {
      ...fit,
      kind: model.kind,
      peakReplicas: finiteOrNull(fit.peakConcurrency),
      peakThroughput: finiteOrNull(fit.peakThroughput),
      points: points.map((p) => ({ replicas: p.n, throughput: p.x })),
    },
    replicas,
    hpa,
    keda,
    warnings,
  };
}
