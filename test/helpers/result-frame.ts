import { frameResult } from '../../src/analyzers/result-frame.js';

/** The frame `scalectl run --out -` prints around a result, labelled `I/N` (a shard) or `-`. */
export function frame(json: string, label: string): string {
  const m = /^(\d+)\/(\d+)$/.exec(label);
  return frameResult(json, m ? { index: Number(m[1]), count: Number(m[2]) } : undefined);
}

/** What `kubectl logs -l job-name=... --prefix` prints for these pods: each line prefixed `[pod/<name>/scalectl] `, the pods' lines interleaved one by one. */
export function kubectlLogs(pods: readonly { name: string; text: string }[], eol = '\n'): string {
  const lines = pods.map((p) => p.text.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '').map((l) => `[pod/${p.name}/scalectl] ${l}`));
  const out: string[] = [];
  for (let i = 0; lines.some((l) => i < l.length); i++) for (const l of lines) if (i < l.length) out.push(l[i]!);
  return out.join(eol) + eol;
}
