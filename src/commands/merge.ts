import { mergeShardResults, type ShardInput } from '../analyzers/merge-results.js';
import { FrameError, readFrames } from '../analyzers/result-frame-read.js';
import { ExitCode, inputError, usageError } from '../exit-codes.js';
import { colorsFor } from '../reporters/colors.js';
import { renderSummary } from '../reporters/terminal.js';
import { decodeText, TextFileError } from '../scenarios/read-text-file.js';
import type { CommandIO } from './io.js';
import { OutputFiles } from './output-files.js';
import { MAX_RESULT_BYTES, parseResult, readResultText } from './read-result.js';
import { writeRunOutputs } from './run-outputs.js';
import { collectCommand } from '../reporters/k8s-job.js';

export interface MergeOptions {
  out?: string;
  html?: string;
  junit?: string;
  summaryMd?: string;
}

/** What `merge -` says when standard input is a terminal or absent. */
const PIPE_HINT = `pipe the logs in: ${collectCommand({ name: '<job>' })}`;

/** Standard input, whole, as text; at most MAX_RESULT_BYTES. */
async function readStdin(io: CommandIO): Promise<string> {
  const stdin = io.stdin?.();
  if (!stdin) throw usageError(`merge -: no standard input; ${PIPE_HINT}`);
  if (stdin.isTTY) throw usageError(`merge -: standard input is a terminal; ${PIPE_HINT}`);
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of stdin) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    bytes += b.length;
    if (bytes > MAX_RESULT_BYTES) throw inputError(`standard input: over the limit of ${MAX_RESULT_BYTES / 2 ** 20} MiB`);
    chunks.push(b);
  }
  try {
    return decodeText(Buffer.concat(chunks));
  } catch (err) {
    throw inputError(`standard input: ${err instanceof TextFileError ? err.message : String(err)}`);
  }
}

/**
 * The shard results an input holds: a RunResult file (JSON), or a log with
 * framed results in it (`run --out -`'s output, or `kubectl logs --prefix`
 * of several pods, from a file or from standard input `-`).
 */
async function readShards(input: string, io: CommandIO): Promise<ShardInput[]> {
  const stdin = input === '-';
  const label = stdin ? 'standard input' : input;
  const text = stdin ? await readStdin(io) : await readResultText(input, io.cwd);
  if (text.trimStart().startsWith('{')) return [{ source: label, result: parseResult(text, label, { allowAborted: true }) }];
  // A pod's name when the log says it (kubectl --prefix), else the file; for a file with pods in it, both.
  const where = (source: string): string => (stdin || source === label ? source : `${label} (${source})`);
  let frames;
  try {
    frames = readFrames(text, { source: label, maxJsonBytes: MAX_RESULT_BYTES });
  } catch (err) {
    if (err instanceof FrameError) throw inputError(stdin || err.source === label ? err.message : `${label}: ${err.message}`);
    throw err;
  }
  if (frames.length === 0) {
    throw inputError(`${label}: no result in it: neither a RunResult (JSON) nor results framed by scalectl run --out - (-----BEGIN SCALECTL RESULT ...)`);
  }
  return frames.map((f) => ({ source: where(f.source), result: parseResult(f.json, where(f.source), { allowAborted: true }) }));
}

/**
 * `scalectl merge <shard.json...|->`: merges the shards of one run into one
 * result, judges its thresholds, prints the summary, writes the outputs and
 * exits like `run` (0, 4 thresholds failed, 5 a shard was stopped early;
 * 3 when the inputs are not the whole set of one run's shards).
 */
export async function mergeCommand(inputs: readonly string[], opts: MergeOptions, io: CommandIO): Promise<number> {
  if (inputs.filter((i) => i === '-').length > 1) throw usageError('merge reads standard input (-) once; give - one time');
  const outputs = await OutputFiles.check({ '--out': opts.out, '--junit': opts.junit, '--summary-md': opts.summaryMd, '--html': opts.html }, io, inputs.filter((i) => i !== '-'));
  const shards: ShardInput[] = [];
  for (const input of inputs) shards.push(...(await readShards(input, io)));
  const merged = mergeShardResults(shards);
  if ('problem' in merged) throw inputError(merged.problem);
  const result = merged.result;
  io.stdout.write(renderSummary(result, colorsFor(io.stdout, io.env)));
  await writeRunOutputs(outputs, result);
  return outputs.exitCode(result.aborted ? ExitCode.aborted : result.passed ? ExitCode.ok : ExitCode.thresholdsFailed);
}
