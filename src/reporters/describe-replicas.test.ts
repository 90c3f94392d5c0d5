import { describe, expect, it } from 'vitest';
import type { ReplicasSummary, ScalingEvent } from '../analyzers/telemetry-replicas.js';
import { describeCounts, describeEvent, describeReplicas } from './describe-replicas.js';

/** A summary from each role's path of counts, one change per second from t = 10. */
function summaryOf(paths: Record<string, number[]>): ReplicasSummary {
  const events: ScalingEvent[] = [];
  const roles: ReplicasSummary['roles'] = {};
  for (const [role, path] of Object.entries(paths)) {
    roles[role] = { min: Math.min(...path), max: Math.max(...path), final: path[path.length - 1]! };
    for (let i = 1; i < path.length; i++) events.push({ t: 10 + i, role, from: path[i - 1]!, to: path[i]! });
  }
  return { roles, events: events.sort((a, b) => a.t - b.t) };
}

describe('describing replicas', () => {
  it('writes each role\'s path of counts with its max and number of changes, and says steady when it never changed', () => {
    expect(describeReplicas(summaryOf({ web: [1, 2, 1], consumer: [1, 3, 1] }))).toBe('web 1 → 2 → 1 (max 2, 2 changes) · consumer 1 → 3 → 1 (max 3, 2 changes)');
    expect(describeReplicas(summaryOf({ web: [2], consumer: [1, 4] }))).toBe('web 2 (steady) · consumer 1 → 4 (max 4, 1 change)');
  });

  it('keeps the ends of a long path around an ellipsis, with its min and max', () => {
    const flapping = [1, 2, 1, 2, 1, 2, 1, 3, 2];
    expect(describeReplicas(summaryOf({ web: flapping }))).toBe(`web 1 → 2 → 1 → … → 3 → 2 (min 1, max 3, ${flapping.length - 1} changes)`);
  });

  it('renders role names through the caller\'s escaping', () => {
    const upper = (r: string): string => r.toUpperCase();
    expect(describeReplicas(summaryOf({ web: [1, 2] }), upper)).toBe('WEB 1 → 2 (max 2, 1 change)');
    expect(describeEvent({ t: 34.5, role: 'web', from: 1, to: 2 })).toBe('web 1 → 2 at 34.5 s');
    expect(describeCounts({ web: 2, consumer: 3 }, upper)).toBe('WEB 2 · CONSUMER 3');
  });
});
