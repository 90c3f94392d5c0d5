import type { LoadedScenario } from '../scenarios/load-scenario.js';
import { listEndpoints } from '../engine/compiled-scenario.js';
import type { OutputFiles } from '../commands/output-files.js';
import { osReason } from '../commands/output-files.js';
import { usageError } from '../exit-codes.js';
import { maskCredentials } from '../shared/mask-credentials.js';
import { printable } from '../shared/printable.js';
import { LiveStreams, newRunId } from './live-streams.js';
import type { StreamSpec } from './stream-spec.js';

/** The name OutputFiles knows an ndjson stream's file by (in its messages too). */
const flagOf = (spec: StreamSpec): string => `--stream ndjson=${spec.destination}`;

/** The ndjson files among the streams, for OutputFiles.check (not an input, not another output, writable). */
export function streamOutputFlags(specs: readonly StreamSpec[] = []): Record<string, string> {
  return Object.fromEntries(specs.filter((s) => s.kind === 'ndjson').map((s) => [flagOf(s), s.destination]));
}

/** Opens the run's streams (undefined without --stream) and says where each second goes. */
export async function startStreams(
  specs: readonly StreamSpec[] | undefined, loaded: LoadedScenario, outputs: OutputFiles, say: (line: string) => void,
): Promise<LiveStreams | undefined> {
  if (!specs?.length) return undefined;
  const runId = newRunId();
  const run = { runId, scenario: loaded.scenario.name, endpoints: listEndpoints(loaded.scenario) };
  const streams = await LiveStreams.open(specs, run, (destination) => outputs.path(flagOf({ kind: 'ndjson', destination }))!, say).catch((err: unknown) => {
    throw usageError(`--stream: could not open its file: ${osReason(err)}`);
  });
  const where = specs.map((s) => `${s.kind} ${printable(maskCredentials(s.destination))}`).join(', ');
  say(`streaming each second (run_id ${runId}) to ${where}`);
  return streams;
}
