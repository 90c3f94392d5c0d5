import { compareResults, parseRegressionLimits, type RegressionLimit } from '../analyzers/compare.js';
import { ExitCode, inputError, usageError } from '../exit-codes.js';
import { readResult } from './read-result.js';
import { colorsFor } from '../reporters/colors.js';
import { renderComparison } from '../reporters/compare-terminal.js';
import { renderJunit } from '../reporters/junit.js';
import { OutputFiles } from './output-files.js';
import type { CommandIO } from './io.js';
import { printable } from '../shared/printable.js';

export interface CompareOptions {
  maxRegression?: string;
  junit?: string;
}

/** `scalectl compare <baseline.json> <current.json> [--max-regression ...]`: exit 4 when a limit is crossed. */
export async function compareCommand(baselineFile: string, currentFile: string, opts: CompareOptions, io: CommandIO): Promise<number> {
  let limits: RegressionLimit[] = [];
  if (opts.maxRegression !== undefined) {
    const parsed = parseRegressionLimits(opts.maxRegression);
    if (typeof parsed === 'string') throw usageError(`--max-regression ${parsed}`);
    limits = parsed;
  }
  const outputs = await OutputFiles.check({ '--junit': opts.junit }, io, [baselineFile, currentFile]);
  const [baseline, current] = [await readResult(baselineFile, io.cwd), await readResult(currentFile, io.cwd)];
  // A shard ran a slice of the load (1/N of its rate): compared with a whole run it would read as a collapse.
  for (const [file, r] of [[baselineFile, baseline], [currentFile, current]] as const) {
    if (r.shard) throw inputError(`${file}: this is shard ${r.shard.index} of ${r.shard.count} of a run: merge the shards first (scalectl merge), then compare the merged result`);
  }
  if (baseline.scenario.name !== current.scenario.name) {
    io.stderr.write(`warning: different scenarios (${printable(baseline.scenario.name)} and ${printable(current.scenario.name)})\n`);
  }
  const cmp = compareResults(baseline, current, limits);
  io.stdout.write(renderComparison(cmp, { baseline: baselineFile, current: currentFile }, colorsFor(io.stdout, io.env)));
  await outputs.write('--junit', () => renderJunit([{
    name: `${current.scenario.name}: regression`,
    timestamp: current.startedAt.replace(/\.\d+Z$/, ''),
    timeSec: 0,
    properties: { baseline: baselineFile, current: currentFile },
    cases: [
      { classname: 'run', name: 'runs compared' },
      ...cmp.checks.map((c) => ({ classname: 'regression', name: `${c.limit} (${c.scope})`, failure: c.ok ? undefined : c.message })),
      ...cmp.notGated.map((n) => ({ classname: 'regression', name: `${n.scope}`, skipped: `not gated: ${n.why}` })),
    ],
  }]), 'JUnit XML');
  return outputs.exitCode(cmp.passed ? ExitCode.ok : ExitCode.thresholdsFailed);
}
