import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/**
 * The frame `scalectl run --out -` prints around a result, written here from
 * the contract (docs/results.md#framed-results) byte for byte.
 * TODO(issue 15): use frameResult from src/analyzers/result-frame.ts once it is in this branch.
 */
export function frame(json: string, label: string): string {
  const sha = createHash('sha256').update(json, 'utf8').digest('hex');
  const lines = gzipSync(Buffer.from(json, 'utf8')).toString('base64').match(/.{1,76}/g)!;
  return [`-----BEGIN SCALECTL RESULT ${label} ${sha}-----`, ...lines, '-----END SCALECTL RESULT-----'].join('\n') + '\n';
}

/** What `kubectl logs -l job-name=... --prefix` prints for these pods: each line prefixed `[pod/<name>/scalectl] `, the pods' lines interleaved one by one. */
export function kubectlLogs(pods: readonly { name: string; text: string }[], eol = '\n'): string {
  const lines = pods.map((p) => p.text.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '').map((l) => `[pod/${p.name}/scalectl] ${l}`));
  const out: string[] = [];
  for (let i = 0; lines.some((l) => i < l.length); i++) for (const l of lines) if (i < l.length) out.push(l[i]!);
  return out.join(eol) + eol;
}
