import { runSurgeTimeline } from './surge-timeline.js';
import type { SurgeAdvice, SurgeInput, SurgePrediction } from './surge-types.js';
import { surgeSentence } from './surge-words.js';
import { MIN_USEFUL_TARGET } from '../analyzers/autoscaler.js';

export type * from './surge-types.js';
export { ratesPerSecond } from './surge-timeline.js';

/** Targets below this are not worth autoscaling on CPU (as planHpa says). */
const LOWEST_TARGET_PERCENT = Math.round(MIN_USEFUL_TARGET * 100);
const TARGET_STEP_PERCENT = 5;

const webBreaches = (input: SurgeInput): boolean => runSurgeTimeline(input).breaches.some((b) => b.role === 'web');

/**
 * What would avoid a web breach under the same simulation: the smallest
 * minReplicas above the recommended one (up to maxReplicas; found by
 * bisection, taking a higher floor to load no replica more, which holds but
 * for a lower floor's earlier scale-up), and the highest
 * target in 5% steps below the recommended one (down to 30%). Each alone,
 * the other setting as recommended.
 */
export function surgeAdvice(input: SurgeInput): SurgeAdvice {
  const { web } = input;
  // Bisection keeps this cheap for a maxReplicas in the hundreds (each try is a whole simulation).
  const clear = (m: number): boolean => !webBreaches({ ...input, web: { ...web, minReplicas: m } });
  let minReplicas: number | null = null;
  if (web.minReplicas < web.maxReplicas && clear(web.maxReplicas)) {
    let lo = web.minReplicas;
    let hi = web.maxReplicas;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (clear(mid)) hi = mid;
      else lo = mid;
    }
    minReplicas = hi;
  }
  let targetUtilizationPercent: number | null = null;
  // The highest multiple of 5 strictly below the recommended target (computed in whole percents: 0.7 × 100 is 70.00000000000001).
  const recommended = Math.round(web.targetUtilization * 1000) / 10;
  for (let p = Math.ceil(recommended / TARGET_STEP_PERCENT) * TARGET_STEP_PERCENT - TARGET_STEP_PERCENT; p >= LOWEST_TARGET_PERCENT; p -= TARGET_STEP_PERCENT) {
    if (!webBreaches({ ...input, web: { ...web, targetUtilization: p / 100 } })) {
      targetUtilizationPercent = p;
      break;
    }
  }
  return { minReplicas, targetUtilizationPercent };
}

/**
 * The surge second by second with the recommended HPA (and KEDA) settings,
 * under the rules the reference stack's controllers run
 * (src/stack/autoscale-rules.ts): when replicas are added, when they are
 * ready, and where a replica is expected to carry more than its knee (or a
 * job to wait longer than acceptable). With a web breach, `advice` gives the
 * settings that avoid it. Closed-model phases make the arrival rate depend on
 * the service, so then the prediction does not apply. Pure.
 */
export function simulateSurge(input: SurgeInput): SurgePrediction {
  const settings = { autoscaler: input.autoscaler, web: input.web, consumer: input.consumer ?? null };
  const notes = [...(input.notes ?? [])];
  const closed = input.phases.findIndex((p) => p.kind === 'closed');
  if (closed >= 0) {
    return {
      applies: false, profile: input.profile, phases: [...input.phases], settings, seconds: [], scaleEvents: [], breaches: [], advice: null, notes,
      sentence: `the surge prediction does not apply: phase ${closed + 1} is closed-model (vus), whose arrival rate depends on the service's latency`,
    };
  }
  const timeline = runSurgeTimeline(input);
  const advice = timeline.breaches.some((b) => b.role === 'web') ? surgeAdvice(input) : null;
  return { applies: true, profile: input.profile, phases: [...input.phases], settings, ...timeline, advice, sentence: surgeSentence(input, timeline, advice), notes };
}
