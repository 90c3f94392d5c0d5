import { RampVus, type ScheduledPhase } from '../scenarios/schedule.js';
import type { Phase } from '../scenarios/schema.js';
import { sleepUntil, type ExecutorContext } from './executor.js';

type VusPhase = ScheduledPhase & { phase: Extract<Phase, { kind: 'vus' }> };

/**
 * Closed model (`vus`, optional `rampTo`): each virtual user runs a flow, then
 * the next, while it is due to run. Latency counts from each request's actual
 * send, as in any closed loop; prefer arrivalRate to see what users of an
 * overloaded service feel. With a ramp the running VUs follow RampVus: one
 * joins when the line reaches it, and on a ramp down one leaves after its
 * current iteration. Shard i of n runs VUs i, i+n, i+2n, ..., so shards split
 * every instant's count exactly. Each VU keeps one cookie jar for the phase.
 */
export async function vus(sp: VusPhase, ctx: ExecutorContext): Promise<void> {
  const { phase } = sp;
  const start = ctx.runStart + sp.startMs;
  const ramp = new RampVus(phase.vus, phase.rampTo, phase.durationMs);
  const { runner, recorder, clock } = ctx;
  const loop = async (fromMs: number, toMs: number): Promise<void> => {
    if (fromMs > 0) await sleepUntil(ctx, start + fromMs);
    const end = start + toMs;
    const jar = runner.newJar();
    while (!ctx.stopped() && clock() < end) {
      const flow = runner.pickFlow();
      recorder.offered(flow.index);
      const sent = await runner.iterate(flow, ctx.nextIteration(), clock(), jar);
      // An iteration that sent nothing (a failing template) finished without
      // I/O; yield, or this loop would starve timers and signals for the phase.
      if (!sent) await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const loops: Promise<void>[] = [];
  for (let j = ctx.shardIndex; j < ramp.peak; j += ctx.shardCount) {
    const w = ramp.window(j);
    loops.push(loop(w.fromMs, w.toMs));
  }
  await Promise.all(loops);
}
