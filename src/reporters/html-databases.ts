import type { RunResult } from '../analyzers/run-result.js';
import type { ChartSpec } from './chart-spec.js';

type Point = RunResult['timeseries'][number];

/**
 * The charts of the target's databases, from the seconds to chart: the
 * worst replica's lag with the replicas' share of catalog reads on a second
 * axis, and each shard's checkouts per second (a hot shard stands out).
 * Only those whose series were seen.
 */
export function databaseCharts(ts: readonly Point[]): Record<string, ChartSpec> {
  const x = ts.map((p) => p.t);
  const charts: Record<string, ChartSpec> = {};
  const lagSeen = ts.some((p) => typeof p.replicaLagSec === 'number');
  // Without replicas (no lag series, every read from primary) a share of 0 throughout says nothing: no chart.
  const shareSeen = ts.some((p) => typeof p.replicaReadShare === 'number') && (lagSeen || ts.some((p) => (p.replicaReadShare ?? 0) > 0));
  if (lagSeen || shareSeen) {
    charts.replicaLag = {
      title: 'Read replicas: lag and their share of catalog reads', yLabel: 'lag (s)', ...(shareSeen ? { y2Label: 'share of reads (%)' } : {}), x, gaps: true,
      series: [
        ...(lagSeen ? [{ label: 'worst replica lag (s)', values: ts.map((p) => p.replicaLagSec ?? null) }] : []),
        ...(shareSeen ? [{ label: 'read by replicas %', axis: 'right' as const, values: ts.map((p) => (typeof p.replicaReadShare === 'number' ? p.replicaReadShare * 100 : null)) }] : []),
      ],
    };
  }
  const shards = [...new Set(ts.flatMap((p) => Object.keys(p.shardCheckoutsPerSec ?? {})))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (shards.length) {
    charts.shards = {
      title: 'Checkouts per second by shard', yLabel: 'checkouts/s', x, gaps: true,
      series: shards.map((s) => ({ label: s, values: ts.map((p) => p.shardCheckoutsPerSec?.[s] ?? null) })),
    };
  }
  return charts;
}
