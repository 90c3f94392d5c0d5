import type { RunResult } from '../analyzers/run-result.js';
import type { ReplicasSummary } from '../analyzers/telemetry-replicas.js';
import type { ChartSpec } from './chart-spec.js';
import { describeEvent, describeReplicas } from './describe-replicas.js';

type Point = RunResult['timeseries'][number];

/** The run's replicas summary; undefined without telemetry, without the signal, or in a result from before it existed. */
export function replicasOf(r: RunResult): ReplicasSummary | undefined {
  return 'source' in r.telemetry ? r.telemetry.replicas ?? undefined : undefined;
}

/** Each role's count after each event, from `state` on: the steps the timeseries cannot show (it ends with the load). */
function afterTheLoad(summary: ReplicasSummary | undefined, from: number, state: Record<string, number | null>): { t: number; counts: Record<string, number | null> }[] {
  const steps: { t: number; counts: Record<string, number | null> }[] = [];
  for (const e of summary?.events ?? []) {
    if (e.t < from) continue;
    state = { ...state, [e.role]: e.to };
    // Events of one scrape share a time: one point with all of them.
    if (steps.length && steps[steps.length - 1]!.t === e.t) steps[steps.length - 1]!.counts = state;
    else steps.push({ t: e.t, counts: state });
  }
  return steps;
}

/**
 * The replicas chart: one stepped line of ready replicas per role over time,
 * the achieved rate on a second axis, and a marker per scaling event.
 * Seconds of load come from the timeseries; changes after the load (while
 * the queue drains, when autoscalers scale down) come from the events, so the
 * chart runs on to the last of them. Undefined when the run has no replicas.
 */
export function replicasChart(r: RunResult, ts: readonly Point[]): ChartSpec | undefined {
  const summary = replicasOf(r);
  const roles = summary ? Object.keys(summary.roles) : [...new Set(ts.flatMap((p) => Object.keys(p.replicas ?? {})))];
  if (!roles.length) return undefined;
  const last = (role: string): number | null => ts.reduce<number | null>((v, p) => p.replicas?.[role] ?? v, null);
  // A timeseries point holds the last scrape of its second [t, t+1): later events are not in it.
  const end = ts.length ? ts[ts.length - 1]!.t + 1 : 0;
  const tail = afterTheLoad(summary, end, Object.fromEntries(roles.map((role) => [role, last(role)])));
  const drainEnd = 'source' in r.telemetry ? r.telemetry.drain?.series.at(-1)?.t : undefined;
  if (tail.length && drainEnd !== undefined && drainEnd > tail[tail.length - 1]!.t) tail.push({ t: drainEnd, counts: tail[tail.length - 1]!.counts });
  const x = [...ts.map((p) => p.t), ...tail.map((s) => s.t)];
  const series: ChartSpec['series'] = roles.map((role) => {
    const s = summary?.roles[role];
    return {
      label: role,
      style: 'steps',
      values: [...ts.map((p) => p.replicas?.[role] ?? null), ...tail.map((st) => st.counts[role] ?? null)],
      ...(s ? { summary: s.min === s.max ? `${s.final} (steady)` : `min ${s.min}, max ${s.max}, final ${s.final}` } : {}),
    };
  });
  series.push({ label: 'achieved iterations/s', axis: 'right', values: [...ts.map((p) => p.achievedRps), ...tail.map(() => null)] });
  return {
    title: 'Replicas (ready, per role) and scaling events',
    yLabel: 'ready replicas',
    integerY: true,
    y2Label: 'iterations/s',
    x,
    series,
    markers: (summary?.events ?? []).map((e) => ({ x: e.t, label: describeEvent(e), series: roles.indexOf(e.role) })),
  };
}

/** Most scaling events listed in the report's table; the chart marks them all. */
const MAX_LISTED = 40;

/** The telemetry table's rows about replicas (plain text; the caller escapes): each role's path, and the scaling events. */
export function replicaRows(r: RunResult): [string, string][] {
  const summary = replicasOf(r);
  if (!summary) return [];
  const rows: [string, string][] = [['replicas', describeReplicas(summary)]];
  const { events } = summary;
  if (events.length) {
    const more = events.length > MAX_LISTED ? `; and ${events.length - MAX_LISTED} more` : '';
    rows.push(['scaling events', events.slice(0, MAX_LISTED).map((e) => describeEvent(e)).join('; ') + more]);
  }
  return rows;
}
