import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/** Characters per line of a framed result's base64 body (as in PEM and MIME). */
export const FRAME_LINE_LENGTH = 76;

/**
 * A RunResult framed for log collection (`run --out -`): written to standard
 * output after the summary, so that `kubectl logs` can carry it off a pod
 * with no shared volume. The header names the shard (`2/4`, or `-` for a run
 * that is not one) and the SHA-256 of the JSON bytes; the body is the gzipped
 * JSON in base64, 76 characters a line. `shard`: its place in the run, index
 * from 1 (RunResult.shard):
 *
 *     -----BEGIN SCALECTL RESULT 2/4 <sha256 hex>-----
 *     H4sIAAAAAAAA...
 *     -----END SCALECTL RESULT-----
 */
export function frameResult(json: string, shard?: { index: number; count: number }): string {
  const bytes = Buffer.from(json, 'utf8');
  const sha = createHash('sha256').update(bytes).digest('hex');
  const body = gzipSync(bytes).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < body.length; i += FRAME_LINE_LENGTH) lines.push(body.slice(i, i + FRAME_LINE_LENGTH));
  const source = shard ? `${shard.index}/${shard.count}` : '-';
  return [`-----BEGIN SCALECTL RESULT ${source} ${sha}-----`, ...lines, '-----END SCALECTL RESULT-----', ''].join('\n');
}
