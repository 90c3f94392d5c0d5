import { plural, round } from '../analyzers/numbers.js';
import type { Breach, ScaleEvent, SurgeAdvice, SurgeInput, SurgeTimeline } from './surge-types.js';
import { MIN_USEFUL_TARGET } from '../analyzers/autoscaler.js';

/** 1st, 2nd, 3rd, 4th, 11th, 21st. */
export function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
  return `${n}${suffix}`;
}

const s = (v: number): string => `${round(v, 1)} s`;

/** "adds the 2nd replica at 75 s (ready at 95 s)" or "scales from 1 to 5 replicas at 15 s". */
function upWords(e: ScaleEvent, noun: string): string {
  const what = e.to - e.from === 1 ? `adds the ${ordinal(e.to)} ${noun}` : `scales from ${e.from} to ${plural(e.to, noun)}`;
  return `${what} at ${s(e.t)}${e.readyAt > e.t ? ` (ready at ${s(e.readyAt)})` : ''}`;
}

/** What an autoscaler did, in one clause: its first scale-up and the highest count it reached. */
function scalingClause(who: string, noun: string, events: readonly ScaleEvent[], start: number): string {
  const ups = events.filter((e) => e.to > e.from);
  if (!ups.length) return `${who} does not scale up (${plural(start, noun)} throughout)`;
  const first = ups[0]!;
  const top = ups.reduce((a, e) => (e.to > a.to ? e : a), first);
  return `${who} ${upWords(first, noun)}` + (top === first ? '' : ` and reaches ${top.to} at ${s(top.t)}${top.readyAt > top.t ? ` (ready at ${s(top.readyAt)})` : ''}`);
}

/** "from 60 s to 105 s" and, when there are more, how many and how long in all. */
function when(breaches: readonly Breach[]): string {
  const first = breaches[0]!;
  const more = breaches.length - 1;
  const total = breaches.reduce((a, b) => a + b.toSec - b.fromSec, 0);
  return `from ${s(first.fromSec)} to ${s(first.toSec)}` + (more ? ` (and ${more} more interval${more > 1 ? 's' : ''}, ${s(total)} in all)` : '');
}

/** What would avoid the web breach, in words. */
export function adviceWords(advice: SurgeAdvice, input: SurgeInput): string {
  const share = input.web.cpuRequestMillicores === null ? " of the knee's CPU" : '';
  const options = [
    ...(advice.minReplicas !== null ? [`raise minReplicas to ${advice.minReplicas}`] : []),
    ...(advice.targetUtilizationPercent !== null ? [`lower the target to ${advice.targetUtilizationPercent}%${share}`] : []),
  ];
  if (options.length) return options.join(' or ');
  return `neither a higher minReplicas (up to maxReplicas ${input.web.maxReplicas}) nor a lower target (down to ${Math.round(MIN_USEFUL_TARGET * 100)}%) avoids it: ` +
    'the surge needs more replicas at its peak, or a start pre-scaled closer to it';
}

/** Load within this share past the knee is said as a risk, not an expected breach: the knee is bracketed, not exact. */
const NEAR_KNEE = 0.1;

/** The prediction in one sentence: how the autoscalers react, and where the SLOs are expected to break. */
export function surgeSentence(input: SurgeInput, timeline: SurgeTimeline, advice: SurgeAdvice | null): string {
  const web = timeline.breaches.filter((b) => b.role === 'web');
  const waits = timeline.breaches.filter((b) => b.role === 'consumer');
  const parts = [scalingClause('the HPA', 'replica', timeline.scaleEvents.filter((e) => e.role === 'web'), input.web.minReplicas)];
  if (web.length) {
    const worst = Math.max(...web.map((b) => b.worst));
    // A knee is known to within its bracket (--precision, 5% by default): a few percent past it is a risk, not a certainty.
    const sure = worst > 1 + NEAR_KNEE;
    parts.push(`${when(web)} each replica carries more than its knee (up to ${Math.round(worst * 100)}% of it): ` +
      (sure ? 'expect p99 above the SLO' : `p99 may exceed the SLO (within ${Math.round(NEAR_KNEE * 100)}% of the knee, as close as the knee is known)`) +
      (advice ? `; ${adviceWords(advice, input)}` : ''));
  }
  if (input.consumer) {
    parts.push(scalingClause('KEDA', 'consumer', timeline.scaleEvents.filter((e) => e.role === 'consumer'), Math.max(1, input.consumer.minReplicas)));
    if (waits.length) {
      const worst = Math.max(...waits.map((b) => b.worst));
      parts.push(`${when(waits)} orders wait longer than the acceptable ${s(input.consumer.acceptableWaitSec)} in the queue (up to ${s(worst)})`);
    }
  }
  const sentence = parts.join('; ');
  if (web.length || waits.length) return sentence;
  const peak = Math.max(0, ...timeline.seconds.map((x) => x.loadPerReplica / x.kneePerReplica));
  return `no breach expected: ${sentence}, and each replica stays at or under ${Math.round(peak * 100)}% of its knee` +
    (input.consumer ? ` while jobs wait at most ${s(maxWait(input, timeline))}` : '');
}

/** The longest expected queue wait over the surge, seconds. */
function maxWait(input: SurgeInput, timeline: SurgeTimeline): number {
  const c = input.consumer!;
  return Math.max(0, ...timeline.seconds.map((x) => (x.consumer ? (x.consumer.backlog * c.secondsPerJob) / Math.max(1, x.consumer.ready) : 0)));
}
