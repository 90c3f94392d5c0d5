import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RampArrivals, RampVus, schedulePhases, type ScheduledPhase } from '../scenarios/schedule.js';
import type { Phase } from '../scenarios/schema.js';
import { arrivalsOf, engineSlices, IterationNumbers, OwnArrivals, ownVus, shareOf, type EngineSlice } from './shard-slice.js';

/** Open-model phases (constant, ramps up and down, from and to 0), closed-model ones (with and without a ramp), pauses. */
const phaseArb: fc.Arbitrary<Phase> = fc.oneof(
  fc.record({
    kind: fc.constant('arrivalRate' as const),
    name: fc.constant(undefined),
    durationMs: fc.integer({ min: 100, max: 5000 }),
    arrivalRate: fc.oneof(fc.integer({ min: 0, max: 60 }), fc.double({ min: 0, max: 60, noNaN: true })),
    rampTo: fc.oneof(fc.integer({ min: 0, max: 60 }), fc.double({ min: 0, max: 60, noNaN: true })),
  }),
  fc.integer({ min: 100, max: 5000 }).chain((durationMs) => fc.record({
    kind: fc.constant('arrivalRate' as const),
    name: fc.constant(undefined),
    durationMs: fc.constant(durationMs),
    arrivalRate: fc.integer({ min: 1, max: 40 }),
  }).map((p) => ({ ...p, rampTo: p.arrivalRate }))),
  fc.record({
    kind: fc.constant('vus' as const),
    name: fc.constant(undefined),
    durationMs: fc.integer({ min: 100, max: 5000 }),
    vus: fc.integer({ min: 0, max: 40 }),
    rampTo: fc.integer({ min: 0, max: 40 }),
  }).filter((p) => p.vus > 0 || p.rampTo > 0),
  fc.record({ kind: fc.constant('pause' as const), name: fc.constant(undefined), durationMs: fc.integer({ min: 100, max: 5000 }) }),
);

/** A run split into N process shards, each with its own number of workers. */
const runArb = fc.record({
  phases: fc.array(phaseArb, { minLength: 1, maxLength: 5 }),
  workers: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 8 }),
  seed: fc.integer(),
});

/** Every engine slice of a run whose process shard i has workers[i] workers (one process, one worker: [1]). */
function slicesOf(workers: readonly number[]): EngineSlice[] {
  const n = workers.length;
  return workers.flatMap((w, i) => engineSlices(n === 1 ? undefined : { index: i, count: n }, w));
}

/** A small deterministic generator, so that a failing case replays. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

interface Walked {
  /** Arrivals started: phase start + the arrival's time, milliseconds, and its iteration number. */
  taken: { atMs: number; iteration: number }[];
  /** Arrivals dropped (skipped in bulk), by index in the phase. */
  dropped: number[];
  /** Every arrival index the slice went past, taken or dropped. */
  visited: number[];
}

/**
 * Walks one slice through an arrivalRate phase as its executor does:
 * taking arrivals, and (when `rand` says the cap is reached) dropping every
 * own arrival due by some later point in bulk with OwnArrivals.skipBefore.
 */
function walk(sp: ScheduledPhase, slice: EngineSlice, numbers: IterationNumbers, rand?: () => number): Walked {
  const arrivals = arrivalsOf(sp);
  const own = new OwnArrivals(slice, arrivals.count);
  const out: Walked = { taken: [], dropped: [], visited: [] };
  while (!own.done) {
    if (rand && rand() < 0.2) {
      const from = own.k;
      const due = from + 1 + Math.floor(rand() * 3 * slice.count);
      const n = own.skipBefore(Math.min(arrivals.count, due));
      for (let m = 0; m < n; m++) {
        out.dropped.push(from + m * slice.count);
        out.visited.push(from + m * slice.count);
      }
      continue;
    }
    const k = own.take();
    out.visited.push(k);
    out.taken.push({ atMs: sp.startMs + arrivals.timeOf(k) * 1000, iteration: numbers.open(sp.index, k) });
  }
  return out;
}

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('the shards of a run together run exactly its schedule', () => {
  it('process shard i, worker w is engine slice i + N·w of N·W; the slices partition 0..N·W-1 when W is the same', () => {
    expect(engineSlices({ index: 1, count: 4 }, 3)).toEqual([{ index: 1, count: 12 }, { index: 5, count: 12 }, { index: 9, count: 12 }]);
    expect(engineSlices(undefined, 2)).toEqual([{ index: 0, count: 2 }, { index: 1, count: 2 }]);
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 4 }), (n, w) => {
      const slices = slicesOf(Array.from({ length: n }, () => w));
      expect(sorted(slices.map((s) => s.index))).toEqual(range(n * w));
    }));
  });

  it('open model: the union of all slices\' arrival instants is the one-process schedule, each arrival once, numbered alike', () => {
    fc.assert(fc.property(runArb, ({ phases, workers }) => {
      const scheduled = schedulePhases(phases);
      const numbers = new IterationNumbers(scheduled);
      const single = slicesOf([1]);
      const slices = slicesOf(workers);
      for (const sp of scheduled.filter((p) => p.phase.kind === 'arrivalRate')) {
        const whole = walk(sp, single[0]!, numbers).taken;
        const parts = slices.map((s) => walk(sp, s, numbers).taken).flat();
        // Same multiset of (instant, iteration number): nothing missing, nothing twice.
        const key = (t: { atMs: number; iteration: number }): string => `${t.iteration}@${t.atMs}`;
        expect(parts.map(key).sort()).toEqual(whole.map(key).sort());
      }
    }));
  });

  it('open model with drops: the slices visit every arrival exactly once, however each drops in bulk', () => {
    fc.assert(fc.property(runArb, ({ phases, workers, seed }) => {
      const scheduled = schedulePhases(phases);
      const numbers = new IterationNumbers(scheduled);
      const rand = random(seed);
      for (const sp of scheduled.filter((p) => p.phase.kind === 'arrivalRate')) {
        const visited = slicesOf(workers).flatMap((s) => walk(sp, s, numbers, rand).visited);
        expect(sorted(visited)).toEqual(range(arrivalsOf(sp).count));
      }
    }));
  });

  it('sequential data: the open model\'s iteration numbers of all shards are disjoint and cover 0..arrivals-1', () => {
    fc.assert(fc.property(runArb, ({ phases, workers }) => {
      const scheduled = schedulePhases(phases);
      const numbers = new IterationNumbers(scheduled);
      const iterations = slicesOf(workers).flatMap((s) => scheduled
        .filter((p) => p.phase.kind === 'arrivalRate')
        .flatMap((sp) => walk(sp, s, numbers).taken.map((t) => t.iteration)));
      const total = scheduled.reduce((a, sp) => a + (sp.phase.kind === 'arrivalRate' ? arrivalsOf(sp).count : 0), 0);
      expect(numbers.arrivals).toBe(total);
      expect(sorted(iterations)).toEqual(range(total));
    }));
  });

  it('closed model: the slices run every virtual user of each phase once, in the same windows', () => {
    fc.assert(fc.property(runArb, ({ phases, workers }) => {
      const slices = slicesOf(workers);
      for (const sp of schedulePhases(phases)) {
        if (sp.phase.kind !== 'vus') continue;
        const ramp = new RampVus(sp.phase.vus, sp.phase.rampTo, sp.phase.durationMs);
        const js = slices.flatMap((s) => ownVus(ramp.peak, s));
        expect(sorted(js)).toEqual(range(ramp.peak));
        // The same windows as the one-process run's virtual users: at every instant, as many run.
        const windows = (xs: number[]): string[] => xs.map((j) => JSON.stringify(ramp.window(j))).sort();
        expect(windows(js)).toEqual(windows(ownVus(ramp.peak, { index: 0, count: 1 })));
      }
    }));
  });

  it('closed model: iteration numbers are unique across all slices and above every arrival\'s', () => {
    fc.assert(fc.property(runArb, fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 32, maxLength: 32 }), ({ phases, workers }, runs) => {
      const numbers = new IterationNumbers(schedulePhases(phases));
      const all = slicesOf(workers).flatMap((s, i) => range(runs[i]!).map((local) => numbers.closed(local, s)));
      expect(new Set(all).size).toBe(all.length);
      expect(all.every((n) => n >= numbers.arrivals)).toBe(true);
    }));
  });

  it('an arrival ramp walked by a slice keeps its instants in order', () => {
    const sp = schedulePhases([{ kind: 'arrivalRate', name: undefined, durationMs: 2000, arrivalRate: 10, rampTo: 50 }])[0]!;
    const taken = walk(sp, { index: 1, count: 3 }, new IterationNumbers([sp])).taken;
    expect(taken.map((t) => t.iteration)).toEqual(range(new RampArrivals(10, 50, 2).count).filter((k) => k % 3 === 1));
    expect(sorted(taken.map((t) => t.atMs))).toEqual(taken.map((t) => t.atMs));
  });

  it('shareOf splits a whole exactly', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 1000 }), (total, count) => {
      const parts = range(count).map((i) => shareOf(total, i, count));
      expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
      expect(Math.max(...parts) - Math.min(...parts)).toBeLessThanOrEqual(1);
    }));
  });
});
