import type { RunResult } from '../analyzers/run-result.js';
import { renderRunHtml } from '../reporters/html.js';
import { renderJson } from '../reporters/json.js';
import { renderJunit, runSuite } from '../reporters/junit.js';
import { renderSummaryMarkdown } from '../reporters/markdown.js';
import type { OutputFiles } from './output-files.js';

/** The files a RunResult is written to, by the flags `run` and `merge` share (those not given are skipped). */
export async function writeRunOutputs(outputs: OutputFiles, result: RunResult): Promise<void> {
  await outputs.write('--out', () => renderJson(result), 'results');
  await outputs.write('--junit', () => renderJunit([runSuite(result)]), 'JUnit XML');
  await outputs.write('--html', () => renderRunHtml(result), 'HTML report');
  await outputs.write('--summary-md', () => renderSummaryMarkdown(result), 'Markdown summary');
}
