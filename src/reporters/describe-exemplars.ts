import type { RunResult } from '../analyzers/run-result.js';
import type { Exemplar } from '../engine/slowest-requests.js';

/*
 * The slowest requests of a run (RunResult.exemplars) as every reporter
 * shows them: terminal, Markdown and HTML read them from here, so each says
 * the same of a request.
 */

/** How a kept request ended: its status, its error kind, or both ("503 http_5xx"). */
export function exemplarOutcome(e: Exemplar): string {
  if (e.status !== undefined && e.error !== undefined) return `${e.status} ${e.error}`;
  if (e.status !== undefined) return String(e.status);
  return e.error ?? '–';
}

/** When the request began, from the run start: "12.345 s". */
export const exemplarAt = (e: Exemplar): string => `${e.atS.toFixed(3)} s`;

/**
 * Each endpoint's kept requests, slowest first, in the endpoints' order
 * (then any name the result's endpoints lack); endpoints with none are left
 * out, and so is all of it in a result from before exemplars were kept.
 */
export function describeExemplars(r: Pick<RunResult, 'endpoints' | 'exemplars'>): [name: string, exemplars: Exemplar[]][] {
  const all = r.exemplars ?? {};
  const names = [...new Set([...r.endpoints.map((e) => e.name), ...Object.keys(all)])];
  return names.flatMap((name) => (Object.hasOwn(all, name) && all[name]!.length > 0 ? [[name, all[name]!]] : []));
}
