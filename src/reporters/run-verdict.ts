import type { RunResult } from '../analyzers/run-result.js';
import { formatActual, thresholdLabel, type ThresholdResult } from '../analyzers/thresholds.js';
import { formatMetricValue, parseThreshold } from '../scenarios/threshold-expression.js';

/** A threshold of a run stopped before its end, in every output. */
export const NOT_JUDGED = 'not judged';

/** Why an aborted run's thresholds were not judged, in every output. */
export const STOPPED = 'the run was stopped before its end';

/** Why a shard's thresholds were not judged, in every output. */
export const SHARD_NOT_JUDGED = 'a shard saw a slice of the load; scalectl merge judges the thresholds over all shards';

/** The run's verdict as every output words it: a word, what it rests on, and a class (pass, warn, fail). */
export interface RunVerdictText {
  word: 'ABORTED' | 'FAILED' | 'PASSED' | 'DONE';
  detail: string;
  cls: 'pass' | 'warn' | 'fail';
}

/**
 * One wording of a run's verdict for the terminal, Markdown, JUnit and HTML:
 * a run stopped by a signal is not judged (its partial numbers neither pass
 * nor fail), whatever its thresholds would have said.
 */
export function runVerdict(r: Pick<RunResult, 'aborted' | 'thresholds' | 'shard'>): RunVerdictText {
  const failed = r.thresholds.filter((t) => !t.ok).length;
  if (r.aborted) return { word: 'ABORTED', detail: `stopped before its end; its thresholds were ${NOT_JUDGED}`, cls: 'warn' };
  if (r.shard) return { word: 'DONE', detail: `shard ${r.shard.index} of ${r.shard.count}, thresholds ${NOT_JUDGED}: ${SHARD_NOT_JUDGED}`, cls: 'pass' };
  if (failed) return { word: 'FAILED', detail: `${failed} of ${r.thresholds.length} thresholds`, cls: 'fail' };
  if (r.thresholds.length) return { word: 'PASSED', detail: `all ${r.thresholds.length} thresholds`, cls: 'pass' };
  return { word: 'DONE', detail: 'no thresholds set', cls: 'pass' };
}

/** A threshold's outcome in a result column: `not judged` in an aborted run or a shard's, else `pass` or `FAIL`. */
export function thresholdOutcome(r: Pick<RunResult, 'aborted' | 'shard'>, t: Pick<ThresholdResult, 'ok'>): 'not judged' | 'pass' | 'FAIL' {
  return r.aborted || r.shard ? NOT_JUDGED : t.ok ? 'pass' : 'FAIL';
}

/** "p99 < 500ms: actual 612ms, limit < 500ms" (a default threshold marked so: "dropped_rate <= 1% (default): ..."). */
export function thresholdFailure(t: ThresholdResult): string {
  const parsed = parseThreshold(t.expression);
  const op = typeof parsed === 'string' ? '' : `${parsed.op} `;
  return `${thresholdLabel(t)}: actual ${formatActual(t)}, limit ${op}${formatMetricValue(t.metric, t.limit)}`;
}
