import { levenbergMarquardt } from 'ml-levenberg-marquardt';
import { inverse, Matrix, SingularValueDecomposition } from 'ml-matrix';

/**
 * Universal Scalability Law (Gunther): X(N) = lambda·N / (1 + sigma·(N−1) + kappa·N·(N−1)).
 * Fitted by bounded nonlinear least squares on measured (concurrency, throughput) points.
 */

/** One measurement: throughput `x` at concurrency `n`. */
export interface UslPoint {
  /** Concurrency (users, workers, nodes): > 0. */
  n: number;
  /** Throughput in the caller's unit (requests/s, scripts/h, ...): >= 0. */
  x: number;
}

/** The three USL coefficients. */
export interface UslParameters {
  /** Contention (serial fraction), in [0, 1]. */
  sigma: number;
  /** Coherency (crosstalk), >= 0. */
  kappa: number;
  /** Throughput of one unit of concurrency, X(1), in the data's throughput unit. */
  lambda: number;
}

/** Per-parameter values, or null where they cannot be estimated. */
export interface UslByParameter<T> {
  sigma: T | null;
  kappa: T | null;
  lambda: T | null;
}

/** A fitted USL model: the coefficients, their uncertainty, the fit's quality and the peak. */
export interface UslFit extends UslParameters {
  /**
   * Asymptotic standard errors: cov = s²·(JᵀJ)⁻¹ with s² = SSE/(points − 3), J the
   * model's Jacobian at the optimum (as R's nls and the `usl` package compute them).
   * Null with no degrees of freedom left or a singular JᵀJ.
   */
  stdErrors: UslByParameter<number>;
  /** The parameters' covariance matrix, rows and columns in the order sigma, kappa, lambda (null when standard errors are). */
  covariance: number[][] | null;
  /** 95% confidence intervals: estimate ± t(0.975, points − 3)·standard error. */
  ci95: UslByParameter<readonly [number, number]>;
  /** Coefficient of determination, 1 − SSE/SST (1 for a perfect fit of constant data). */
  r2: number;
  /** Sum of squared residuals, in throughput units squared. */
  sse: number;
  /** Residual degrees of freedom: points − 3. */
  dof: number;
  /** Number of points fitted; each measurement counts, repeated concurrency values included. */
  pointCount: number;
  /** Concurrency of peak throughput, sqrt((1 − sigma)/kappa); Infinity when kappa = 0. */
  peakConcurrency: number;
  /** X at peakConcurrency; with kappa = 0 the asymptote lambda/sigma (Infinity when sigma = 0 too). */
  peakThroughput: number;
  /** Largest concurrency measured. */
  maxMeasuredN: number;
}

/** A forecast, or the reason there is none. */
export type UslForecast =
  | { ok: true; n: number; throughput: number; warning?: string }
  | { ok: false; n: number; reason: string };

/** Data the USL cannot be fitted to; the message says why, for the user. */
export class UslDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UslDataError';
  }
}

/** Modelled throughput at concurrency n. */
export function uslThroughput(p: UslParameters, n: number): number {
  return (p.lambda * n) / (1 + p.sigma * (n - 1) + p.kappa * n * (n - 1));
}

/**
 * Forecast throughput at concurrency n. Refuses past the peak N* (beyond it the
 * model only says "worse", and retrograde throughput is where it is least
 * trustworthy); warns past twice the largest measured concurrency.
 */
export function forecastUsl(fit: UslFit, n: number): UslForecast {
  if (!Number.isFinite(n) || n <= 0) return { ok: false, n, reason: `concurrency must be a positive number, got ${n}` };
  if (n > fit.peakConcurrency) {
    return { ok: false, n, reason: `the model's throughput falls beyond N*=${fmt(fit.peakConcurrency)}; not forecasting n=${fmt(n)}` };
  }
  const throughput = uslThroughput(fit, n);
  return n > 2 * fit.maxMeasuredN
    ? { ok: true, n, throughput, warning: `extrapolating beyond twice the largest measured count (${fmt(fit.maxMeasuredN)})` }
    : { ok: true, n, throughput };
}

/**
 * Fits the USL to at least 3 distinct concurrency values by bounded least squares
 * (sigma in [0, 1], kappa >= 0, lambda > 0). Throws UslDataError on unusable data.
 */
export function fitUsl(points: readonly UslPoint[]): UslFit {
  checkPoints(points);
  const p = bestFit(points);
  const sse = sumSquares(points, p);
  const mean = points.reduce((s, q) => s + q.x, 0) / points.length;
  const sst = points.reduce((s, q) => s + (q.x - mean) ** 2, 0);
  const dof = points.length - 3;
  const { covariance, ...stdErrors } = standardErrors(points, p, sse, dof);
  const t = dof > 0 ? studentT975(dof) : NaN;
  const ci = (v: number, se: number | null): readonly [number, number] | null => (se === null ? null : [v - t * se, v + t * se]);
  const peakConcurrency = p.kappa > 0 ? Math.sqrt((1 - p.sigma) / p.kappa) : Infinity;
  const peakThroughput = p.kappa > 0 ? uslThroughput(p, peakConcurrency) : p.sigma > 0 ? p.lambda / p.sigma : Infinity;
  return {
    ...p,
    stdErrors,
    covariance,
    ci95: { sigma: ci(p.sigma, stdErrors.sigma), kappa: ci(p.kappa, stdErrors.kappa), lambda: ci(p.lambda, stdErrors.lambda) },
    r2: sst > 0 ? 1 - sse / sst : sse === 0 ? 1 : 0,
    sse,
    dof,
    pointCount: points.length,
    peakConcurrency,
    peakThroughput,
    maxMeasuredN: Math.max(...points.map((q) => q.n)),
  };
}

function checkPoints(points: readonly UslPoint[]): void {
  for (const [i, q] of points.entries()) {
    if (!Number.isFinite(q.n) || q.n <= 0) throw new UslDataError(`point ${i + 1}: concurrency must be a positive finite number, got ${q.n}`);
    if (!Number.isFinite(q.x) || q.x < 0) throw new UslDataError(`point ${i + 1}: throughput must be a finite number >= 0, got ${q.x}`);
  }
  const distinct = new Set(points.map((q) => q.n)).size;
  if (distinct < 3) throw new UslDataError(`the USL needs at least 3 distinct concurrency values, got ${distinct}`);
  if (points.every((q) => q.x === 0)) throw new UslDataError('every throughput is 0');
}

function sumSquares(points: readonly UslPoint[], p: UslParameters): number {
  return points.reduce((s, q) => s + (q.x - uslThroughput(p, q.n)) ** 2, 0);
}

type Key = keyof UslParameters;

/**
 * Where the bounded optimum may lie: inside the box, or on a face where sigma
 * or kappa sits on a bound. LM clamps a step that would cross a bound, which
 * bends the other parameters' step and can stall them short of the optimum; so
 * each face is fitted with its bound parameters held fixed, and the best wins.
 */
const FACES: readonly Partial<Record<'sigma' | 'kappa', 0 | 1>>[] = [{}, { kappa: 0 }, { sigma: 0 }, { sigma: 0, kappa: 0 }, { sigma: 1 }, { sigma: 1, kappa: 0 }];

/** Lowest SSE over the faces, several LM starts each; a fit with fewer free parameters wins a tie. */
function bestFit(points: readonly UslPoint[]): UslParameters {
  // lambda is X(1); the smallest-n point's throughput per unit concurrency is a lower bound for it.
  const first = points.reduce((a, b) => (b.n < a.n || (b.n === a.n && b.x > a.x) ? b : a));
  const lambda = first.x > 0 ? first.x / first.n : Math.max(...points.map((q) => q.x / q.n));
  const nMax = Math.max(...points.map((q) => q.n));
  // An SSE difference below this is rounding, not a better fit.
  const tie = 1e-12 * points.reduce((s, q) => s + q.x * q.x, 0);
  let best: { p: UslParameters; sse: number; free: number } | undefined;
  for (const face of FACES) {
    const free = (['sigma', 'kappa', 'lambda'] as const).filter((k) => !(k in face));
    // Starting kappa: the coherency term kappa·nMax² at 0, 0.1, 1 and 10.
    for (const sigma of face.sigma === undefined ? [0.01, 0.1, 0.5] : [face.sigma]) {
      for (const k of face.kappa === undefined ? [0, 0.1, 1, 10] : [0]) {
        const p = levenberg(points, { sigma, kappa: k / (nMax * nMax), lambda }, free);
        if (!p) continue;
        const sse = sumSquares(points, p);
        if (!best || sse < best.sse - tie || (sse <= best.sse + tie && free.length < best.free)) best = { p, sse, free: free.length };
      }
    }
  }
  if (!best) throw new UslDataError('the fit did not converge');
  return snapToBounds(best.p, nMax);
}

/**
 * Levenberg–Marquardt over the `free` coefficients, the others held at `start`.
 * Scaled so every parameter and residual is of order 1: throughput and lambda
 * are divided by the largest throughput, and kappa is fitted as kappa·nMax² (the
 * coherency term at the largest concurrency). Unscaled, kappa ~ 1e-4 beside
 * lambda ~ 1e3 leaves LM's isotropic damping stuck.
 */
function levenberg(points: readonly UslPoint[], start: UslParameters, free: readonly Key[]): UslParameters | undefined {
  const yScale = Math.max(...points.map((q) => q.x));
  const nMax = Math.max(...points.map((q) => q.n));
  const scale: UslParameters = { sigma: 1, kappa: 1 / (nMax * nMax), lambda: yScale };
  const unpack = (v: number[]): UslParameters => {
    const p = { ...start };
    free.forEach((k, i) => (p[k] = v[i]! * scale[k]));
    return p;
  };
  const data = { x: points.map((q) => q.n), y: points.map((q) => q.x / yScale) };
  const model = (v: number[]) => {
    const p = unpack(v);
    return (n: number) => uslThroughput(p, n) / yScale;
  };
  const jacobian = (v: number[]) => {
    const p = unpack(v);
    return (n: number) => {
      const d = 1 + p.sigma * (n - 1) + p.kappa * n * (n - 1);
      const dd = (p.lambda * n * (n - 1)) / (d * d);
      const all: UslParameters = { sigma: -dd, kappa: -dd * n, lambda: n / d };
      return free.map((k) => (all[k] * scale[k]) / yScale);
    };
  };
  const bounds: Record<Key, [number, number]> = { sigma: [0, 1], kappa: [0, Number.MAX_VALUE], lambda: [Number.MIN_VALUE, Number.MAX_VALUE] };
  const r = levenbergMarquardt(data, model, {
    initialValues: free.map((k) => start[k] / scale[k]),
    minValues: free.map((k) => bounds[k][0]),
    maxValues: free.map((k) => bounds[k][1]),
    jacobianFunction: jacobian,
    damping: 1e-2,
    maxIterations: 200,
    // Run the iterations out rather than stop at an absolute SSE: exact data reaches ~0.
    errorTolerance: 0,
  });
  return Number.isFinite(r.parameterError) ? unpack(r.parameterValues) : undefined;
}

/**
 * A coefficient on its lower bound comes back as 0 or as numeric noise just
 * above it; noise in kappa would turn an unbounded model into a peak at an
 * absurd N. Snap to exactly 0 when the term adds less than 1e-12 of the
 * denominator at the largest measured concurrency.
 */
function snapToBounds(p: UslParameters, nMax: number): UslParameters {
  const d = 1 + p.sigma * (nMax - 1) + p.kappa * nMax * (nMax - 1);
  return {
    sigma: p.sigma * (nMax - 1) < 1e-12 * d ? 0 : p.sigma,
    kappa: p.kappa * nMax * (nMax - 1) < 1e-12 * d ? 0 : p.kappa,
    lambda: p.lambda,
  };
}

/** cov = s²·(JᵀJ)⁻¹, inverted after scaling JᵀJ to unit diagonal (the raw one spans ~20 orders of magnitude). */
function standardErrors(points: readonly UslPoint[], p: UslParameters, sse: number, dof: number): UslByParameter<number> & { covariance: number[][] | null } {
  const none = { sigma: null, kappa: null, lambda: null, covariance: null };
  if (dof <= 0) return none;
  const j = new Matrix(
    points.map(({ n }) => {
      const d = 1 + p.sigma * (n - 1) + p.kappa * n * (n - 1);
      const dd = (p.lambda * n * (n - 1)) / (d * d);
      return [-dd, -dd * n, n / d];
    }),
  );
  const jtj = j.transpose().mmul(j);
  const scale = [0, 1, 2].map((i) => Math.sqrt(jtj.get(i, i)));
  if (scale.some((s) => !(s > 0) || !Number.isFinite(s))) return none;
  const unit = jtj.clone();
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) unit.set(r, c, jtj.get(r, c) / (scale[r]! * scale[c]!));
  const sv = new SingularValueDecomposition(unit).diagonal;
  if (Math.min(...sv) < 1e-12 * Math.max(...sv)) return none;
  const inv = inverse(unit);
  const s2 = sse / dof;
  const covariance = [0, 1, 2].map((r) => [0, 1, 2].map((c) => (s2 * inv.get(r, c)) / (scale[r]! * scale[c]!)));
  const se = (i: number): number => Math.sqrt(covariance[i]![i]!);
  return { sigma: se(0), kappa: se(1), lambda: se(2), covariance };
}

/** Two-sided 95% quantiles of Student's t, t(0.975, dof), for dof 1..30 (to 10 digits). */
const T975 = [
  12.70620474, 4.30265273, 3.182446305, 2.776445105, 2.570581836, 2.446911851, 2.364624252, 2.306004135, 2.262157163, 2.228138852,
  2.200985160, 2.178812830, 2.160368656, 2.144786688, 2.131449546, 2.119905299, 2.109815578, 2.100922040, 2.093024054, 2.085963447,
  2.079613845, 2.073873068, 2.068657610, 2.063898562, 2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456,
];

/**
 * t(0.975, dof): the table above for dof <= 30; beyond, the Cornish–Fisher
 * expansion around the normal quantile (Abramowitz & Stegun 26.7.5, four terms),
 * which is within 3e-8 of the exact value from dof 30 up.
 */
function studentT975(dof: number): number {
  if (dof <= 30) return T975[Math.max(1, Math.floor(dof)) - 1]!;
  const z = 1.959963984540054;
  const [z3, z5, z7, z9] = [z ** 3, z ** 5, z ** 7, z ** 9];
  return z + (z3 + z) / (4 * dof) + (5 * z5 + 16 * z3 + 3 * z) / (96 * dof ** 2) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * dof ** 3) +
    (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * dof ** 4);
}

/** Four significant digits, for messages. */
function fmt(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(4))) : String(v);
}
