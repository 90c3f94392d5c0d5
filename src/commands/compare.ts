import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { compareResults, parseRegressionLimits, type RegressionLimit } from '../analyzers/compare.js';
import type { RunResult } from '../analyzers/run-result.js';
import { decodeHistogram } from '../engine/latency-histogram.js';
import { ExitCode, inputError, usageError } from '../exit-codes.js';
import { colorsFor } from '../reporters/colors.js';
import { renderComparison } from '../reporters/compare-terminal.js';
import { renderJunit } from '../reporters/junit.js';
import { checkWritable } from './check-writable.js';
import type { CommandIO } from './io.js';

export interface CompareOptions {
  maxRegression?: string;
  junit?: string;
}

/** Reads a RunResult file, or fails with exit 3 saying what is wrong with it. */
async function readResult(file: string, cwd: string): Promise<RunResult> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), 'utf8');
  } catch (err) {
    throw inputError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw inputError(`${file}: not JSON (${(err as Error).message})`);
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
  // A run stopped early is not judged by run; it is not a baseline or a candidate either.
  if (r.aborted) throw inputError(`${file}: the run was stopped before its end (aborted): its numbers are not comparable`);
  return r as RunResult;
}

/** `scalectl compare <baseline.json> <current.json> [--max-regression ...]`: exit 4 when a limit is crossed. */
export async function compareCommand(baselineFile: string, currentFile: string, opts: CompareOptions, io: CommandIO): Promise<number> {
  let limits: RegressionLimit[] = [];
  if (opts.maxRegression !== undefined) {
    const parsed = parseRegressionLimits(opts.maxRegression);
    if (typeof parsed === 'string') throw usageError(`--max-regression ${parsed}`);
    limits = parsed;
  }
  if (opts.junit !== undefined) await checkWritable(resolve(io.cwd, opts.junit), '--junit');
  const [baseline, current] = [await readResult(baselineFile, io.cwd), await readResult(currentFile, io.cwd)];
  if (baseline.scenario.name !== current.scenario.name) {
    io.stderr.write(`warning: different scenarios (${baseline.scenario.name} and ${current.scenario.name})\n`);
  }
  const cmp = compareResults(baseline, current, limits);
  io.stdout.write(renderComparison(cmp, { baseline: baselineFile, current: currentFile }, colorsFor(io.stdout, io.env)));
  if (opts.junit !== undefined) {
    await writeFile(resolve(io.cwd, opts.junit), renderJunit([{
      name: `${current.scenario.name}: regression`,
      timestamp: current.startedAt.replace(/\.\d+Z$/, ''),
      timeSec: 0,
      properties: { baseline: baselineFile, current: currentFile },
      cases: [
        { classname: 'run', name: 'runs compared' },
        ...cmp.checks.map((c) => ({ classname: 'regression', name: `${c.limit} (${c.scope})`, failure: c.ok ? undefined : c.message })),
        ...cmp.notGated.map((n) => ({ classname: 'regression', name: `${n.scope}`, skipped: `not gated: ${n.why}` })),
      ],
    }]));
    io.stderr.write(`JUnit XML written to ${opts.junit}\n`);
  }
  return cmp.passed ? ExitCode.ok : ExitCode.thresholdsFailed;
}
