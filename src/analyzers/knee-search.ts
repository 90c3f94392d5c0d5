/** How the search is set up. Rates are flow iterations started per second (the scenario's arrivalRate). */
export interface KneeSearchOptions {
  /** The first rate tried. */
  startRate: number;
  /** Never offer more than this. */
  maxRate: number;
  /** Stop when (lowest failing − highest passing) / highest passing is at most this. Default 0.05. */
  precision?: number;
  /** Factor between probe steps. Default 2. */
  growth?: number;
  /** Give up going down below this rate. Default startRate / 64. */
  minRate?: number;
}

export type KneeSearchPhase = 'probe' | 'bisect' | 'done';

/** Why the search stopped. */
export type KneeSearchOutcome =
  /** The bracket is within the precision: the knee is its lower end. */
  | 'converged'
  /** Even maxRate passed: the knee is at least maxRate. */
  | 'maxRate'
  /** Nothing down to minRate passed. */
  | 'nothingPassed';

/**
 * Finds the highest sustainable rate: an exponential probe (x growth from
 * startRate until a step fails, or down from startRate until one passes), then
 * bisection of the bracket [highest pass, lowest fail] until it is within the
 * precision. Pure: the caller measures each rate it is given and records the
 * verdict; a step is assumed to pass below the knee and fail above it.
 */
export class KneeSearch {
  private low: number | undefined;
  private high: number | undefined;
  private pending: number | undefined;
  private outcome: KneeSearchOutcome | undefined;
  private readonly precision: number;
  private readonly growth: number;
  private readonly minRate: number;

  constructor(private readonly opts: KneeSearchOptions) {
    if (!(opts.startRate > 0) || !(opts.maxRate >= opts.startRate)) throw new Error('knee search needs 0 < startRate <= maxRate');
    this.precision = opts.precision ?? 0.05;
    this.growth = opts.growth ?? 2;
    this.minRate = opts.minRate ?? opts.startRate / 64;
    if (!(this.precision > 0) || !(this.growth > 1)) throw new Error('knee search needs precision > 0 and growth > 1');
    this.pending = opts.startRate;
  }

  get phase(): KneeSearchPhase {
    if (this.outcome) return 'done';
    return this.low !== undefined && this.high !== undefined ? 'bisect' : 'probe';
  }

  /** Highest rate that passed and lowest that failed so far. */
  get bracket(): { low?: number; high?: number } {
    return { low: this.low, high: this.high };
  }

  /** The next rate to measure, or undefined when the search is over. */
  next(): number | undefined {
    return this.outcome ? undefined : this.pending;
  }

  /** Records the verdict for the rate next() gave. */
  record(rate: number, passed: boolean): void {
    if (this.outcome) throw new Error('the knee search is over');
    // A noisy target can pass above a failure or fail below a pass. Failures win:
    // a pass at or above the lowest failure is ignored, and a failure at or below
    // the highest pass discards that pass (the search then goes down from it).
    if (passed) {
      if (this.high === undefined || rate < this.high) this.low = Math.max(this.low ?? 0, rate);
    } else {
      this.high = Math.min(this.high ?? Infinity, rate);
      if (this.low !== undefined && this.low >= this.high) this.low = undefined;
    }
    this.pending = this.choose();
  }

  /** The knee found (the highest passing rate), and why the search stopped. */
  result(): { knee: number | undefined; outcome: KneeSearchOutcome | undefined; low?: number; high?: number } {
    return { knee: this.low, outcome: this.outcome, low: this.low, high: this.high };
  }

  private choose(): number | undefined {
    const { low, high } = this;
    if (low !== undefined && high !== undefined) {
      if ((high - low) / low <= this.precision) return this.finish('converged');
      return (low + high) / 2;
    }
    if (high === undefined) {
      // Everything so far passed: go up.
      if (low! >= this.opts.maxRate) return this.finish('maxRate');
      return Math.min(low! * this.growth, this.opts.maxRate);
    }
    // Everything so far failed: go down.
    const down = high / this.growth;
    if (down < this.minRate) return this.finish('nothingPassed');
    return down;
  }

  private finish(outcome: KneeSearchOutcome): undefined {
    this.outcome = outcome;
    return undefined;
  }
}
