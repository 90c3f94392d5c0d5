import { createHash } from 'node:crypto';

/**
 * A scenario's identity for a distributed run: the SHA-256 (hex) of the
 * scenario file's bytes followed by each data (feeder) file's bytes, in the
 * order the scenario declares them. Shards of one run must have the same one
 * (the start barrier and `scalectl merge` refuse others): the same YAML with
 * other data rows is another test.
 */
export function scenarioHash(scenario: Uint8Array, dataFiles: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  hash.update(scenario);
  for (const bytes of dataFiles) hash.update(bytes);
  return hash.digest('hex');
}
