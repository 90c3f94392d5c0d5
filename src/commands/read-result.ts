import { resolve } from 'node:path';
import type { CapacityResult } from '../capacity/capacity-result.js';
import type { RunResult } from '../analyzers/run-result.js';
import { decodeHistogram } from '../engine/latency-histogram.js';
import { inputError } from '../exit-codes.js';
import { exemplarsProblem } from '../analyzers/shard-result-problem.js';
import { maskCredentials } from '../shared/mask-credentials.js';
import { readTextFile, TextFileError } from '../scenarios/read-text-file.js';

/**
 * Largest results.json or capacity.json read, bytes (256 MiB: a long run with
 * many endpoints and telemetry series stays far below it). A FIFO, a device or
 * a directory is refused before it is read.
 */
export const MAX_RESULT_BYTES = 256 * 1024 * 1024;

/** The text of a result file, or an input error (exit 3) saying why it cannot be read. */
export async function readResultText(file: string, cwd: string): Promise<string> {
  try {
    return await readTextFile(resolve(cwd, file), MAX_RESULT_BYTES);
  } catch (err) {
    throw inputError(`${file}: cannot read: ${err instanceof TextFileError ? err.message : String(err)}`);
  }
}

/** Every string in a JSON value, keys included. */
function* stringsOf(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const v of value) yield* stringsOf(v);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      yield k;
      yield* stringsOf(v);
    }
  }
}

/** `value` with each string and key that `names` holds replaced by its new name. */
function renamed(value: unknown, names: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return names.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => renamed(v, names));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [names.get(k) ?? k, renamed(v, names)]));
}

/**
 * The file's JSON with the credentials of every URL in its strings and keys
 * masked (`http://***@host`): a result written by an older version, or edited
 * by hand, may hold them in its target, endpoint names, histogram keys, error
 * samples or settings, and `report` and `compare` must not copy them on. Two
 * names that differ only in their credentials stay two names (`… (2)`), the
 * same in every place they appear, so their endpoints and histograms are
 * neither merged nor overwritten.
 */
function parseMasked(text: string): unknown {
  const data: unknown = JSON.parse(text);
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const str of stringsOf(data)) {
    if (names.has(str)) continue;
    const masked = maskCredentials(str);
    if (masked === str) continue;
    let name = masked;
    for (let n = 2; taken.has(name); n++) name = `${masked} (${n})`;
    taken.add(name);
    names.set(str, name);
  }
  return names.size ? renamed(data, names) : data;
}

/**
 * Reads a RunResult file, or fails with exit 3 saying what is wrong with it;
 * a result from a run stopped early is refused unless `allowAborted`.
 */
export async function readResult(file: string, cwd: string, opts: { allowAborted?: boolean } = {}): Promise<RunResult> {
  return parseResult(await readResultText(file, cwd), file, opts);
}

/** A RunResult from its JSON text, or an input error (exit 3) naming `file` (a file name, or where a framed result came from). */
export function parseResult(text: string, file: string, opts: { allowAborted?: boolean } = {}): RunResult {
  let data: unknown;
  try {
    data = parseMasked(text);
  } catch (err) {
    throw inputError(`${file}: not JSON (${(err as Error).message})`);
  }
  if ((data as { kind?: unknown } | null)?.kind === 'capacity') {
    throw inputError(`${file}: a capacity result; this takes a run result (scalectl run --out)`);
  }
  const r = data as Partial<RunResult> | null;
  if (!r || typeof r !== 'object' || r.schemaVersion !== 1 || !Array.isArray(r.endpoints) || !r.totals || typeof r.scenario?.name !== 'string'
    || typeof r.startedAt !== 'string' || !r.histograms || typeof r.histograms !== 'object') {
    throw inputError(`${file}: not a scalectl run result (schemaVersion 1 with scenario, startedAt, endpoints, totals and histograms; docs/results.md)`);
  }
  for (const [name, h] of Object.entries(r.histograms)) {
    try {
      if (typeof h !== 'string') throw new Error('not a string');
      decodeHistogram(h);
    } catch (err) {
      throw inputError(`${file}: histograms["${name}"] is not an encoded HdrHistogram (${(err as Error).message})`);
    }
  }
  const badExemplars = exemplarsProblem(r.exemplars);
  if (badExemplars) throw inputError(`${file}: ${badExemplars}`);
  // A run stopped early is not judged by run; it is not a baseline or a candidate either.
  if (r.aborted && !opts.allowAborted) throw inputError(`${file}: the run was stopped before its end (aborted): its numbers are not comparable`);
  return r as RunResult;
}


/** A capacity.json, or undefined when the file holds something else (left to readResult to explain); a file that cannot be read is an input error. */
export async function readCapacity(file: string, cwd: string): Promise<CapacityResult | undefined> {
  const text = await readResultText(file, cwd);
  let data: unknown;
  try {
    data = parseMasked(text);
  } catch {
    return undefined;
  }
  const c = data as Partial<CapacityResult> | null;
  if (c?.kind !== 'capacity') return undefined;
  if (c.schemaVersion !== 1 || !Array.isArray(c.replicaCounts) || !c.plan || !c.settings || !c.scenario) {
    throw inputError(`${file}: not a scalectl capacity result (schemaVersion 1 with settings, replicaCounts and plan; docs/capacity.md)`);
  }
  return c as CapacityResult;
}
