import { dirname, relative, resolve } from 'node:path';
import { ExitCode, inputError } from '../exit-codes.js';
import { importArtillery } from '../scenarios/artillery/import-artillery.js';
import { formatNote } from '../scenarios/artillery/import-notes.js';
import { MAX_SCENARIO_BYTES, readTextFile } from '../scenarios/read-text-file.js';
import { printable } from '../shared/printable.js';
import { OutputFiles } from './output-files.js';
import type { CommandIO } from './io.js';

/**
 * `scalectl import artillery <script.yml> [-o scenario.yaml]`: writes the
 * scenario (to stdout without -o) and lists on stderr, with line numbers,
 * what was not translated. Exit 0 when everything was, 9 when something was
 * left out (the scenario is written all the same), 3 when the file is not
 * YAML or not an Artillery script.
 */
export async function importArtilleryCommand(script: string, opts: { out?: string; environment?: string }, io: CommandIO): Promise<number> {
  const outputs = await OutputFiles.check({ '--out': opts.out }, io, [script]);
  const path = resolve(io.cwd, script);
  let text: string;
  try {
    text = await readTextFile(path, MAX_SCENARIO_BYTES);
  } catch (err) {
    throw inputError(`cannot read ${printable(script)}: ${(err as Error).message}`);
  }
  const out = outputs.path('--out');
  const outDir = out ? dirname(out) : io.cwd;
  const result = importArtillery(script, text, { scriptDir: dirname(path), outDir, canWrite: out !== undefined, environment: opts.environment });
  // -o must not replace a payload CSV the script reads either (known once it is read).
  await outputs.refuseInputs(result.inputs, 'a payload file of the script');

  const copies = await OutputFiles.check(
    Object.fromEntries(Object.keys(result.copies).map((p) => [`data file ${relative(io.cwd, p)}`, p])),
    io,
    [script, ...result.inputs, ...(out ? [out] : [])],
  );
  for (const [p, csv] of Object.entries(result.copies)) await copies.write(`data file ${relative(io.cwd, p)}`, () => csv, 'data file', { quiet: true });
  for (const n of result.notes) io.stderr.write(formatNote(script, n) + '\n');
  const left = result.notes.filter((n) => n.kind === 'untranslated').length;
  if (out) await outputs.write('--out', () => result.yaml, 'scenario');
  else io.stdout.write(result.yaml);
  if (left > 0) io.stderr.write(`${left} construct${left > 1 ? 's' : ''} not translated (listed above and in the scenario's header comment); the rest was (exit 9)\n`);
  const verdict = left > 0 ? ExitCode.importIncomplete : ExitCode.ok;
  return copies.exitCode(outputs.exitCode(verdict));
}
