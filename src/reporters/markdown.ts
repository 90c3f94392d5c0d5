import type { RunResult } from '../analyzers/run-result.js';
import { formatActual, thresholdLabel } from '../analyzers/thresholds.js';
import { formatDuration } from '../shared/duration.js';
import { runVerdict, thresholdFailure, thresholdOutcome } from './run-verdict.js';
import { printable } from '../shared/printable.js';
import { describeReplicas } from './describe-replicas.js';
import { describeShards } from './describe-shards.js';
import { passRate } from './pass-rate.js';
import { describeExemplars, exemplarOutcome } from './describe-exemplars.js';

/**
 * Plain text in Markdown: one line, no table breaks, no emphasis, links or HTML from names such as `GET /files/*`,
 * and no terminal escapes for whoever `cat`s the file (control characters written as `\x1b`).
 */
const cell = (s: string): string => printable(s.replace(/\r\n?|\n/g, ' ')).replace(/[\\`*_[\]<>&|#]/g, (ch) => `\\${ch}`);

/** Code in a table cell: a fence longer than any run of backticks inside, pipes escaped. */
function code(s: string): string {
  const text = printable(s.replace(/\r\n?|\n/g, ' ')).replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence} ${text} ${fence}`;
}
const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;

const EMOJI = { ABORTED: '⚠️', FAILED: '❌', PASSED: '✅', DONE: '✅' } as const;

function verdict(r: RunResult): string {
  const v = runVerdict(r);
  return `${EMOJI[v.word]} **${v.word}**: ${v.detail}`;
}

/**
 * A compact Markdown summary for a CI job's summary page (`--summary-md`,
 * e.g. appended to $GITHUB_STEP_SUMMARY): the verdict, thresholds with their
 * actual values, the totals, one row per endpoint, the checks, the target's telemetry
 * and any generator warnings.
 */
export function renderSummaryMarkdown(r: RunResult): string {
  const out: string[] = [];
  out.push(`### scalectl: ${cell(r.scenario.name)}`, '', verdict(r), '');
  out.push(`Target ${code(r.target)}, ${formatDuration(r.loadDurationSec * 1000)} of load from ${r.startedAt}.`, '');
  const shards = describeShards(r);
  if (shards) out.push(cell(shards) + '.', '');
  if (r.thresholds.length) {
    out.push('| threshold | actual | result |', '|---|---|---|');
    for (const t of r.thresholds) out.push(`| ${code(thresholdLabel(t))} | ${formatActual(t)} | ${thresholdOutcome(r, t).replace('FAIL', '**FAIL**')} |`);
    out.push('');
  }
  out.push('| endpoint | requests | rps | p50 | p95 | p99 | errors |', '|---|---:|---:|---:|---:|---:|---:|');
  const row = (name: string, s: RunResult['totals']['latencyMs'], requests: number, rps: number, errorRate: number): string =>
    `| ${name} | ${requests} | ${rps.toFixed(1)} | ${formatDuration(s.p50)} | ${formatDuration(s.p95)} | ${formatDuration(s.p99)} | ${pct(errorRate)} |`;
  for (const e of r.endpoints) out.push(row(cell(e.name), e.latencyMs, e.requests, e.rps, e.errorRate));
  out.push(row('**total**', r.totals.latencyMs, r.totals.requests, r.totals.rps, r.totals.errorRate), '');
  const slowest = describeExemplars(r);
  if (slowest.length) {
    out.push('| slowest request | latency | outcome | trace id |', '|---|---:|---|---|');
    for (const [name, list] of slowest) out.push(`| ${cell(name)} | ${formatDuration(list[0]!.latencyMs)} | ${cell(exemplarOutcome(list[0]!))} | ${code(list[0]!.traceId)} |`);
    out.push('');
  }
  if (r.checks?.length) {
    out.push('| check | passes | fails | pass rate |', '|---|---:|---:|---:|');
    for (const c of r.checks) out.push(`| ${cell(c.name)} | ${c.passes} | ${c.fails ? `**${c.fails}**` : 0} | ${passRate(c.passes, c.fails, 2, '–')} |`);
    out.push('');
  }
  const t = r.telemetry;
  if ('source' in t) {
    const parts = [
      t.cacheHitRatio !== null ? `cache hit ratio ${pct(t.cacheHitRatio)}` : undefined,
      t.queueDepth ? `queue depth max ${t.queueDepth.max}` : undefined,
      t.queueDrainTimeSec !== null ? `queue drained ${t.queueDrainTimeSec.toFixed(1)} s after the load` : undefined,
      t.cpu ? `CPU mean ${t.cpu.totalPercent.mean}% of one core` : undefined,
      t.replicas ? `replicas ${describeReplicas(t.replicas, cell)}` : undefined,
      t.replicaLag ? `replica lag max ${formatDuration(t.replicaLag.maxSec * 1000)}` : undefined,
      typeof t.readShare?.replicas === 'number' ? `replicas served ${pct(t.readShare.replicas)} of catalog reads` : undefined,
      t.shards?.hottest ? `hottest shard ${cell(t.shards.hottest.shard)} at ${pct(t.shards.hottest.share)} of the checkouts` : undefined,
    ].filter(Boolean);
    if (parts.length) out.push(`Target telemetry: ${parts.join(', ')}.`, '');
  }
  const failed = r.aborted ? [] : r.thresholds.filter((x) => !x.ok);
  if (failed.length) out.push('<details><summary>Failed thresholds</summary>', '', ...failed.map((x) => `- ${cell(thresholdFailure(x))}`), '', '</details>', '');
  if (r.generator.warnings.length) out.push('Generator warnings:', '', ...r.generator.warnings.map((w) => `- ⚠️ ${cell(w)}`), '');
  return out.join('\n');
}
