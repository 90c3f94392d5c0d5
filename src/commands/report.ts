import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ExitCode, usageError } from '../exit-codes.js';
import { renderRunHtml } from '../reporters/html.js';
import { checkWritable } from './check-writable.js';
import type { CommandIO } from './io.js';
import { readCapacity, readResult } from './read-result.js';
import { renderCapacityHtml } from '../reporters/html-capacity.js';

/** `scalectl report <results.json|capacity.json> --html out.html`: the run or capacity report from a saved result. */
export async function reportCommand(file: string, opts: { html: string }, io: CommandIO): Promise<number> {
  if (opts.html.trim() === '') throw usageError('--html needs a file name');
  const out = resolve(io.cwd, opts.html);
  if (out === resolve(io.cwd, file)) throw usageError(`--html ${opts.html}: that is the input file`);
  await checkWritable(out, '--html');
  const capacity = await readCapacity(file, io.cwd);
  await writeFile(out, capacity ? renderCapacityHtml(capacity) : renderRunHtml(await readResult(file, io.cwd, { allowAborted: true })));
  io.stderr.write(`HTML report written to ${opts.html}\n`);
  return ExitCode.ok;
}
