import { resolve } from 'node:path';
import { loadScenario, type LoadedScenario } from '../scenarios/load-scenario.js';
import { formatIssue } from '../scenarios/scenario-issue.js';
import type { CommandIO } from './io.js';
import { dataFilesOf, type OutputFiles } from './output-files.js';

/**
 * The scenario a command runs (`run`, `capacity`): loaded and validated,
 * each problem printed as one `file:line:col` line (then undefined: exit 3),
 * and its data files refused as outputs (an `--out` that would overwrite one).
 */
export async function loadCommandScenario(file: string, io: CommandIO, outputs: OutputFiles): Promise<LoadedScenario | undefined> {
  const loaded = await loadScenario(resolve(io.cwd, file), io.env, file);
  if (!loaded.ok) {
    for (const issue of loaded.issues) io.stderr.write(formatIssue({ ...issue, file }) + '\n');
    return undefined;
  }
  await outputs.refuseInputs(dataFilesOf(loaded.loaded.scenario, resolve(io.cwd, file)), 'a data file of the scenario');
  return { ...loaded.loaded, file };
}
