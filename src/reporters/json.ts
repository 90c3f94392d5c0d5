import type { RunResult } from '../analyzers/run-result.js';

/** The RunResult as pretty JSON (docs/results.md). */
export function renderJson(result: RunResult): string {
  return JSON.stringify(result, null, 2) + '\n';
}
