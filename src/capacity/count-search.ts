import { percent as pct, round } from '../analyzers/numbers.js';
import { KneeSearch, type KneeSearchOptions, type KneeSearchOutcome, type StepPurpose } from './knee-search.js';
import { severityOf, type StepTelemetry, type StepVerdict } from './step-verdict.js';

/** The knee search at one replica count, as capacity.json records it. */
export interface ReplicaCountResult {
  replicas: number;
  /** Highest rate believed to pass, flow iterations per second (null: none did). */
  knee: number | null;
  /** Index in `steps` of the latest measurement of the knee's rate. */
  kneeStep: number | null;
  /** Requests per second measured at the knee. */
  kneeRps: number | null;
  /** Lowest rate believed to fail (null: none did). With the knee, the bracket the true knee lies in. */
  firstFailure: number | null;
  /**
   * How sure the knee's pass is: `settled` at 95% confidence on its tail
   * criteria, `leaning` (the evidence only leaned to pass), or `values` (no
   * tail criterion: judged on throughput and values alone).
   */
  kneeConfidence: KneeConfidence | null;
  outcome: KneeSearchOutcome | 'generatorLimited' | 'interrupted';
  /** The generator, not the target, failed a step: the knee is a lower bound. */
  generatorLimited: boolean;
  /** Rates that passed above the first failure even after re-measuring: the verdicts contradict each other. */
  contradictions: number[];
  /** The count was measured again because its knee contradicted the other counts. */
  remeasured: boolean;
  /** When no rate passed: what failed, over which rates, and whether load made it worse; in words. */
  diagnosis: string | null;
  /** What the target's metrics showed at the knee. */
  atKnee: StepTelemetry | null;
  steps: StepVerdict[];
  /** Wall-clock seconds spent measuring this count (its steps, warm-ups and drains). */
  elapsedSec: number;
  warnings: string[];
}

export type KneeConfidence = 'settled' | 'leaning' | 'values';

/** Measures one rate; undefined when stopped by Ctrl-C. */
export type MeasureStep = (rate: number, purpose: StepPurpose, warmup: boolean) => Promise<StepVerdict | undefined>;

/** Words for a count where nothing passed: which criteria failed over which rates, and whether load made them worse. */
export function diagnoseNothingPassed(steps: readonly StepVerdict[], replicas: number, loadIndependent: boolean): string {
  const failed = steps.filter((s) => !s.passed);
  const lo = Math.min(...failed.map((s) => s.rate));
  const hi = Math.max(...failed.map((s) => s.rate));
  const at = (rate: number): StepVerdict => failed.filter((s) => s.rate === rate).at(-1)!;
  const tails = at(lo).evidence.filter((e) => e.observed > e.allowed);
  const what = tails.length ? tails.map((e) => e.expression).join(' and ') : at(lo).reasons.map((r) => r.replace(/ \(.*$/, '')).join('; ');
  const span = lo === hi ? `at ${round(lo, 2)} it/s` : `at every rate from ${round(lo, 2)} to ${round(hi, 2)} it/s`;
  const head = `${what} failed ${span} with ${replicas} replica${replicas > 1 ? 's' : ''}`;
  if (!loadIndependent || !tails.length) return `${head}: no rate tried meets the SLOs`;
  const e = tails[0]!;
  const eHi = at(hi).evidence.find((x) => x.expression === e.expression);
  const shares = eHi ? ` (${pct(e.observed)} past the limit at ${round(lo, 2)} it/s, ${pct(eHi.observed)} at ${round(hi, 2)} it/s)` : '';
  return `${head}; the slow answers do not grow with load${shares}: stalls, not load, set the tail; look for pauses such as GC, cold caches or a noisy neighbour`;
}

/**
 * The knee search at one replica count, driven step by step through
 * `measure`: keeps the steps, knows which failures were the generator's, and
 * can be reopened to measure the bracket again when the counts disagree.
 */
export class CountSearch {
  private readonly search: KneeSearch;
  private readonly steps: StepVerdict[] = [];
  private interrupted = false;
  private elapsedSec = 0;
  /** The result before a reopen: it stands if measuring again is interrupted. */
  private beforeReopen: ReplicaCountResult | undefined;

  constructor(readonly replicas: number, opts: KneeSearchOptions, private readonly warnings: string[] = []) {
    this.search = new KneeSearch(opts);
  }

  /** Where the search is, for progress lines. */
  get status(): { phase: string; low?: number; high?: number; steps: number } {
    return { phase: this.search.phase, ...this.search.bracket, steps: this.steps.length };
  }

  /**
   * Measures, on a target just brought to this count, until the search ends
   * or `measure` is stopped. `before` is told each step before it runs.
   */
  async run(measure: MeasureStep, before: (rate: number, purpose: StepPurpose, warmup: boolean) => void, after: (v: StepVerdict) => void): Promise<void> {
    let last: number | undefined;
    for (let next = this.search.next(); next; next = this.search.next()) {
      // The same rate again right away (a confirmation) needs no warm-up: the target was just there.
      // The first step after a resize always has one.
      const warmup = last !== round(next.rate, 2);
      before(next.rate, next.purpose, warmup);
      const v = await measure(next.rate, next.purpose, warmup);
      if (!v) {
        this.interrupted = true;
        return;
      }
      last = v.rate;
      this.steps.push(v);
      this.elapsedSec += v.elapsedSec;
      after(v);
      // A failure while the generator itself was saturated says little about the target: never settled, so measured again.
      const decided = v.verdict !== 'undecided' && !(!v.passed && v.generatorSaturated);
      this.search.record(next.rate, { passed: v.passed, decided, severity: severityOf(v) });
    }
  }

  /** Opens the search again to re-measure its bracket (the target resized to it again); false when there is nothing to do. */
  reopen(): boolean {
    if (this.interrupted) return false;
    const before = this.result();
    if (!this.search.reopen()) return false;
    this.beforeReopen = before;
    return true;
  }

  result(): ReplicaCountResult {
    const r = this.search.result();
    // Measuring again did not finish (a stop, or an error while resizing): the first measurement stands.
    if ((this.interrupted || r.outcome === undefined) && this.beforeReopen) {
      return { ...this.beforeReopen, steps: this.steps, elapsedSec: round(this.elapsedSec, 1), remeasured: true,
        warnings: [...this.beforeReopen.warnings, `measuring ${this.replicas} replica(s) again was interrupted: the first measurement stands`] };
    }
    const round2 = (v: number | undefined): number | null => (v === undefined ? null : round(v, 2));
    // The knee's figures come from its latest passing measurement.
    const kneeStep = r.knee === undefined ? -1 : this.steps.findLastIndex((s) => s.rate === round(r.knee!, 2) && s.passed);
    const knee = kneeStep >= 0 ? this.steps[kneeStep] : undefined;
    // The generator, not the target, was the limit when every failure at the bracket's top saturated it.
    const atHigh = r.high === undefined ? [] : this.steps.filter((s) => s.rate === round(r.high!, 2) && !s.passed);
    const generatorLimited = atHigh.length > 0 && atHigh.every((s) => s.generatorSaturated);
    const warnings = [...this.warnings];
    if (generatorLimited) {
      warnings.push(`the generator, not the target, was the limit at ${round(r.high!, 2)} it/s with ${this.replicas} replica(s): the knee is a lower bound (run the generator on another machine or with more --workers)`);
    }
    if (r.contradictions.length) {
      warnings.push(`with ${this.replicas} replica(s), ${r.contradictions.map((x) => `${round(x, 2)}`).join(', ')} it/s passed above a failure at ${round(r.high!, 2)} it/s even after re-measuring: the target is noisier than the steps can resolve; the lower rate is kept`);
    }
    const nothing = r.outcome === 'nothingPassed' || r.outcome === 'loadIndependent';
    return {
      replicas: this.replicas,
      knee: round2(r.knee),
      kneeStep: kneeStep >= 0 ? kneeStep : null,
      kneeRps: knee?.rps ?? null,
      firstFailure: round2(r.high),
      kneeConfidence: !knee ? null : !knee.evidence.length ? 'values' : r.kneeDecided ? 'settled' : 'leaning',
      outcome: this.interrupted ? 'interrupted' : generatorLimited ? 'generatorLimited' : r.outcome ?? 'interrupted',
      generatorLimited,
      contradictions: r.contradictions.map((x) => round(x, 2)),
      remeasured: r.reopened,
      diagnosis: nothing && !this.interrupted ? diagnoseNothingPassed(this.steps, this.replicas, r.outcome === 'loadIndependent') : null,
      atKnee: knee?.telemetry ?? null,
      steps: this.steps,
      elapsedSec: round(this.elapsedSec, 1),
      warnings,
    };
  }
}
