import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ExitCode, usageError } from '../exit-codes.js';
import { renderRunHtml } from '../reporters/html.js';
import { checkWritable } from './check-writable.js';
import type { CommandIO } from './io.js';
import { readResult } from './read-result.js';

/** `scalectl report <results.json> --html out.html`: the run report from a saved result. */
export async function reportCommand(file: string, opts: { html: string }, io: CommandIO): Promise<number> {
  if (opts.html.trim() === '') throw usageError('--html needs a file name');
  const out = resolve(io.cwd, opts.html);
  await checkWritable(out, '--html');
  const result = await readResult(file, io.cwd, { allowAborted: true });
  await writeFile(out, renderRunHtml(result));
  io.stderr.write(`HTML report written to ${opts.html}\n`);
  return ExitCode.ok;
}
