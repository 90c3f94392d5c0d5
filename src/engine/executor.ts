import { longTimeout } from '../shared/long-timeout.js';
import type { ScheduledPhase } from '../scenarios/schedule.js';
import type { FlowRunner } from './flow-runner.js';
import type { Recorder } from './recorder.js';
import type { EngineSlice, IterationNumbers } from './shard-slice.js';

/** What a load model gets to run one phase on one shard. */
export interface ExecutorContext {
  runner: FlowRunner;
  recorder: Recorder;
  /** Milliseconds, monotonic. */
  clock: () => number;
  /** Clock value at the run's t = 0. */
  runStart: number;
  /** The arrivals and virtual users this engine runs (src/engine/shard-slice.ts). */
  slice: EngineSlice;
  /** Most open-model iterations in flight on this shard; more arrivals are dropped. */
  maxInFlight: number;
  /**
   * Open-model iterations in flight on this shard, over all arrivalRate
   * phases. The cap counts these only: virtual users' iterations (still
   * running at a vus to arrivalRate boundary) are not arrivals and must not
   * make the open model drop.
   */
  open: { inFlight: number };
  /**
   * Virtual user j's loop in the latest vus phase (settles when its last
   * iteration ends): the next vus phase's VU j starts only then, so at a
   * boundary the old VU hands over instead of running beside the new one.
   */
  vuSlots: Map<number, Promise<void>>;
  /** The run's iteration numbers (for `iteration` and sequential data): the open model's by arrival. */
  iterations: IterationNumbers;
  /** The next closed-model iteration's run-unique number. */
  nextIteration: () => number;
  /** True once the run is stopping: schedule nothing more. */
  stopped: () => boolean;
  /** Calls fn when the run stops (at once if it has). */
  onStop: (fn: () => void) => void;
  /** Clock time the open one-second window ends (what is recorded now counts in it). */
  windowEnd: () => number;
  /** Calls fn just before and just after each window closes, until the returned function is called. */
  onWindow: (fn: () => void) => () => void;
  /** How late an arrival started against its schedule, milliseconds. */
  scheduleLag: (ms: number) => void;
}

/**
 * A load model: runs one phase's schedule on one shard. It resolves when it
 * has nothing more to start; iterations it started may still be in flight.
 */
export type Executor<P extends ScheduledPhase = ScheduledPhase> = (phase: P, ctx: ExecutorContext) => Promise<void>;

/** Resolves at clock time `at`, or at once when the run stops. */
export function sleepUntil(ctx: ExecutorContext, at: number): Promise<void> {
  return new Promise((resolve) => {
    const cancel = longTimeout(resolve, at - ctx.clock());
    ctx.onStop(() => {
      cancel();
      resolve();
    });
  });
}
