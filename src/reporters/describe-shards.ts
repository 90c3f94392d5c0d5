import type { RunResult } from '../analyzers/run-result.js';
import { formatDuration } from '../shared/duration.js';

/**
 * A merged result's shards on one line, for the terminal and HTML summaries:
 * `merged 3 shards (scenario 3f2a…): 1 on gen-0 on time; 2 on gen-1 started 1.4s late, saturated; ...`.
 * Undefined for a result that is not merged. Names are as recorded: the caller escapes them for its output.
 */
export function describeShards(r: Pick<RunResult, 'merged' | 'generator'>): string | undefined {
  if (!r.merged) return undefined;
  const shards = (r.generator.shards ?? []).map((s) => `${s.index}${s.hostname ? ` on ${s.hostname}` : ''} ` +
    `${s.startLateMs > 0 ? `started ${formatDuration(s.startLateMs)} late` : 'on time'}${s.saturated ? ', saturated' : ''}`);
  return `merged ${r.merged.shards} shards (scenario ${r.merged.scenarioHash.slice(0, 12)}…)${shards.length ? `: ${shards.join('; ')}` : ''}`;
}
