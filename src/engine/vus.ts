import type { ScheduledPhase } from '../scenarios/schedule.js';
import type { Phase } from '../scenarios/schema.js';
import type { ExecutorContext } from './executor.js';

type VusPhase = ScheduledPhase & { phase: Extract<Phase, { kind: 'vus' }> };

/**
 * Closed model (`vus`): each virtual user runs a flow, then the next, until the
 * phase ends. Latency counts from each request's actual send, as in any closed
 * loop; prefer arrivalRate to see what users of an overloaded service feel.
 */
export async function vus(sp: VusPhase, ctx: ExecutorContext): Promise<void> {
  const end = ctx.runStart + sp.endMs;
  const mine = Math.floor(sp.phase.vus / ctx.shardCount) + (ctx.shardIndex < sp.phase.vus % ctx.shardCount ? 1 : 0);
  const { runner, recorder, clock } = ctx;
  const loop = async (): Promise<void> => {
    while (!ctx.stopped() && clock() < end) {
      const flow = runner.pickFlow();
      recorder.offered(flow.index);
      const sent = await runner.iterate(flow, ctx.nextIteration(), clock());
      // An iteration that sent nothing (a failing template) finished without
      // I/O; yield, or this loop would starve timers and signals for the phase.
      if (!sent) await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await Promise.all(Array.from({ length: mine }, loop));
}
