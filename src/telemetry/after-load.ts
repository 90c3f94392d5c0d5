import { formatDuration } from '../shared/duration.js';
import type { TelemetryCollector } from './telemetry-collector.js';
import { queueEmpty, seesQueue, type TelemetryPlan } from './telemetry-plan.js';

/**
 * After the load: a scrape at its end, then (when the target has a queue) a
 * wait until a scrape sees it empty, and one more scrape so work finished at
 * the last moment is counted. `say` hears one line when the wait begins.
 */
export async function afterLoad(collector: TelemetryCollector, plan: TelemetryPlan, signal: AbortSignal, say: (line: string) => void): Promise<void> {
  await collector.scrapeNow();
  if (plan.drainTimeoutMs <= 0 || !collector.recent().some((s) => seesQueue(s.values))) return;
  say(`load done; waiting for the target's queue to drain (at most ${formatDuration(plan.drainTimeoutMs)}; Ctrl-C stops waiting)`);
  await collector.drain(queueEmpty, plan.drainTimeoutMs, signal);
  if (!signal.aborted) await collector.scrapeNow();
}
