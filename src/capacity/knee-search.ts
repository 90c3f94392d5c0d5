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
  /** Give up going down below this rate. Default startRate / 16. */
  minRate?: number;
  /** A bound on the steps at one count, whatever the noise. Default 40. */
  maxSteps?: number;
}

/** Why a step is measured. */
export type StepPurpose =
  /** Doubling up from the start (or halving down when nothing passed yet). */
  | 'probe'
  /** Halving the bracket [highest pass, lowest failure]. */
  | 'bisect'
  /** Measuring a failure again before believing it. */
  | 'confirm'
  /** Measuring a rate again whose earlier verdict is in doubt (measured cold, or contradicted). */
  | 'recheck';

export type KneeSearchPhase = 'probe' | 'bisect' | 'done';

/** Why the search stopped. */
export type KneeSearchOutcome =
  /** The bracket is within the precision: the knee is its lower end. */
  | 'converged'
  /** Even maxRate passed: the knee is at least maxRate. */
  | 'maxRate'
  /** Nothing down to minRate passed. */
  | 'nothingPassed'
  /** Nothing passed, and the failures did not shrink as the rate fell: stalls, not load, set the tail. */
  | 'loadIndependent'
  /** The step budget ran out before the bracket closed (results kept contradicting each other). */
  | 'stepLimit';

/** What a step found, as the search needs it. */
export interface StepFinding {
  passed: boolean;
  /** The evidence settled the verdict at 95% confidence (false: it leaned that way). */
  decided: boolean;
  /**
   * Worst share of samples past a limit ÷ the share allowed (2 = twice the
   * slow answers a p99 allows), over the tail criteria; null when there were none.
   */
  severity: number | null;
}

interface Observation extends StepFinding {
  rate: number;
  /** Superseded by later measurements where they exist: measured before anything passed (cold), or before a re-measurement. */
  stale: boolean;
}

/** Measurements of one rate at most (first, confirmation, recheck). */
const MAX_OBSERVATIONS = 3;
/** Failures at rates this far apart (highest ÷ lowest) that do not shrink mean the tail does not come from load. */
const STALL_SPAN = 4;
/** The lowest failure's severity must stay above this share of the highest's to call the tail load-independent. */
const STALL_RATIO = 0.5;

/**
 * Finds the highest sustainable rate from noisy step verdicts: an
 * exponential probe, then bisection of [highest pass, lowest failure] until
 * it is within the precision. Noise is handled by measuring again, never by
 * averaging away: a failure that bounds the bracket is believed when it was
 * settled at 95% confidence, and measured again when it only leaned to fail;
 * failures measured before anything passed at this count (a cold target) are
 * re-measured once it is warm; a pass above a failure sends the
 * less-measured of the two back for another look. When nothing passes, the
 * search stops early if the failures do not shrink with the rate (stalls).
 * Pure: the caller measures each rate next() gives and records the finding.
 */
export class KneeSearch {
  private readonly observations: Observation[] = [];
  private outcome: KneeSearchOutcome | undefined;
  private pending: { rate: number; purpose: StepPurpose } | undefined;
  private readonly precision: number;
  private readonly growth: number;
  private readonly minRate: number;
  private readonly maxSteps: number;
  private reopened = 0;
  /** Observations before this index were made before the last resize (reopen): their verdicts are stale. */
  private epochStart = 0;

  constructor(private readonly opts: KneeSearchOptions) {
    if (!(opts.startRate > 0) || !(opts.maxRate >= opts.startRate)) throw new Error('knee search needs 0 < startRate <= maxRate');
    this.precision = opts.precision ?? 0.05;
    this.growth = opts.growth ?? 2;
    this.minRate = opts.minRate ?? opts.startRate / 16;
    this.maxSteps = opts.maxSteps ?? 40;
    if (!(this.precision > 0) || !(this.growth > 1)) throw new Error('knee search needs precision > 0 and growth > 1');
    this.pending = { rate: opts.startRate, purpose: 'probe' };
  }

  get phase(): KneeSearchPhase {
    if (this.outcome) return 'done';
    const { low, high } = this.bracket;
    return low !== undefined && high !== undefined ? 'bisect' : 'probe';
  }

  /** Steps recorded so far. */
  get steps(): number {
    return this.observations.length;
  }

  /** The next rate to measure and why, or undefined when the search is over. */
  next(): { rate: number; purpose: StepPurpose } | undefined {
    return this.outcome ? undefined : this.pending;
  }

  /** Records what the step at the rate next() gave found. */
  record(rate: number, finding: StepFinding): void {
    if (this.outcome) throw new Error('the knee search is over');
    const firstPass = finding.passed && !this.epoch().some((o) => o.passed);
    const added: Observation = { rate, ...finding, stale: false };
    this.observations.push(added);
    // Everything before the first pass (since the target was last resized) was measured on a
    // target that had not yet shown it could pass anything: often a cold one. Look again.
    if (firstPass) for (const o of this.epoch()) if (o !== added) o.stale = true;
    this.pending = this.choose();
  }

  /**
   * Another look at a finished count whose knee contradicts the other counts,
   * after the target was resized to it again: its bracket is measured again,
   * the passing end first (which warms the target), and the fresh
   * measurements replace the old ones. Once per count; false (and nothing
   * changed) when there is nothing left to measure.
   */
  reopen(): boolean {
    if (this.reopened > 0 || this.observations.length === 0) return false;
    const saved = { stale: this.observations.map((o) => o.stale), outcome: this.outcome, epochStart: this.epochStart };
    for (const o of this.observations) o.stale = true;
    this.epochStart = this.observations.length;
    this.outcome = undefined;
    const next = this.choose();
    if (!next) {
      this.observations.forEach((o, i) => void (o.stale = saved.stale[i]!));
      this.outcome = saved.outcome;
      this.epochStart = saved.epochStart;
      return false;
    }
    this.reopened++;
    this.pending = next;
    return true;
  }

  /** Highest rate believed to pass below the lowest believed to fail. */
  get bracket(): { low?: number; high?: number } {
    const fails = this.rates().filter((r) => !this.believed(r)!);
    const high = fails.length ? Math.min(...fails) : undefined;
    const passes = this.rates().filter((r) => this.believed(r)! && (high === undefined || r < high));
    return { low: passes.length ? Math.max(...passes) : undefined, high };
  }

  /** The knee found (the highest passing rate), its bracket, and why the search stopped. */
  result(): {
    knee: number | undefined; low?: number; high?: number; outcome: KneeSearchOutcome | undefined;
    /** The knee's pass was settled at 95% confidence in at least one of its fresh measurements. */
    kneeDecided: boolean;
    /** Rates that passed above a rate that failed, after re-measuring (the verdicts contradict each other). */
    contradictions: number[];
    reopened: boolean;
  } {
    const { low, high } = this.bracket;
    const kneeObs = low === undefined ? [] : this.current(low);
    const contradictions = high === undefined ? [] : this.rates().filter((r) => r > high && this.believed(r));
    return { knee: low, low, high, outcome: this.outcome, kneeDecided: kneeObs.some((o) => o.passed && o.decided), contradictions, reopened: this.reopened > 0 };
  }

  /** Observations since the target was last resized. */
  private epoch(): Observation[] {
    return this.observations.slice(this.epochStart);
  }

  private rates(): number[] {
    return [...new Set(this.observations.map((o) => o.rate))];
  }

  private all(rate: number): Observation[] {
    return this.observations.filter((o) => o.rate === rate);
  }

  /** The measurements that count: the fresh ones where there are any. */
  private current(rate: number): Observation[] {
    const all = this.all(rate);
    const fresh = all.filter((o) => !o.stale);
    return fresh.length ? fresh : all;
  }

  /** Majority of the measurements that count; a tie counts as a failure (the knee errs low). */
  private believed(rate: number): boolean | undefined {
    const obs = this.current(rate);
    if (!obs.length) return undefined;
    return obs.filter((o) => o.passed).length * 2 > obs.length;
  }

  /** How often the rate was measured since the target was last resized (the cap is per resize). */
  private measuredSinceResize(rate: number): number {
    return this.epoch().filter((o) => o.rate === rate).length;
  }

  /**
   * A bracket end needs another look: its verdict rests on stale
   * measurements only (recheck), or it is the bounding failure or the knee
   * and rests on neither a settled measurement nor a majority of two or
   * more (confirm).
   */
  private doubtful(rate: number, bounding: boolean): StepPurpose | undefined {
    if (this.measuredSinceResize(rate) >= MAX_OBSERVATIONS) return undefined;
    if (this.all(rate).every((o) => o.stale)) return 'recheck';
    const current = this.current(rate);
    const side = this.believed(rate)!;
    const agreeing = current.filter((o) => o.passed === side);
    const tie = agreeing.length * 2 === current.length;
    if (!bounding && side) return undefined;
    return tie || (agreeing.length < 2 && !agreeing.some((o) => o.decided)) ? 'confirm' : undefined;
  }

  private choose(): { rate: number; purpose: StepPurpose } | undefined {
    if (this.observations.length >= this.maxSteps) return this.finish('stepLimit');
    const { low, high } = this.bracket;
    const anyPass = this.epoch().some((o) => o.passed);
    // Before anything passed since the last resize, failures are provisional (the target may be
    // cold): go down, or recheck the passing end first; confirm at the end.
    if (high !== undefined && anyPass) {
      const purpose = this.doubtful(high, true);
      if (purpose) return { rate: high, purpose };
    }
    if (low !== undefined) {
      const purpose = this.doubtful(low, false);
      if (purpose) return { rate: low, purpose };
    }
    // A pass above the lowest failure: measure the less-measured of the two again.
    if (high !== undefined) {
      const above = this.rates().filter((r) => r > high && this.believed(r)).sort((a, b) => a - b)[0];
      if (above !== undefined) {
        const pick = [high, above].filter((r) => this.measuredSinceResize(r) < MAX_OBSERVATIONS).sort((a, b) => this.all(a).length - this.all(b).length)[0];
        if (pick !== undefined) return { rate: pick, purpose: 'recheck' };
      }
    }
    if (low !== undefined && high !== undefined) {
      if ((high - low) / low <= this.precision) {
        // The knee itself, when it only leaned to pass, is measured once more before the search ends.
        const purpose = this.doubtful(low, true);
        return purpose ? { rate: low, purpose } : this.finish('converged');
      }
      return { rate: (low + high) / 2, purpose: 'bisect' };
    }
    if (high === undefined) {
      // Everything so far passed: go up.
      if (low! >= this.opts.maxRate) return this.finish('maxRate');
      return { rate: Math.min(low! * this.growth, this.opts.maxRate), purpose: 'probe' };
    }
    return this.goDown(high);
  }

  /** Nothing passed yet: halve, unless the failures show that no rate will pass. */
  private goDown(high: number): { rate: number; purpose: StepPurpose } | undefined {
    // Reopened with nothing passed: the lowest failure first, on the resized target.
    if (this.all(high).every((o) => o.stale) && this.measuredSinceResize(high) < MAX_OBSERVATIONS) return { rate: high, purpose: 'recheck' };
    const down = high / this.growth;
    const stalled = this.stalled();
    if (down < this.minRate || stalled) {
      // About to conclude that nothing passes: the lowest failure is measured twice first.
      if (this.all(high).length < 2) return { rate: high, purpose: 'confirm' };
      return this.finish(stalled ? 'loadIndependent' : 'nothingPassed');
    }
    return { rate: down, purpose: 'probe' };
  }

  /**
   * Failures over a 4x span of rates whose tail does not shrink as the rate
   * falls: the lowest failure against the highest one whose tail could grow
   * (not overloaded, not saturated) at least 4x above it.
   */
  private stalled(): boolean {
    const failed = this.rates().filter((r) => this.believed(r) === false).sort((a, b) => a - b);
    if (failed.length < 3) return false;
    const lo = failed[0]!;
    const severity = (r: number): number | null => this.current(r).at(-1)!.severity;
    const hi = failed.filter((r) => r / lo >= STALL_SPAN * 0.999 && severity(r) !== null).at(-1);
    const sLo = severity(lo);
    if (hi === undefined || sLo === null) return false;
    return sLo > 1 && sLo >= STALL_RATIO * severity(hi)!;
  }

  private finish(outcome: KneeSearchOutcome): undefined {
    this.outcome = outcome;
    return undefined;
  }
}
