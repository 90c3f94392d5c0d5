import { closest, distance } from 'fastest-levenshtein';
import { ECHO_MAX_CHARS, printable } from '../shared/printable.js';

/** One problem found in a scenario file, with its place. */
export interface ScenarioIssue {
  file: string;
  line: number;
  col: number;
  /** Field path such as `phases[0].arrivalRate`; empty for the whole file. */
  path: string;
  message: string;
}

/**
 * `file.yaml:4:18 phases[0].arrivalRate: expected a number, got "ten"`, on one
 * line: control characters anywhere in it (a key, a value, the file name) are escaped.
 */
export function formatIssue(i: ScenarioIssue): string {
  return `${printable(i.file)}:${i.line}:${i.col} ${i.path || '(scenario)'}: ${printable(i.message)}`;
}

/** `phases[0].arrivalRate` from ['phases', 0, 'arrivalRate']; keys escaped and cut to ECHO_MAX_CHARS. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else {
      const key = printable(String(p), ECHO_MAX_CHARS);
      out += out ? `.${key}` : key;
    }
  }
  return out;
}

/** " (did you mean x?)" when a close candidate exists, else "". */
export function didYouMean(word: string, candidates: readonly string[]): string {
  // A word far longer than any name is not a typo of one (and comparing it would be slow).
  if (candidates.length === 0 || word.length > 100) return '';
  const best = closest(word, [...candidates]);
  return distance(word, best) <= Math.max(2, Math.floor(word.length / 3)) ? ` (did you mean ${printable(best, ECHO_MAX_CHARS)}?)` : '';
}
