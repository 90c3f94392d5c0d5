import { RampArrivals, type ScheduledPhase } from '../scenarios/schedule.js';
import type { Phase } from '../scenarios/schema.js';
import type { ExecutorContext } from './executor.js';

/** Below this wait, poll instead of sleeping on a timer. */
const SPIN_MS = 0.1;

type ArrivalPhase = ScheduledPhase & { phase: Extract<Phase, { kind: 'arrivalRate' }> };

/**
 * Open model (`arrivalRate`, optional `rampTo`): iterations start at their
 * scheduled instants whether or not earlier ones have finished. Shard i of n
 * takes arrivals i, i+n, i+2n, ... so shards split one schedule exactly. When
 * the in-flight cap is reached an arrival is dropped and counted, never delayed.
 */
export function arrivalRate(sp: ArrivalPhase, ctx: ExecutorContext): Promise<void> {
  const { phase } = sp;
  const arrivals = new RampArrivals(phase.arrivalRate, phase.rampTo, phase.durationMs / 1000);
  const phaseStart = ctx.runStart + sp.startMs;
  const { runner, recorder, clock, shardCount } = ctx;
  let k = ctx.shardIndex;
  return new Promise((resolve) => {
    const tick = (): void => {
      if (ctx.stopped()) return resolve();
      const now = clock();
      let at = 0;
      while (k < arrivals.count) {
        at = phaseStart + arrivals.timeOf(k) * 1000;
        if (at > now) break;
        k += shardCount;
        const flow = runner.pickFlow();
        recorder.offered(flow.index);
        if (recorder.inFlight >= ctx.maxInFlight) {
          recorder.dropped(flow.index);
          continue;
        }
        ctx.scheduleLag(now - at);
        void runner.iterate(flow, ctx.nextIteration(), at);
      }
      if (k >= arrivals.count) return resolve();
      // Sleep on a timer (1 ms resolution, usually ~0.1 ms late) and start
      // whatever is due on waking: arrivals start at most about a millisecond
      // late, and that lateness counts in their latency. Spinning on
      // setImmediate would be more punctual but keeps a core busy and makes a
      // healthy generator look saturated, so it is kept for the last 0.1 ms.
      const wait = at - clock();
      if (wait > SPIN_MS) setTimeout(tick, Math.max(1, Math.floor(wait)));
      else setImmediate(tick);
    };
    tick();
  });
}
