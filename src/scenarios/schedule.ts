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
