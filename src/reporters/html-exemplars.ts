import type { RunResult } from '../analyzers/run-result.js';
import { formatDuration } from '../shared/duration.js';
import { describeExemplars, exemplarAt, exemplarOutcome } from './describe-exemplars.js';
import { esc, table } from './html.js';

/**
 * The run report's slowest requests: per endpoint, a table of the requests
 * kept with their trace ids (slowest first), to look up in a tracing backend.
 * Undefined when the result has none (defaults.traceparent: false, a result
 * from before they were kept).
 */
export function exemplarsSection(r: RunResult): string | undefined {
  const slowest = describeExemplars(r);
  if (!slowest.length) return undefined;
  const note = '<p>The slowest requests of each endpoint, with the trace id each was sent with (its <code>traceparent</code> header): look one up in the tracing backend to see where its time went. “at” counts from the start of the load.</p>';
  return note + slowest.map(([name, list]) => `<h3>${esc(name)}</h3>` + table(['trace id', 'outcome', 'latency', 'at'],
    list.map((e) => [`<code>${esc(e.traceId)}</code>`, esc(exemplarOutcome(e)), esc(formatDuration(e.latencyMs)), esc(exemplarAt(e))]), 2)).join('\n');
}
