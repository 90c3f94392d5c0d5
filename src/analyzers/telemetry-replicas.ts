import type { SeriesValue } from '../telemetry/telemetry-source.js';

/** Ready replicas per role (the `replicas` signal's `by` label: web, consumer, a deployment) at one scrape. */
export type ReplicaCounts = Record<string, number>;

/** One change of a role's ready count between two readings of it. */
export interface ScalingEvent {
  /** Seconds since the load's start (RunResult.startedAt) of the scrape that saw the new count, to 0.01 s. */
  t: number;
  role: string;
  from: number;
  to: number;
}

/** RunResult.telemetry.replicas: each role's ready count over every scrape (load and drain), and each change of it. */
export interface ReplicasSummary {
  /** Per role: the fewest and most ready replicas seen, and the last reading. */
  roles: Record<string, { min: number; max: number; final: number }>;
  /** In time order; a role's first reading is where it starts, not an event. */
  events: ScalingEvent[];
}

/**
 * The role of a `replicas` signal without `by` (one sum: the whole target).
 * Series that lack the `by` label are grouped as UNLABELLED, like CPU.
 */
export const ALL_REPLICAS = 'all';

const round = (v: number, d: number): number => Math.round(v * 10 ** d) / 10 ** d;

/** Ready replicas per role in one scrape's `replicas` series: the sum of each `by` group. */
export function replicaCounts(series: readonly SeriesValue[] | undefined): ReplicaCounts | undefined {
  if (!series) return undefined;
  // No prototype: a role may be named anything a label can hold ("constructor" is a valid deployment name).
  const out: ReplicaCounts = Object.create(null) as ReplicaCounts;
  for (const s of series) {
    const role = s.group === '' ? ALL_REPLICAS : s.group;
    out[role] = (out[role] ?? 0) + s.value;
  }
  // Counts are whole numbers; a PromQL avg() may not be, and float sums should not print as 2.0000000001.
  for (const role of Object.keys(out)) out[role] = round(out[role]!, 3);
  return out;
}

/**
 * Folds scrapes, in order, into the replicas summary: constant memory per
 * role plus one entry per change. A role missing from a scrape (its series
 * gone for a while) is compared with its last reading when it comes back, so
 * a change across the gap is still one event; a role first seen later starts
 * there.
 */
export class ReplicaTracker {
  private readonly roles = new Map<string, { min: number; max: number; final: number }>();
  private readonly events: ScalingEvent[] = [];

  /** Takes one scrape, `t` seconds after the load's start; returns its counts per role (undefined without the signal). */
  add(t: number, series: readonly SeriesValue[] | undefined): ReplicaCounts | undefined {
    const counts = replicaCounts(series);
    if (!counts) return undefined;
    for (const [role, n] of Object.entries(counts)) {
      const seen = this.roles.get(role);
      if (!seen) {
        this.roles.set(role, { min: n, max: n, final: n });
        continue;
      }
      if (n !== seen.final) this.events.push({ t: round(t, 2), role, from: seen.final, to: n });
      seen.min = Math.min(seen.min, n);
      seen.max = Math.max(seen.max, n);
      seen.final = n;
    }
    return counts;
  }

  /** What was seen, or null when no scrape had the signal. */
  summary(): ReplicasSummary | null {
    if (!this.roles.size) return null;
    return { roles: Object.fromEntries([...this.roles].map(([role, s]) => [role, { ...s }])), events: [...this.events] };
  }
}
