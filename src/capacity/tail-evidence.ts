import { probit } from 'simple-statistics';

/**
 * How sure a step's verdict is, for the criteria that count samples past a
 * limit: a latency percentile (`p99 < 200ms` allows 1% of answers slower than
 * 200 ms) and the error rate (`error_rate < 1%` allows 1% errors). Pure.
 */

/** z for a two-sided 95% interval: each side holds with 97.5%. */
export const Z95 = 1.959964;

/**
 * z for a step that may look at its evidence up to `looks` times (a window,
 * then more while undecided): each look spends an equal share of the 2.5%
 * each side may be wrong (Bonferroni), so the step as a whole keeps 95%.
 */
export function zForLooks(looks: number): number {
  return looks <= 1 ? Z95 : probit(1 - 0.025 / looks);
}

/** One second's samples: how many, and how many were past the limit. */
export interface Batch {
  samples: number;
  exceed: number;
}

export type EvidenceVerdict = 'pass' | 'fail' | 'undecided';

/** What the samples say about one criterion. */
export interface TailEvidence {
  /** The threshold as written, e.g. `p99 < 200ms`. */
  expression: string;
  /** Share of samples the criterion allows past its limit (0.01 for p99). */
  allowed: number;
  samples: number;
  /** Samples past the limit (slower answers, or errors). */
  exceed: number;
  /** exceed / samples. */
  observed: number;
  /**
   * Samples once clustering is discounted: slow answers that come in bursts
   * (a pause delays every request in flight) carry less information than as
   * many independent ones. samples / overdispersion.
   */
  effectiveSamples: number;
  /** 95% interval of the share past the limit. */
  low: number;
  high: number;
  /** pass: the whole interval is within the allowance; fail: the whole interval is past it; undecided otherwise. */
  verdict: EvidenceVerdict;
}

/** Wilson score interval of a proportion: k successes of n, at z. Sound near 0 and with few samples, unlike the normal one. */
export function wilsonInterval(k: number, n: number, z = Z95): { low: number; high: number } {
  if (!(n > 0)) return { low: 0, high: 1 };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

/** Neighbouring seconds are pooled until each batch expects this many exceedances: chi-square misleads on smaller counts. */
const MIN_EXPECTED = 5;

/**
 * Overdispersion of per-second counts against a binomial with one common
 * share (Pearson's chi-square over its degrees of freedom), at least 1. It is
 * about 1 when slow answers are independent and grows when they come in
 * bursts; the samples are then worth samples / overdispersion. Neighbouring
 * seconds are pooled until each batch expects 5 exceedances; fewer than 3
 * such batches say nothing about it: 1.
 */
export function overdispersion(batches: readonly Batch[]): number {
  const n = batches.reduce((s, b) => s + b.samples, 0);
  const k = batches.reduce((s, b) => s + b.exceed, 0);
  if (k === 0 || k === n) return 1;
  const p = k / n;
  const used: Batch[] = [];
  let open: Batch = { samples: 0, exceed: 0 };
  for (const b of batches) {
    open = { samples: open.samples + b.samples, exceed: open.exceed + b.exceed };
    if (open.samples * Math.min(p, 1 - p) >= MIN_EXPECTED) {
      used.push(open);
      open = { samples: 0, exceed: 0 };
    }
  }
  // The remainder joins the last batch.
  if (open.samples > 0 && used.length) used[used.length - 1] = { samples: used.at(-1)!.samples + open.samples, exceed: used.at(-1)!.exceed + open.exceed };
  if (used.length < 3) return 1;
  const chi2 = used.reduce((s, b) => s + (b.exceed - b.samples * p) ** 2 / (b.samples * p * (1 - p)), 0);
  return Math.max(1, chi2 / (used.length - 1));
}

/**
 * Judges a tail criterion from its samples. With per-second batches the
 * interval is widened by their overdispersion; without (an endpoint's
 * threshold, known only as a whole) the samples are taken as independent.
 */
export function tailEvidence(expression: string, allowed: number, samples: number, exceed: number, batches?: readonly Batch[], z = Z95): TailEvidence {
  const phi = batches ? overdispersion(batches) : 1;
  const effectiveSamples = samples / phi;
  const observed = samples > 0 ? exceed / samples : 0;
  const { low, high } = wilsonInterval(observed * effectiveSamples, effectiveSamples, z);
  // Nothing measured must not pass: "p99 < 1ms" on no answers fails, as a threshold does.
  const verdict: EvidenceVerdict = samples === 0 ? 'fail' : high <= allowed ? 'pass' : low > allowed ? 'fail' : 'undecided';
  return { expression, allowed, samples, exceed, observed, effectiveSamples, low, high, verdict };
}
