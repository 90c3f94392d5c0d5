import { RampVus, type ScheduledPhase } from '../scenarios/schedule.js';
import type { Phase } from '../scenarios/schema.js';
import { sleepUntil, type ExecutorContext } from './executor.js';
import { ownVus } from './shard-slice.js';

type VusPhase = ScheduledPhase & { phase: Extract<Phase, { kind: 'vus' }> };

/**
 * Closed model (`vus`, optional `rampTo`): each virtual user runs a flow, then
 * the next, while it is due to run. Latency counts from each request's actual
 * send, as in any closed loop; prefer arrivalRate to see what users of an
 * overloaded service feel. With a ramp the running VUs follow RampVus: one
 * joins when the line reaches it, and on a ramp down one leaves after its
 * current iteration. Slice i of n runs VUs i, i+n, i+2n, ..., so slices split
 * every instant's count exactly. Each VU keeps one cookie jar for the phase.
 * At a boundary between two vus phases, VU j of the new one starts when VU j
 * of the old one has finished its iteration, so the count never doubles.
 */
export async function vus(sp: VusPhase, ctx: ExecutorContext): Promise<void> {
  const { phase } = sp;
  const start = ctx.runStart + sp.startMs;
  const ramp = new RampVus(phase.vus, phase.rampTo, phase.durationMs);
  const { runner, recorder, clock } = ctx;
  const loop = async (fromMs: number, toMs: number, previous: Promise<void> | undefined): Promise<void> => {
    if (fromMs > 0) await sleepUntil(ctx, start + fromMs);
    // The previous vus phase's VU j finishes its iteration first: never both at once.
    if (previous) await previous;
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
  for (const j of ownVus(ramp.peak, ctx.slice)) {
    const w = ramp.window(j);
    const running = loop(w.fromMs, w.toMs, ctx.vuSlots.get(j));
    ctx.vuSlots.set(j, running);
    loops.push(running);
  }
  await Promise.all(loops);
}
