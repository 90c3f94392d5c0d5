import type { CapacityResult } from '../capacity/capacity-result.js';
import type { AutoscalerSettings } from '../capacity/autoscaler-settings.js';

/** The plan's verdict as every output words it: one headline, a class (pass, warn, fail), and the lines under it. */
export interface VerdictText {
  headline: string;
  cls: 'pass' | 'warn' | 'fail';
  lines: string[];
}

/**
 * One wording of `plan.verdict` for the terminal and the HTML report, so
 * both say what capacity.json says. A capacity.json written before verdicts
 * existed is read by its replica plan.
 */
export function capacityVerdict(r: CapacityResult): VerdictText {
  const p = r.plan;
  // A capacity.json from before verdicts: no replica plan meant nothing passed (or nothing was measured).
  const nothingPassed = r.replicaCounts.length > 0 && r.replicaCounts.every((c) => c.knee === null && c.steps.length > 0);
  const verdict = p.verdict ?? (p.replicas?.feasible ? 'recommended' : p.replicas || nothingPassed ? 'infeasible' : 'inconclusive');
  const reasons = p.reasons ?? (p.replicas?.reason ? [p.replicas.reason] : []);
  const partial = r.aborted || r.error !== undefined;
  const tail = partial ? ' (from partial measurements)' : '';
  if (verdict === 'recommended' && p.replicas?.replicas != null) {
    const min = p.hpa?.minReplicas ?? p.replicas.minReplicas;
    return {
      headline: `recommended: run ${p.replicas.replicas} replica${p.replicas.replicas > 1 ? 's' : ''} for the peak (autoscaler min ${min}, max ${p.replicas.maxReplicas})${tail}`,
      cls: partial ? 'warn' : 'pass',
      lines: reasons,
    };
  }
  if (verdict === 'infeasible') return { headline: `infeasible: no recommendation${tail}`, cls: 'fail', lines: reasons };
  return { headline: `inconclusive: no recommendation${tail}`, cls: 'warn', lines: [...reasons, ...(p.remeasure ?? []).map((x) => `what to do: ${x}`)] };
}

const CONFIDENCE = { settled: 'pass at 95%', leaning: 'leaning pass', values: 'pass (values only)' } as const;

/** How sure a count's knee is, in the words of the terminal and the HTML report ('–' when unknown, as in older capacity.json files). */
export function kneeConfidenceText(c: { knee: number | null; kneeConfidence?: keyof typeof CONFIDENCE | null }): string {
  return c.knee === null || !c.kneeConfidence ? '–' : CONFIDENCE[c.kneeConfidence];
}

/** The autoscalers' timings in one line, as the terminal and the HTML report say them. */
export function autoscalerTimings(a: AutoscalerSettings, consumers: boolean): string {
  return `HPA sync ${a.syncSec} s, tolerance ${Math.round(a.tolerance * 100)}%, scale-up at most ${a.scaleUpPods} pods or ${a.scaleUpPercent}% per ${a.scaleUpPeriodSec} s, ` +
    `scale-down window ${a.scaleDownWindowSec} s, pod start-up ${a.podStartupSec} s` +
    (consumers ? `; KEDA polling ${a.pollingSec} s, cooldown ${a.cooldownSec} s` : '') + ` (${a.source})`;
}
