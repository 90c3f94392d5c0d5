import { closest, distance } from 'fastest-levenshtein';

/** One problem found in a scenario file, with its place. */
export interface ScenarioIssue {
  file: string;
  line: number;
  col: number;
  /** Field path such as `phases[0].arrivalRate`; empty for the whole file. */
  path: string;
  message: string;
}

/** `file.yaml:4:18 phases[0].arrivalRate: expected a number, got "ten"` */
export function formatIssue(i: ScenarioIssue): string {
  return `${i.file}:${i.line}:${i.col} ${i.path || '(scenario)'}: ${i.message}`;
}

/** `phases[0].arrivalRate` from ['phases', 0, 'arrivalRate']. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

/** " (did you mean x?)" when a close candidate exists, else "". */
export function didYouMean(word: string, candidates: readonly string[]): string {
  if (candidates.length === 0) return '';
  const best = closest(word, [...candidates]);
  return distance(word, best) <= Math.max(2, Math.floor(word.length / 3)) ? ` (did you mean ${best}?)` : '';
}
