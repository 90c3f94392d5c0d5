import { fitUsl, forecastUsl, uslThroughput, type UslFit, type UslPoint } from './usl.js';

/** A model of throughput against replica count. */
export interface ScalingModel {
  /** usl: all three parameters fitted (3+ replica counts); amdahl: kappa taken as 0 (2 counts); linear: sigma = kappa = 0 (1 count). */
  kind: 'usl' | 'amdahl' | 'linear';
  fit: UslFit;
  warnings: string[];
}

/** A fit with fixed parameters (no standard errors): the fallbacks with fewer than 3 replica counts. */
function fixedFit(points: readonly UslPoint[], sigma: number, lambda: number): UslFit {
  const none = { sigma: null, kappa: null, lambda: null };
  const mean = points.reduce((a, p) => a + p.x, 0) / points.length;
  const sse = points.reduce((a, p) => a + (p.x - uslThroughput({ sigma, kappa: 0, lambda }, p.n)) ** 2, 0);
  const sst = points.reduce((a, p) => a + (p.x - mean) ** 2, 0);
  return {
    sigma, kappa: 0, lambda, stdErrors: none, covariance: null, ci95: none, r2: sst > 0 ? 1 - sse / sst : 1, sse, dof: 0, pointCount: points.length,
    peakConcurrency: Infinity, peakThroughput: sigma > 0 ? lambda / sigma : Infinity, maxMeasuredN: Math.max(...points.map((p) => p.n)),
  };
}

/**
 * Throughput against replicas: the Universal Scalability Law fitted to 3 or
 * more replica counts; with 2, Amdahl's law (kappa = 0) through both points;
 * with 1, linear scaling. The fallbacks say so in their warnings.
 */
export function scalingModel(points: readonly UslPoint[]): ScalingModel {
  const counts = new Set(points.map((p) => p.n)).size;
  if (counts >= 3) return { kind: 'usl', fit: fitUsl(points), warnings: [] };
  if (counts === 2) {
    const [a, b] = [...points].sort((p, q) => p.n - q.n) as [UslPoint, UslPoint];
    // Both points on X(n) = lambda n / (1 + sigma (n − 1)), solved for sigma.
    const r = b.n / a.n;
    const raw = (r * a.x - b.x) / (b.x * (b.n - 1) - r * a.x * (a.n - 1));
    const sigma = Math.min(1, Math.max(0, Number.isFinite(raw) ? raw : 0));
    const lambda = sigma > 0 ? (a.x * (1 + sigma * (a.n - 1))) / a.n : points.reduce((s, p) => s + p.x * p.n, 0) / points.reduce((s, p) => s + p.n * p.n, 0);
    const warnings = ['two replica counts: coherency (kappa) cannot be estimated and is taken as 0, so no retrograde peak is modelled; measure 3 or more counts'];
    if (b.x <= a.x) warnings.push(`throughput did not grow from ${a.n} to ${b.n} replicas (${fmt(a.x)}/s, then ${fmt(b.x)}/s): the model is flat; look for a shared bottleneck, or a host with too few cores`);
    return { kind: 'amdahl', fit: fixedFit(points, sigma, lambda), warnings };
  }
  const p = points[0]!;
  return { kind: 'linear', fit: fixedFit(points, 0, p.x / p.n), warnings: ['one replica count: linear scaling assumed; measure 3 or more counts to fit the scalability model'] };
}

export interface ReplicaPlanInput {
  model: ScalingModel;
  /** The peak to serve, iterations per second. */
  peakRate: number;
  /** The rate before the surge (sets minReplicas), iterations per second. */
  baseRate: number;
  /** Spare capacity kept above the peak, e.g. 0.25. */
  headroom: number;
  /** Never recommend more than this. Default 1000. */
  limit?: number;
}

export interface ReplicaPlan {
  feasible: boolean;
  /** Fewest replicas whose modelled throughput covers the peak plus headroom (null when none does). */
  replicas: number | null;
  /** For the autoscaler: replicas for the base rate plus headroom (at least 1). */
  minReplicas: number | null;
  /** For the autoscaler: the replicas for the peak (never past the modelled peak). */
  maxReplicas: number | null;
  /** peakRate × (1 + headroom). */
  requiredRate: number;
  /** Modelled throughput at the recommended count. */
  modelledRate: number | null;
  reason?: string;
  warnings: string[];
  /** The reasoning, one line each, for people. */
  arithmetic: string[];
}

const modelThroughput = (m: ScalingModel, n: number): number => uslThroughput(m.fit, n);
const fmt = (v: number): string => (Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) : '∞');

/** Fewest replicas n with X(n) >= rate, or the reason there is none. */
function fewestCovering(m: ScalingModel, rate: number, limit: number): { n: number; f: { throughput: number; warning?: string } } | { n: null; reason: string } {
  if (m.fit.kappa === 0 && rate >= m.fit.peakThroughput) {
    return { n: null, reason: m.fit.sigma >= 0.999
      ? `${fmt(rate)}/s is more than the model can reach: throughput did not grow with replicas (${fmt(m.fit.lambda)}/s at any count)`
      : `${fmt(rate)}/s is more than the model can reach: throughput tends to ${fmt(m.fit.peakThroughput)}/s however many replicas run (contention sigma ${m.fit.sigma.toPrecision(3)})` };
  }
  for (let n = 1; n <= limit; n++) {
    const f = forecastUsl(m.fit, n);
    if (!f.ok) return { n: null, reason: `${fmt(rate)}/s is more than the model can reach: its peak is ${fmt(m.fit.peakThroughput)}/s at ${fmt(m.fit.peakConcurrency)} replicas (${f.reason})` };
    if (f.throughput >= rate) return { n, f };
  }
  return { n: null, reason: `more than ${limit} replicas would be needed for ${fmt(rate)}/s` };
}

/**
 * Recommends the fewest replicas whose modelled throughput covers the peak
 * with the headroom margin, and min/max replicas for an autoscaler: min
 * covers the base rate with the same margin, max the peak.
 */
export function planReplicas(input: ReplicaPlanInput): ReplicaPlan {
  const { model, peakRate, baseRate, headroom } = input;
  const limit = input.limit ?? 1000;
  const requiredRate = peakRate * (1 + headroom);
  const arithmetic = [`required = peak × (1 + headroom) = ${fmt(peakRate)} × ${fmt(1 + headroom)} = ${fmt(requiredRate)}/s`];
  const peak = fewestCovering(model, requiredRate, limit);
  if (peak.n === null) {
    return { feasible: false, replicas: null, minReplicas: null, maxReplicas: null, requiredRate, modelledRate: null, reason: peak.reason, warnings: [], arithmetic };
  }
  arithmetic.push(`X(${peak.n}) = ${fmt(peak.f.throughput)}/s >= ${fmt(requiredRate)}/s` + (peak.n > 1 ? `, X(${peak.n - 1}) = ${fmt(modelThroughput(model, peak.n - 1))}/s is not` : ''));
  const base = fewestCovering(model, baseRate * (1 + headroom), limit);
  const minReplicas = Math.min(base.n ?? peak.n, peak.n);
  arithmetic.push(`minReplicas: base ${fmt(baseRate)}/s × ${fmt(1 + headroom)} = ${fmt(baseRate * (1 + headroom))}/s needs ${minReplicas}`);
  return {
    feasible: true,
    replicas: peak.n,
    minReplicas,
    maxReplicas: peak.n,
    requiredRate,
    modelledRate: peak.f.throughput,
    warnings: peak.f.warning ? [peak.f.warning] : [],
    arithmetic,
  };
}
