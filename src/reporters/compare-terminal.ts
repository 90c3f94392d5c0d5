import Table from 'cli-table3';
import type { ChalkInstance } from 'chalk';
import type { Comparison, ScopeFigures } from '../analyzers/compare.js';
import { formatDuration } from '../shared/duration.js';
import { printable } from '../shared/printable.js';

const table = (head: string[]): Table.Table => new Table({ head, style: { head: [], border: [], compact: true } });

/** "12.3ms → 15.1ms (+22.8%)". */
function pair(b: number | undefined, c: number | undefined, fmt: (v: number) => string): string {
  if (b === undefined) return c === undefined ? '–' : `– → ${fmt(c)}`;
  if (c === undefined) return `${fmt(b)} → –`;
  const change = b !== 0 ? ` (${c >= b ? '+' : ''}${(((c - b) / b) * 100).toFixed(1)}%)` : '';
  return `${fmt(b)} → ${fmt(c)}${change}`;
}

const get = <K extends keyof ScopeFigures>(f: ScopeFigures | null, k: K): ScopeFigures[K] | undefined => f?.[k];

/** `scalectl compare`: a side-by-side table per endpoint, then each regression check (names and file names escaped). */
export function renderComparison(cmp: Comparison, names: { baseline: string; current: string }, c: ChalkInstance): string {
  const out = [`baseline ${printable(names.baseline)} → current ${printable(names.current)}`];
  const t = table(['endpoint', 'requests', 'rps', 'p50', 'p95', 'p99', 'error rate']);
  for (const r of cmp.rows) {
    const lat = (k: 'p50' | 'p95' | 'p99'): string => pair(r.baseline?.latencyMs[k], r.current?.latencyMs[k], formatDuration);
    t.push([
      r.total ? c.bold('total') : printable(r.scope),
      pair(get(r.baseline, 'requests'), get(r.current, 'requests'), String),
      pair(get(r.baseline, 'rps'), get(r.current, 'rps'), (v) => v.toFixed(1)),
      lat('p50'), lat('p95'), lat('p99'),
      pair(get(r.baseline, 'errorRate'), get(r.current, 'errorRate'), (v) => `${(v * 100).toFixed(2)}%`),
    ]);
  }
  out.push(t.toString());
  if (cmp.checks.length) {
    out.push('regression checks:');
    for (const ch of cmp.checks) out.push(`  ${ch.ok ? c.green('pass') : c.red('FAIL')}  ${printable(ch.message)}`);
  }
  for (const n of cmp.notGated) out.push(c.dim(`  not gated: ${printable(n.scope)} (${printable(n.why)})`));
  const failed = cmp.checks.filter((x) => !x.ok).length;
  if (cmp.checks.length === 0) out.push('no --max-regression given: compared, not gated');
  else out.push(failed ? c.red.bold(`REGRESSED: ${failed} of ${cmp.checks.length} checks failed`) : c.green.bold(`OK: all ${cmp.checks.length} checks passed`));
  return out.join('\n') + '\n';
}
