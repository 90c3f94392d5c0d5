import { resolve } from 'node:path';
import { ExitCode } from '../exit-codes.js';
import { loadScenario } from '../scenarios/load-scenario.js';
import { formatIssue } from '../scenarios/scenario-issue.js';
import { printable } from '../shared/printable.js';
import type { CommandIO } from './io.js';

/** `scalectl validate <files...>`: checks scenarios without running them. */
export async function validateCommand(files: string[], io: CommandIO): Promise<number> {
  let bad = 0;
  for (const file of files) {
    const r = await loadScenario(resolve(io.cwd, file), io.env, file);
    if (r.ok) io.stdout.write(`${printable(file)}: ok\n`);
    else {
      bad++;
      for (const issue of r.issues) io.stderr.write(formatIssue({ ...issue, file }) + '\n');
    }
  }
  if (bad > 0) io.stderr.write(`${bad} of ${files.length} scenario file${files.length > 1 ? 's' : ''} invalid\n`);
  return bad > 0 ? ExitCode.invalidInput : ExitCode.ok;
}

