import type { ScheduledPhase } from '../scenarios/schedule.js';
import type { Phase } from '../scenarios/schema.js';
import type { ExecutorContext } from './executor.js';
import { arrivalsOf, OwnArrivals } from './shard-slice.js';

type ArrivalPhase = ScheduledPhase & { phase: Extract<Phase, { kind: 'arrivalRate' }> };

/**
 * Open model (`arrivalRate`, optional `rampTo`): iterations start at their
 * scheduled instants whether or not earlier ones have finished. Slice i of n
 * takes arrivals i, i+n, i+2n, ... so slices split one schedule exactly, and
 * arrival k is iteration number ctx.iterations.open(phase, k) wherever it runs. When
 * the in-flight cap is reached an arrival is dropped and counted, never delayed.
 * The cap counts open-model iterations only (ctx.open), not virtual users'.
 *
 * Memory and time are bounded by construction, whatever the rate: at most
 * maxInFlight iterations exist, and arrivals due while the cap is reached are
 * counted in one step (nothing is kept for them, and no work is done for
 * each one), so a 2 s phase at 10^9/s with a small cap ends after about 2 s.
 */
export function arrivalRate(sp: ArrivalPhase, ctx: ExecutorContext): Promise<void> {
  const arrivals = arrivalsOf(sp);
  const phaseStart = ctx.runStart + sp.startMs;
  const { runner, recorder, clock, open } = ctx;
  const ended = (): void => {
    open.inFlight--;
  };
  const own = new OwnArrivals(ctx.slice, arrivals.count);
  /** Drops this slice's arrivals due by `now`, from own.k on (that one is due). */
  const dropDue = (now: number): void => {
    const n = own.skipBefore(arrivals.dueBy((now - phaseStart) / 1000));
    runner.pickFlows(n).forEach((count, flow) => {
      if (count === 0) return;
      recorder.arrived(flow, count);
      recorder.dropped(flow, count);
    });
  };
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    let unhook = (): void => {};
    const finish = (): void => {
      clearTimeout(timer);
      clearImmediate(immediate);
      unhook();
      resolve();
    };
    // A stop ends the phase at once, not at the next arrival (minutes away at a low rate).
    ctx.onStop(finish);
    const tick = (): void => {
      clearTimeout(timer);
      clearImmediate(immediate);
      if (ctx.stopped()) return finish();
      const clockNow = clock();
      // Arrivals are counted in the second they were due: none due at or past the
      // open window's end is taken before that window closes (it wakes this tick
      // just before and just after it closes, see ctx.onWindow).
      const now = Math.min(clockNow, ctx.windowEnd() - 1e-6);
      let at = 0;
      let full = false;
      while (!own.done) {
        at = phaseStart + arrivals.timeOf(own.k) * 1000;
        if (at > now) break;
        if (open.inFlight >= ctx.maxInFlight) {
          full = true;
          dropDue(now);
          continue;
        }
        const iteration = ctx.iterations.open(sp.index, own.take());
        const flow = runner.pickFlow();
        recorder.arrived(flow.index);
        ctx.scheduleLag(clockNow - at);
        open.inFlight++;
        void runner.iterate(flow, iteration, at).then(ended, ended);
      }
      if (own.done) return finish();
      // Due, but in the next window: the window's close wakes this tick.
      if (at <= clockNow) return;
      // Sleep on a timer (1 ms resolution, usually ~0.1 ms late) and start
      // whatever is due on waking: arrivals start at most about a millisecond
      // late, and that lateness counts in their latency. Never poll with
      // setImmediate while waiting: at 1,000/s (and, with a 0.1 ms threshold,
      // above 10,000/s) that kept the thread 100% busy and made a healthy
      // generator report itself saturated. At the cap, wait a millisecond too:
      // what comes due meanwhile is dropped (or started) on waking.
      const wait = at - clock();
      if (wait <= 0 && !full) immediate = setImmediate(tick);
      else timer = setTimeout(tick, Math.max(1, Math.floor(wait)));
    };
    unhook = ctx.onWindow(tick);
    tick();
  });
}
