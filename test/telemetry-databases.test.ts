import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TelemetrySummary } from '../src/analyzers/telemetry.js';
import type { ChartSpec } from '../src/reporters/chart-spec.js';
import { runScenario, tempFiles } from './helpers/cli.js';
import { startMetricsServer, type MetricsServer } from './helpers/metrics-server.js';

let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/**
 * The reference stack's database series at the n-th scrape: per scrape, 2 catalog reads from primary and 4 from each
 * of 2 replicas; replica-1 lags 50 ms but 3 s once (scrape 3), replica-2 100 ms. Every checkout goes to shard 2 while
 * the shards' statements are even (background polling, the same on every shard): the shard is fully hot all the same.
 */
function databases(n: number): string {
  return [
    '# TYPE shop_catalog_reads_total counter',
    `shop_catalog_reads_total{pool="primary"} ${2 * n}`,
    `shop_catalog_reads_total{pool="replica-1"} ${4 * n}`,
    `shop_catalog_reads_total{pool="replica-2"} ${4 * n}`,
    `shop_db_replica_lag_seconds{replica="replica-1"} ${n === 3 ? 3 : 0.05}`,
    'shop_db_replica_lag_seconds{replica="replica-2"} 0.1',
    `shop_db_replica_lag_bytes{replica="replica-1"} ${n === 3 ? 65536 : 512}`,
    'shop_db_replica_lag_bytes{replica="replica-2"} 1024',
    `shop_db_queries_total{role="primary",pool="primary"} ${100 * n}`,
    `shop_db_queries_total{role="replica",pool="replica-1"} ${50 * n}`,
    `shop_db_queries_total{role="shard",pool="shard-0"} ${10 * n}`,
    `shop_db_queries_total{role="shard",pool="shard-1"} ${10 * n}`,
    `shop_db_queries_total{role="shard",pool="shard-2"} ${10 * n}`,
    'shop_shard_checkouts_total{shard="0"} 0',
    'shop_shard_checkouts_total{shard="1"} 0',
    `shop_shard_checkouts_total{shard="2"} ${3 * n}`,
  ].join('\n') + '\n';
}

const scenario = (target: string, metrics: string, thresholds: string[]): string => `
name: databases
target: ${target}
phases: [{ duration: 2s, arrivalRate: 10 }]
flows: [{ name: f, steps: [{ get: /work }] }]
telemetry:
  prometheus: ${metrics}
  interval: 200ms
  timeout: 5s
thresholds: [${thresholds.map((t) => JSON.stringify(t)).join(', ')}]
`;

describe('database telemetry from a scripted exporter (the default mapping)', () => {
  it('records replica lag, the read share and the shard load, gates on them, and shows them in the summary and the HTML report', async () => {
    server = await startMetricsServer(databases);
    const dir = await tempFiles({});
    const r = await runScenario(scenario(server.url, server.metricsUrl,
      ['replica_lag.max < 2s', 'replica_lag.mean < 1s', 'replica_read_share > 70%', 'shard_hot_share < 50%']), { args: ['--html', join(dir, 'r.html')] });
    const t = r.result.telemetry as TelemetrySummary;
    expect(t.replicaLag).toMatchObject({ maxSec: 3, maxBytes: 65536, byReplica: { 'replica-1': { maxSec: 3, maxBytes: 65536 }, 'replica-2': { maxSec: 0.1, meanSec: 0.1 } } });
    // The one spike among some 11 scrapes of the load: well under a steady 3 s, above the steady 0.1 s of replica-2.
    expect(t.replicaLag!.meanSec).toBeGreaterThan(0.1);
    expect(t.replicaLag!.meanSec).toBeLessThan(1);
    expect(t.readShare).toMatchObject({ byPool: { primary: 0.2, 'replica-1': 0.4, 'replica-2': 0.4 }, replicas: 0.8 });
    expect(t.readShare!.reads % 10).toBe(0);
    expect(t.shards).toMatchObject({ byShard: { 'shard-0': { share: 0 }, 'shard-1': { share: 0 }, 'shard-2': { share: 1 } }, hottest: { shard: 'shard-2', share: 1 } });
    // Checkouts of shard-2 per second of load: 3 per scrape, 5 scrapes a second (the scrapes' timing is the exporter's n, not a clock).
    expect(t.shards!.byShard['shard-2']!.perSec).toBeGreaterThan(0);
    expect(t.warnings.filter((w) => /replicaLag|catalogReads|shardCheckouts/.test(w))).toEqual([]);
    expect(r.result.thresholds.filter((x) => !x.default).map((x) => [x.expression, x.ok])).toEqual([
      ['replica_lag.max < 2s', false], ['replica_lag.mean < 1s', true], ['replica_read_share > 70%', true], ['shard_hot_share < 50%', false],
    ]);
    expect(r.code).toBe(4);
    // A second holds its last scrape, the worst replica's lag: 100 ms, or the spike's 3 s should a slow scrape end its second.
    const lags = r.result.timeseries.flatMap((p) => (p.replicaLagSec === undefined ? [] : [p.replicaLagSec]));
    expect(lags).toContain(0.1);
    expect(lags.filter((v) => v !== 0.1 && v !== 3)).toEqual([]);
    expect(r.result.timeseries.some((p) => p.shardCheckoutsPerSec?.['shard-2'] !== undefined)).toBe(true);
    expect(r.stdout).toMatch(/replica lag\s+│ max 3(\.0+)? ?s, mean [^,]+ \(replica-1 max 3(\.0+)? ?s, replica-2 max 100 ?ms\), at most 64\.0 KiB behind/);
    expect(r.stdout).toMatch(/catalog reads\s+│ replicas 80\.0% of \d+ catalog reads \(primary 20\.0%, replica-1 40\.0%, replica-2 40\.0%\)/);
    expect(r.stdout).toMatch(/shard load\s+│ hottest shard-2 100\.0% of \d+ checkouts/);
    const html = await readFile(join(dir, 'r.html'), 'utf8');
    const data = JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!) as { charts: Record<string, ChartSpec> };
    expect(data.charts.replicaLag!.series.map((s) => s.label)).toEqual(['worst replica lag (s)', 'read by replicas %']);
    expect(data.charts.shards!.series.map((s) => s.label)).toEqual(['shard-0', 'shard-1', 'shard-2']);
    expect(html).toContain('hottest shard-2 100.0%');
  });

  it('a target without replicas or shards: no warning about them, and each threshold says why it has no value', async () => {
    server = await startMetricsServer((n) => `shop_catalog_reads_total{pool="primary"} ${3 * n}\n`);
    const r = await runScenario(scenario(server.url, server.metricsUrl, ['replica_lag.max < 2s', 'replica_read_share > 50%', 'shard_hot_share < 50%']));
    const t = r.result.telemetry as TelemetrySummary;
    expect(t.warnings.filter((w) => /replicaLag|catalogReads|shardCheckouts/.test(w))).toEqual([]);
    expect(t.replicaLag).toBeNull();
    expect(t.shards).toBeNull();
    expect(t.readShare).toMatchObject({ byPool: { primary: 1 }, replicas: null });
    expect(r.result.thresholds.filter((x) => !x.default).map((x) => [x.actual, x.ok, x.reason])).toEqual([
      [null, false, `no replica lag series at ${server.metricsUrl}: the target reports no read replicas (replicaLag signal)`],
      [null, false, 'no read replicas: every catalog read came from primary and no replica lag series was seen'],
      [null, false, `no shard series at ${server.metricsUrl}: the target reports no shards (shardCheckouts signal)`],
    ]);
    // Every read from primary and no replica: no row about sharing reads, nor about lag or shards.
    expect(r.stdout).not.toMatch(/│ (catalog reads|replica lag|shard load)\s+│/);
    expect(r.code).toBe(4);
  });
});
