import type { RequestStep, Step } from './schema.js';

/** Every request step of a flow, loops walked in order (a request inside a loop appears once). */
export function* requestSteps(steps: readonly Step[]): Generator<RequestStep> {
  for (const s of steps) {
    if (s.kind === 'request') yield s;
    else if (s.kind === 'loop') yield* requestSteps(s.steps);
  }
}

/**
 * Milliseconds of think time in one whole iteration: think steps added up,
 * those inside a loop times its rounds (a loop over a template, whose length
 * is known only at run time, counted once). Conditional steps count as taken.
 */
export function thinkMsOf(steps: readonly Step[]): number {
  let ms = 0;
  for (const s of steps) {
    if (s.kind === 'think') ms += s.ms;
    else if (s.kind === 'loop') ms += thinkMsOf(s.steps) * (s.count ?? (Array.isArray(s.over) ? s.over.length : 1));
  }
  return ms;
}

/** Names of every check in the scenario's flows, each once, in order of first appearance. */
export function listCheckNames(flows: readonly { steps: readonly Step[] }[]): string[] {
  const names = new Set<string>();
  for (const f of flows) for (const s of requestSteps(f.steps)) for (const c of s.checks) names.add(c.name);
  return [...names];
}
