import type { Phase } from './schema.js';

/** A phase placed on the run's timeline. */
export interface ScheduledPhase {
  index: number;
  phase: Phase;
  /** Label for progress and reports: its name, or "phase N". */
  label: string;
  /** Offset from the run start, milliseconds. */
  startMs: number;
  endMs: number;
}

/** Places phases back to back from t = 0. */
export function schedulePhases(phases: readonly Phase[]): ScheduledPhase[] {
  let t = 0;
  return phases.map((phase, index) => {
    const startMs = t;
    t += phase.durationMs;
    return { index, phase, label: phase.name ?? `phase ${index + 1}`, startMs, endMs: t };
  });
}

/**
 * Arrivals of an open-model phase whose rate goes linearly from r0 to r1 over
 * D seconds. The cumulative count is A(t) = r0·t + (r1 − r0)·t²/(2D); arrival k
 * (from 0) is at the t where A(t) = k, so arrivals are evenly spread at every
 * instant's rate, and their number over the phase is ⌈A(D)⌉ (starting at t = 0).
 */
export class RampArrivals {
  readonly count: number;
  private readonly a: number;

  constructor(
    private readonly r0: number,
    r1: number,
    private readonly durationSec: number,
  ) {
    this.a = durationSec > 0 ? (r1 - r0) / (2 * durationSec) : 0;
    const total = r0 * durationSec + this.a * durationSec * durationSec;
    // Arrival k lies inside the phase when A(k) < total; guard float error at the edge.
    this.count = total <= 0 ? 0 : Math.ceil(total - 1e-9);
  }

  /** How many arrivals are due by t seconds from the phase start (those with timeOf(k) <= t). */
  dueBy(t: number): number {
    if (t < 0) return 0;
    // A(t) is a parabola: past the phase end a falling ramp's would come down again.
    const s = Math.min(t, this.durationSec);
    const total = this.r0 * s + this.a * s * s;
    return Math.min(this.count, Math.floor(total + 1e-9) + 1);
  }

  /** Seconds from the phase start of arrival k (0-based). */
  timeOf(k: number): number {
    if (k === 0) return 0;
    if (Math.abs(this.a) < 1e-12) return this.r0 > 0 ? k / this.r0 : Infinity;
    // Solve a·t² + r0·t − k = 0 for the root t >= 0, in the form stable for small a.
    const disc = this.r0 * this.r0 + 4 * this.a * k;
    return (2 * k) / (this.r0 + Math.sqrt(Math.max(0, disc)));
  }
}

/**
 * Virtual users of a closed-model phase whose count goes linearly from v0 to
 * v1 over durationMs: at t the phase runs round(v0 + (v1 − v0)·t/D) of them,
 * so that the VU-seconds equal the line's area. VU j (0-based) runs while
 * that count is above j; on a ramp up it starts when the line reaches j + ½,
 * on a ramp down it stops there (after its current iteration).
 */
export class RampVus {
  constructor(
    private readonly v0: number,
    private readonly v1: number,
    private readonly durationMs: number,
  ) {}

  /** Most VUs running at once. */
  get peak(): number {
    return Math.max(this.v0, this.v1);
  }

  /** VUs running t ms into the phase. */
  at(t: number): number {
    const s = Math.min(Math.max(t, 0), this.durationMs);
    return Math.round(this.v0 + ((this.v1 - this.v0) * s) / this.durationMs);
  }

  /** When VU j (0 <= j < peak) runs: [from, to) in ms from the phase start. */
  window(j: number): { fromMs: number; toMs: number } {
    const { v0, v1, durationMs: d } = this;
    if (j < Math.min(v0, v1)) return { fromMs: 0, toMs: d };
    const crossing = (d * (j + 0.5 - v0)) / (v1 - v0);
    return v1 > v0 ? { fromMs: crossing, toMs: d } : { fromMs: 0, toMs: crossing };
  }
}
