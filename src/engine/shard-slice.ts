import { RampArrivals, type ScheduledPhase } from '../scenarios/schedule.js';

/**
 * One engine's slice of a run's schedule: engine `index` of `count` takes
 * the open model's arrivals k ≡ index (mod count) and the closed model's
 * virtual users j ≡ index (mod count). Every engine of every process runs
 * one slice, so the slices of a run together are exactly its schedule.
 */
export interface EngineSlice {
  index: number;
  count: number;
}

/** Most shards of one distributed run (`--shard I/N`, `k8s job --parallelism`, what `merge` takes). */
export const MAX_SHARDS = 1000;

/** A process's part of a distributed run (`--shard I/N`): `index` from 0. */
export interface ProcessShard {
  index: number;
  count: number;
}

/**
 * The engine slices of one process: worker w of process shard i (of N, each
 * with its own number of workers W) runs slice i + N·w of N·W. Interleaving
 * by process first means every process's engines together take arrivals
 * k ≡ i (mod N), whatever W each process uses, so N processes with any
 * workers run exactly what one process running the whole schedule would.
 */
export function engineSlices(shard: ProcessShard | undefined, workers: number): EngineSlice[] {
  const { index, count } = shard ?? { index: 0, count: 1 };
  return Array.from({ length: workers }, (_, w) => ({ index: index + count * w, count: count * workers }));
}

/** Part `index` of `total` split into `count` parts as evenly as whole numbers allow (the first ones get the remainder). */
export function shareOf(total: number, index: number, count: number): number {
  return Math.floor(total / count) + (index < total % count ? 1 : 0);
}

/**
 * A slice's walk through the arrivals (0 .. count-1) of one open-model
 * phase, as its executor goes: `k` is its next own arrival; it is taken (an
 * iteration starts) or skipped with every own arrival due before it (dropped
 * in bulk at the in-flight cap).
 */
export class OwnArrivals {
  /** The next arrival this slice runs. */
  k: number;

  constructor(
    private readonly slice: EngineSlice,
    /** Arrivals of the phase, all slices together. */
    readonly count: number,
  ) {
    this.k = slice.index;
  }

  get done(): boolean {
    return this.k >= this.count;
  }

  /** Takes arrival k and returns it. */
  take(): number {
    const k = this.k;
    this.k += this.slice.count;
    return k;
  }

  /** Skips own arrivals from k to before `due` (at least k itself); returns how many. */
  skipBefore(due: number): number {
    const n = Math.ceil((Math.max(this.k + 1, due) - this.k) / this.slice.count);
    this.k += n * this.slice.count;
    return n;
  }
}

/** The virtual users of a phase with `peak` of them that the slice runs. */
export function ownVus(peak: number, slice: EngineSlice): number[] {
  const own: number[] = [];
  for (let j = slice.index; j < peak; j += slice.count) own.push(j);
  return own;
}

/**
 * The run's iteration numbers (`iteration` in templates, and the row of a
 * sequential data feeder), the same whatever the workers and shards: the
 * open model's arrivals are numbered by their place in the schedule (0, 1,
 * 2, ... over every arrivalRate phase in order, a dropped arrival keeping
 * its number), so N shards together use each number exactly once, as one
 * process does. The closed model's iterations are not scheduled (a virtual
 * user runs as many as it can), so they are numbered after every arrival,
 * slice by slice (local·count + index): unique in the run, but with gaps
 * when slices run different numbers of iterations.
 */
export class IterationNumbers {
  private readonly bases = new Map<number, number>();
  /** Arrivals of every arrivalRate phase of the run. */
  readonly arrivals: number;

  constructor(phases: readonly ScheduledPhase[]) {
    let base = 0;
    for (const sp of phases) {
      if (sp.phase.kind !== 'arrivalRate') continue;
      this.bases.set(sp.index, base);
      base += arrivalsOf(sp).count;
    }
    this.arrivals = base;
  }

  /** The number of arrival k of the arrivalRate phase with this index. */
  open(phaseIndex: number, k: number): number {
    return this.bases.get(phaseIndex)! + k;
  }

  /** The number of the slice's `local`-th closed-model iteration (from 0). */
  closed(local: number, slice: EngineSlice): number {
    return this.arrivals + local * slice.count + slice.index;
  }
}

/** The arrival schedule of an arrivalRate phase, as its executor runs it. */
export function arrivalsOf(sp: ScheduledPhase): RampArrivals {
  const { phase } = sp;
  if (phase.kind !== 'arrivalRate') throw new Error(`phase ${sp.index} is not an arrivalRate phase`);
  return new RampArrivals(phase.arrivalRate, phase.rampTo, phase.durationMs / 1000);
}
