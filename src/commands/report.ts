import { ExitCode } from '../exit-codes.js';
import { renderRunHtml } from '../reporters/html.js';
import { OutputFiles } from './output-files.js';
import type { CommandIO } from './io.js';
import { readCapacity, readResult } from './read-result.js';
import { renderCapacityHtml } from '../reporters/html-capacity.js';

/** `scalectl report <results.json|capacity.json> --html out.html`: the run or capacity report from a saved result. */
export async function reportCommand(file: string, opts: { html: string }, io: CommandIO): Promise<number> {
  const outputs = await OutputFiles.check({ '--html': opts.html }, io, [file]);
  const capacity = await readCapacity(file, io.cwd);
  const html = capacity ? renderCapacityHtml(capacity) : renderRunHtml(await readResult(file, io.cwd, { allowAborted: true }));
  await outputs.write('--html', () => html, 'HTML report');
  return outputs.exitCode(ExitCode.ok);
}
