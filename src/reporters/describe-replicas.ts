import type { ReplicaCounts, ReplicasSummary, ScalingEvent } from '../analyzers/telemetry-replicas.js';

/** Longest path of counts written out whole; a longer one (a flapping autoscaler) keeps its ends around an ellipsis. */
const MAX_STEPS = 7;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * One role's counts over the run, for people: `web 1 → 2 → 1 (max 2, 2 changes)`,
 * or `web 2 (steady)` when it never changed. `name` renders the role's name
 * (escaped for the output it goes to).
 */
export function describeRole(role: string, summary: ReplicasSummary, name: (role: string) => string = (r) => r): string {
  const s = summary.roles[role]!;
  const events = summary.events.filter((e) => e.role === role);
  if (!events.length) return `${name(role)} ${s.final} (steady)`;
  const steps = [events[0]!.from, ...events.map((e) => e.to)];
  const path = steps.length <= MAX_STEPS ? steps.map(String) : [...steps.slice(0, 3).map(String), '…', ...steps.slice(-2).map(String)];
  const range = steps.length <= MAX_STEPS ? `max ${s.max}` : `min ${s.min}, max ${s.max}`;
  return `${name(role)} ${path.join(' → ')} (${range}, ${plural(events.length, 'change')})`;
}

/** Every role's counts over the run, joined with ` · `. */
export function describeReplicas(summary: ReplicasSummary, name?: (role: string) => string): string {
  return Object.keys(summary.roles).map((role) => describeRole(role, summary, name)).join(' · ');
}

/** A scaling event for a legend or a list: `web 1 → 2 at 34 s`. */
export function describeEvent(e: ScalingEvent, name: (role: string) => string = (r) => r): string {
  return `${name(e.role)} ${e.from} → ${e.to} at ${e.t} s`;
}

/** The counts of one moment: `web 2 · consumer 3`. */
export function describeCounts(counts: ReplicaCounts, name: (role: string) => string = (r) => r): string {
  return Object.entries(counts).map(([role, n]) => `${name(role)} ${n}`).join(' · ');
}
