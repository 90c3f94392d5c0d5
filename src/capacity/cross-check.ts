import { round } from '../analyzers/numbers.js';
import { uslThroughput, type UslParameters } from '../analyzers/usl.js';
import type { ReplicaCountResult } from './count-search.js';

/**
 * Gain per doubling of replicas beyond which knees are called super-linear:
 * linear scaling gives 2x, and a little more is noise or a warmer cache.
 */
export const SUPERLINEAR_PER_DOUBLING = 2.2;
/** Measurement noise allowed around a knee's bracket, beyond the bisection's own width. */
export const KNEE_NOISE = 0.1;

/** Two counts whose knees cannot both be right. */
export interface Disagreement {
  kind: 'superlinear' | 'falls';
  /** The smaller and the larger replica count. */
  replicas: [number, number];
  text: string;
}

const r1 = (v: number): number => round(v, 1);

/** The range a count's true knee lies in: [highest pass, lowest failure), open above when nothing above failed or the generator was the limit. */
export function kneeInterval(c: ReplicaCountResult): { low: number; high: number } {
  return { low: c.knee ?? 0, high: c.generatorLimited || c.firstFailure === null ? Infinity : c.firstFailure };
}

const usable = (counts: readonly ReplicaCountResult[]): ReplicaCountResult[] =>
  counts.filter((c) => c.knee !== null && c.knee > 0 && c.outcome !== 'interrupted').sort((a, b) => a.replicas - b.replicas);

/** Counts measured to the end, with a knee or at least a failure: a count where nothing passed has the bracket [0, lowest failure). */
const judged = (counts: readonly ReplicaCountResult[]): ReplicaCountResult[] =>
  counts.filter((c) => c.outcome !== 'interrupted' && ((c.knee !== null && c.knee > 0) || c.firstFailure !== null)).sort((a, b) => a.replicas - b.replicas);

/**
 * Knees of neighbouring counts that contradict each other even allowing for
 * their brackets: more than 2.2x per doubling of replicas (super-linear), or
 * a fall of more than the noise allowance when replicas are added (nothing
 * passing at all above a count that had a knee is such a fall).
 */
export function crossCheck(counts: readonly ReplicaCountResult[]): Disagreement[] {
  const measured = judged(counts);
  const out: Disagreement[] = [];
  for (let i = 1; i < measured.length; i++) {
    const a = measured[i - 1]!;
    const b = measured[i]!;
    const ia = kneeInterval(a);
    const ib = kneeInterval(b);
    const allowed = SUPERLINEAR_PER_DOUBLING ** Math.log2(b.replicas / a.replicas);
    // A count where nothing passed counts with its lowest failure: nothing at 5 it/s, then 320 it/s with twice the replicas, is super-linear.
    if (ib.low / ia.high > allowed) {
      out.push({ kind: 'superlinear', replicas: [a.replicas, b.replicas], text:
        `${b.replicas} replicas sustained ${r1(ib.low)} it/s, ${r1(ib.low / ia.high)}x the ${r1(ia.high)} it/s that failed with ${a.replicas}${a.knee === null ? ' (where nothing passed)' : ''} (at most ${r1(allowed)}x is plausible for ${r1(b.replicas / a.replicas)}x the replicas)` });
    }
    if (ib.high * (1 + KNEE_NOISE) < ia.low) {
      out.push({ kind: 'falls', replicas: [a.replicas, b.replicas], text: b.knee === null
        ? `nothing passed with ${b.replicas} replicas (down to ${r1(ib.high)} it/s), while ${a.replicas} sustained ${r1(ia.low)} it/s`
        : `${b.replicas} replicas failed at ${r1(ib.high)} it/s, below the ${r1(ia.low)} it/s that ${a.replicas} sustained` });
    }
  }
  return out;
}

/**
 * Measured counts the model misses: its throughput there lies outside the
 * count's bracket widened by the noise allowance. Within the measured range
 * a measured knee outranks the model, so a miss makes the plan inconclusive.
 */
export function modelMisses(counts: readonly ReplicaCountResult[], model: UslParameters): string[] {
  return usable(counts).flatMap((c) => {
    const { low, high } = kneeInterval(c);
    const x = uslThroughput(model, c.replicas);
    if (x >= low / (1 + KNEE_NOISE) && x <= high * (1 + KNEE_NOISE)) return [];
    const range = high === Infinity ? `at least ${r1(low)} it/s` : `${r1(low)}–${r1(high)} it/s`;
    return [`the model gives ${r1(x)} it/s at ${c.replicas} replica${c.replicas > 1 ? 's' : ''}, where ${range} was measured`];
  });
}
