import type { TelemetrySummary } from '../analyzers/telemetry-types.js';
import { formatDuration } from '../shared/duration.js';

/*
 * The target's databases in words, for every output that lists telemetry:
 * the read replicas' lag, the share of catalog reads they served, and the
 * checkouts of each shard. `name` renders a pool's name (escaped for the output).
 */

type Name = (pool: string) => string;
const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
const secs = (s: number): string => formatDuration(s * 1000);
/** Longest list of pools written out; the rest are counted (the results hold them all). */
const MAX_LISTED = 8;
const listed = (parts: string[]): string => (parts.length > MAX_LISTED ? `${parts.slice(0, MAX_LISTED).join(', ')}, and ${parts.length - MAX_LISTED} more` : parts.join(', '));

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** `max 400ms, mean 145ms (replica-1 max 400ms, replica-2 max 50ms), at most 9.8 KiB behind`: durations as everywhere. */
export function describeReplicaLag(lag: NonNullable<TelemetrySummary['replicaLag']>, name: Name = (p) => p): string {
  const each = Object.entries(lag.byReplica).map(([r, v]) => `${name(r)} max ${secs(v.maxSec)}`);
  return `max ${secs(lag.maxSec)}, mean ${secs(lag.meanSec)}${each.length > 1 ? ` (${listed(each)})` : ''}` +
    (lag.maxBytes === null ? '' : `, at most ${bytes(lag.maxBytes)} behind`);
}

/** `replicas 85.7% of 700 catalog reads (primary 14.3%, replica-1 42.9%, replica-2 42.9%)`. */
export function describeReadShare(share: NonNullable<TelemetrySummary['readShare']>, name: Name = (p) => p): string {
  if (share.reads === 0 || share.replicas === null) return 'none: no catalog reads during the run';
  const pools = listed(Object.entries(share.byPool).map(([p, v]) => `${name(p)} ${pct(v)}`));
  return `replicas ${pct(share.replicas)} of ${share.reads} catalog reads (${pools})`;
}

/** `hottest shard-2 60.0% of 500 checkouts (shard-0 10/s 20.0%, ...)`. */
export function describeShardLoad(shards: NonNullable<TelemetrySummary['shards']>, name: Name = (p) => p): string {
  if (!shards.hottest) return 'none: no checkouts during the run';
  const each = listed(Object.entries(shards.byShard).map(([s, v]) => `${name(s)} ${v.perSec}/s ${pct(v.share)}`));
  return `hottest ${name(shards.hottest.shard)} ${pct(shards.hottest.share)} of ${shards.checkouts} checkouts (${each})`;
}

/** The telemetry table's rows about databases (the caller escapes for HTML; `name` cleans pool names for a terminal). */
export function databaseRows(t: TelemetrySummary, name?: Name): [string, string][] {
  const rows: [string, string][] = [];
  // Absent in results written before they were recorded (`report` reads old files).
  if (t.replicaLag) rows.push(['replica lag', describeReplicaLag(t.replicaLag, name)]);
  // A target without read replicas serves every read from primary: nothing to say about sharing them.
  if (t.readShare && (t.readShare.replicas !== null || t.replicaLag)) rows.push(['catalog reads', describeReadShare(t.readShare, name)]);
  if (t.shards) rows.push(['shard load', describeShardLoad(t.shards, name)]);
  return rows;
}
