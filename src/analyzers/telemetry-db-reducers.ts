import type { TelemetryScrape } from '../telemetry/telemetry-collector.js';
import type { SeriesValue } from '../telemetry/telemetry-source.js';
import { counterDeltas, failedIn, round, Stat, type ScrapeStep } from './telemetry-reducers.js';
import { UNLABELLED, type ReadShareSummary, type ReplicaLagSummary, type ShardsSummary } from './telemetry-types.js';

/*
 * Reducers for the target's databases: read replicas' lag, which pool served
 * the catalog reads, and the checkouts of each shard. Same contract as
 * telemetry-reducers.ts: one step per scrape, constant memory per pool.
 */

/**
 * A pool's name without the scrape URL's index: with several URLs a `by`
 * group is `1/replica-1`, but a replica or a shard is one database whichever
 * web replica reported it.
 */
export const poolName = (group: string): string => {
  const name = group.replace(/^\d+\//, '');
  return name === '' ? UNLABELLED : name;
};

/** A replica pool: every pool but the primary (and series without the `by` label, which name none). */
export const isReplicaPool = (pool: string): boolean => pool !== 'primary' && pool !== UNLABELLED;

/** Numbers by pool, groups of several URLs added (counters) or their largest kept (gauges). */
function byPool(entries: Iterable<[string, number]>, fold: (a: number, b: number) => number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [group, v] of entries) {
    const name = poolName(group);
    const had = out.get(name);
    out.set(name, had === undefined ? v : fold(had, v));
  }
  return out;
}

const gaugeByPool = (s: SeriesValue[] | undefined): Map<string, number> | undefined =>
  (s ? byPool(s.map((x) => [x.group, x.value]), Math.max) : undefined);
const deltasByPool = (prev: TelemetryScrape, cur: TelemetryScrape, signal: string): Map<string, number> | undefined => {
  if (failedIn([signal], prev, cur)) return undefined;
  const d = counterDeltas(prev.values[signal], cur.values[signal]);
  return d ? byPool(d, (a, b) => a + b) : undefined;
};
const sumOf = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

/** Replication lag: the worst replica at each scrape, and each replica's own; the first scrape and those of the load count. */
export class ReplicaLagReducer {
  private readonly worst = new Stat();
  private readonly replicas = new Map<string, { sec: Stat; bytes?: number }>();
  private maxBytes: number | null = null;
  step({ cur, prev, during, point }: ScrapeStep): void {
    const lag = gaugeByPool(cur.values.replicaLag);
    if (!lag?.size) return;
    const worst = Math.max(...lag.values());
    point.replicaLagSec = round(worst, 3);
    if (prev && !during) return;
    this.worst.add(worst);
    for (const [name, sec] of lag) {
      if (!this.replicas.has(name)) this.replicas.set(name, { sec: new Stat() });
      this.replicas.get(name)!.sec.add(sec);
    }
    for (const [name, bytes] of gaugeByPool(cur.values.replicaLagBytes) ?? []) {
      this.maxBytes = Math.max(this.maxBytes ?? 0, bytes);
      const r = this.replicas.get(name);
      if (r) r.bytes = Math.max(r.bytes ?? 0, bytes);
    }
  }
  summary(): ReplicaLagSummary | null {
    if (!this.worst.n) return null;
    return {
      maxSec: round(this.worst.max, 3),
      meanSec: round(this.worst.mean, 3),
      byReplica: Object.fromEntries([...this.replicas].map(([name, r]) => [name, {
        maxSec: round(r.sec.max, 3), meanSec: round(r.sec.mean, 3), ...(r.bytes === undefined ? {} : { maxBytes: r.bytes }),
      }])),
      maxBytes: this.maxBytes,
    };
  }
}

/** Catalog reads by the pool that served them: per interval the replicas' share, over the load each pool's. */
export class ReadShareReducer {
  private readonly reads = new Map<string, number>();
  private seen = false;
  step({ cur, prev, during, point }: ScrapeStep): void {
    const d = prev && deltasByPool(prev, cur, 'catalogReads');
    if (!d) return;
    const total = sumOf(d);
    const replicas = [...d].filter(([pool]) => isReplicaPool(pool)).reduce((a, [, n]) => a + n, 0);
    point.replicaReadShare = total > 0 ? round(replicas / total, 4) : null;
    if (!during) return;
    this.seen = true;
    for (const [pool, n] of d) this.reads.set(pool, (this.reads.get(pool) ?? 0) + n);
  }
  /**
   * `replicasExist`: a replica lag series was seen. Without it, and with no
   * replica among the pools that served reads, the target has no replicas:
   * the replicas' share is unknown (null), not 0.
   */
  summary(replicasExist: boolean): ReadShareSummary | null {
    if (!this.seen) return null;
    const reads = sumOf(this.reads);
    const pools = [...this.reads.keys()].sort(byName);
    const replicaReads = pools.filter(isReplicaPool).reduce((a, p) => a + this.reads.get(p)!, 0);
    const known = replicasExist || pools.some(isReplicaPool);
    return {
      reads,
      byPool: Object.fromEntries(pools.map((p) => [p, reads > 0 ? round(this.reads.get(p)! / reads, 4) : 0])),
      replicas: reads > 0 && known ? round(replicaReads / reads, 4) : null,
    };
  }
}

/** Pool names in their natural order: shard-2 before shard-10. */
const byName = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

/**
 * A shard's name: the shop labels its checkouts by the 0-based index (`0`),
 * its pools `shard-0`; a bare index reads as the pool so both name the same shard.
 */
export const shardName = (group: string): string => {
  const name = poolName(group);
  return /^\d+$/.test(name) ? `shard-${name}` : name;
};

/** Checkouts per shard: per interval a rate each, over the load each shard's rate and share, and the hottest. */
export class ShardReducer {
  private readonly checkouts = new Map<string, number>();
  private seen = false;
  step({ cur, prev, dt, during, point }: ScrapeStep): void {
    const raw = prev && dt > 0 ? deltasByPool(prev, cur, 'shardCheckouts') : undefined;
    if (!raw?.size) return;
    const d = new Map<string, number>();
    for (const [s, n] of raw) d.set(shardName(s), (d.get(shardName(s)) ?? 0) + n);
    point.shardCheckoutsPerSec = Object.fromEntries([...d].map(([s, n]) => [s, round(n / dt, 2)]));
    if (!during) return;
    this.seen = true;
    for (const [s, n] of d) this.checkouts.set(s, (this.checkouts.get(s) ?? 0) + n);
  }
  /** `loadSec`: seconds of load, what the rates are per. */
  summary(loadSec: number): ShardsSummary | null {
    if (!this.seen) return null;
    const checkouts = sumOf(this.checkouts);
    const shards = [...this.checkouts.keys()].sort(byName);
    const share = (s: string): number => (checkouts > 0 ? round(this.checkouts.get(s)! / checkouts, 4) : 0);
    // Ties go to the first shard by name: the same answer every time.
    const hottest = shards.reduce<string | undefined>((h, s) => (h === undefined || this.checkouts.get(s)! > this.checkouts.get(h)! ? s : h), undefined);
    return {
      checkouts,
      byShard: Object.fromEntries(shards.map((s) => [s, { perSec: round(this.checkouts.get(s)! / Math.max(loadSec, 1e-9), 2), share: share(s) }])),
      hottest: checkouts > 0 && hottest !== undefined ? { shard: hottest, share: share(hottest) } : null,
    };
  }
}
