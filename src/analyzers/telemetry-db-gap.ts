import type { TelemetrySummary } from './telemetry-types.js';

/**
 * Why a database threshold (replica_lag.*, replica_read_share,
 * shard_hot_share) has no value: a target without read replicas or shards
 * has none to measure, which is worth saying instead of a bare "no data".
 * Called once the scrapes are known to have worked and the signal to have
 * been collected (telemetryGap says so otherwise).
 */
export function databaseGap(t: TelemetrySummary, metric: string): string | undefined {
  // Results written before these figures existed lack them: undefined reads as never seen.
  if (metric.startsWith('replica_lag.') && !t.replicaLag) {
    return `no replica lag series at ${t.source}: the target reports no read replicas (replicaLag signal)`;
  }
  if (metric === 'replica_read_share') {
    if (!t.readShare) return `no catalog read series at ${t.source} (catalogReads signal)`;
    if (t.readShare.reads === 0) return 'no catalog reads during the run';
    if (t.readShare.replicas === null) return 'no read replicas: every catalog read came from primary and no replica lag series was seen';
  }
  if (metric === 'shard_hot_share') {
    if (!t.shards) return `no shard series at ${t.source}: the target reports no shards (shardCheckouts signal)`;
    if (!t.shards.hottest) return 'no checkouts during the run';
  }
  return undefined;
}
