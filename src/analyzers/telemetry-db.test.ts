import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseThreshold } from '../scenarios/threshold-expression.js';
import type { TelemetryRecording, TelemetryScrape } from '../telemetry/telemetry-collector.js';
import type { SeriesValue } from '../telemetry/telemetry-source.js';
import { analyzeTelemetry } from './telemetry.js';
import { evaluateThresholds, formatActual, type MeasuredScope } from './thresholds.js';

const T0 = 1_000_000;
/** One series per pool (or replica, or shard): `{ 'replica-1': 0.2 }`. */
const pools = (values: Record<string, number>, url = ''): SeriesValue[] =>
  Object.entries(values).map(([group, value]) => ({ key: `${url}${group}`, group: `${url}${group}`, value }));

/** Scrapes at whole seconds 0..n; `f(i)` gives the values of scrape i. */
function recording(n: number, f: (i: number) => TelemetryScrape['values'], extra: Partial<TelemetryRecording> = {}): TelemetryRecording {
  return { source: 'fake', intervalMs: 1000, failures: 0, scrapes: Array.from({ length: n + 1 }, (_, i) => ({ at: T0 + i * 1000, values: f(i) })), ...extra };
}
const opts = { startedAt: T0, loadDurationSec: 10, signals: ['replicaLag', 'catalogReads', 'shardCheckouts'], custom: {} };
const total: MeasuredScope = { samples: 100, latencyMs: { min: 1, mean: 2, p50: 2, p90: 3, p95: 3, p99: 4, p999: 5, max: 6 }, errorRate: 0, rps: 10 };
const judge = (rec: TelemetryRecording, ...thresholds: string[]) => evaluateThresholds(thresholds, total, new Map(), analyzeTelemetry(rec, opts).summary);

describe('replica lag', () => {
  it('keeps the worst replica per scrape (max and mean over the load) and each replica, bytes when reported', () => {
    const lag = [0.1, 0.2, 0.4, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 5];
    const rec = recording(11, (i) => ({
      replicaLag: pools({ 'replica-1': lag[i]!, 'replica-2': 0.05 }),
      replicaLagBytes: pools({ 'replica-1': 1000 * i, 'replica-2': 10 }),
    }));
    const { summary, points } = analyzeTelemetry(rec, opts);
    // Scrapes 0..10 are the load (mean 1.6 / 11); scrape 11 comes after the interval that ended it: its 5 s is not the load's.
    expect(summary.replicaLag).toEqual({
      maxSec: 0.4, meanSec: 0.145, maxBytes: 10_000,
      byReplica: { 'replica-1': { maxSec: 0.4, meanSec: 0.145, maxBytes: 10_000 }, 'replica-2': { maxSec: 0.05, meanSec: 0.05, maxBytes: 10 } },
    });
    expect(points.map((p) => p.replicaLagSec)).toEqual(lag);
    expect(judge(rec, 'replica_lag.max < 500ms', 'replica_lag.mean < 100ms').map((t) => [t.actual, t.ok])).toEqual([[400, true], [145, false]]);
  });

  it('a lag that spikes once reads in max, not as a steady lag in mean (with noise)', () => {
    fc.assert(fc.property(
      fc.array(fc.double({ min: 0, max: 0.05, noNaN: true }), { minLength: 10, maxLength: 60 }),
      fc.double({ min: 2, max: 30, noNaN: true }),
      fc.nat(),
      (noise, spike, at) => {
        const n = noise.length - 1;
        const where = at % noise.length;
        const values = noise.map((v, i) => (i === where ? spike : v));
        const { summary } = analyzeTelemetry(recording(n, (i) => ({ replicaLag: pools({ 'replica-1': values[i]! }) })), { ...opts, loadDurationSec: n });
        const s = summary.replicaLag!;
        expect(s.maxSec).toBeCloseTo(spike, 3);
        // One spike among n + 1 scrapes moves the mean by at most spike / (n + 1) above the noise.
        expect(s.meanSec).toBeLessThanOrEqual(0.05 + spike / values.length + 0.001);
        expect(s.meanSec).toBeLessThan(s.maxSec / 2);
      },
    ));
  });

  it('a steady lag reads the same in max and mean', () => {
    const { summary } = analyzeTelemetry(recording(10, () => ({ replicaLag: pools({ 'replica-1': 3 }) })), opts);
    expect(summary.replicaLag).toMatchObject({ maxSec: 3, meanSec: 3, maxBytes: null });
  });

  it('without replica series: null, no warning when optional, and the threshold says why', () => {
    const rec = recording(10, () => ({}));
    expect(analyzeTelemetry(rec, { ...opts, quiet: ['replicaLag', 'catalogReads', 'shardCheckouts'] }).summary.warnings).toEqual([]);
    expect(analyzeTelemetry(rec, opts).summary.warnings).toContain('no series found for replicaLag at fake; its figures are missing');
    const [t] = judge(rec, 'replica_lag.max < 2s');
    expect(t).toMatchObject({ actual: null, ok: false });
    expect(formatActual(t!)).toBe('no replica lag series at fake: the target reports no read replicas (replicaLag signal)');
  });

  it('with several scrape URLs, a replica is one database: its worst reading is kept', () => {
    const { summary } = analyzeTelemetry(recording(10, () => ({ replicaLag: [...pools({ 'replica-1': 0.5 }, '0/'), ...pools({ 'replica-1': 0.7 }, '1/')] })), opts);
    expect(Object.keys(summary.replicaLag!.byReplica)).toEqual(['replica-1']);
    expect(summary.replicaLag!.maxSec).toBe(0.7);
  });
});

describe('read share', () => {
  it('gives each pool its share of the catalog reads over the load, and the replicas together', () => {
    // Per second: 10 reads from primary, 30 from each of 2 replicas (then a counter reset on replica-2 at scrape 6).
    const rec = recording(10, (i) => ({ catalogReads: pools({ primary: 10 * i, 'replica-1': 30 * i, 'replica-2': i < 6 ? 30 * i : 30 * (i - 6) + 30 }) }));
    const { summary, points } = analyzeTelemetry(rec, opts);
    expect(summary.readShare).toEqual({ reads: 700, byPool: { primary: 0.1429, 'replica-1': 0.4286, 'replica-2': 0.4286 }, replicas: 0.8571 });
    expect(points[3]!.replicaReadShare).toBe(0.8571);
    const [t] = judge(rec, 'replica_read_share > 80%');
    expect(t).toMatchObject({ actual: 0.8571, ok: true });
    expect(formatActual(t!)).toBe('85.71%');
  });

  it('all reads from primary: 0 when replicas exist (they report lag), no replicas (null, with why) when none do', () => {
    const reads = (i: number) => ({ catalogReads: pools({ primary: 5 * i }) });
    expect(analyzeTelemetry(recording(10, (i) => ({ ...reads(i), replicaLag: pools({ 'replica-1': 0 }) })), opts).summary.readShare?.replicas).toBe(0);
    const rec = recording(10, reads);
    expect(analyzeTelemetry(rec, opts).summary.readShare).toEqual({ reads: 50, byPool: { primary: 1 }, replicas: null });
    expect(formatActual(judge(rec, 'replica_read_share > 50%')[0]!)).toBe('no read replicas: every catalog read came from primary and no replica lag series was seen');
    expect(formatActual(judge(recording(10, () => ({ catalogReads: pools({ primary: 7, 'replica-1': 3 }) })), 'replica_read_share > 50%')[0]!)).toBe('no catalog reads during the run');
    expect(formatActual(judge(recording(10, () => ({})), 'replica_read_share > 50%')[0]!)).toBe('no catalog read series at fake (catalogReads signal)');
  });

  it('a query that failed leaves its interval out instead of counting the reads as 0', () => {
    const rec = recording(4, (i) => ({ catalogReads: pools({ primary: i, 'replica-1': 9 * i }) }));
    rec.scrapes[2]!.failed = ['catalogReads'];
    rec.scrapes[2]!.values.catalogReads = undefined;
    expect(analyzeTelemetry(rec, opts).summary.readShare).toEqual({ reads: 20, byPool: { primary: 0.1, 'replica-1': 0.9 }, replicas: 0.9 });
  });
});

describe('shards', () => {
  it('reports the checkouts of each shard per second and as a share, and the hottest (the shop labels shards by index)', () => {
    const rec = recording(10, (i) => ({ shardCheckouts: pools({ 0: 10 * i, 1: 10 * i, 2: 30 * i }) }));
    const { summary, points } = analyzeTelemetry(rec, opts);
    expect(summary.shards).toEqual({
      checkouts: 500,
      byShard: { 'shard-0': { perSec: 10, share: 0.2 }, 'shard-1': { perSec: 10, share: 0.2 }, 'shard-2': { perSec: 30, share: 0.6 } },
      hottest: { shard: 'shard-2', share: 0.6 },
    });
    expect(points[4]!.shardCheckoutsPerSec).toEqual({ 'shard-0': 10, 'shard-1': 10, 'shard-2': 30 });
    expect(judge(rec, 'shard_hot_share < 50%', 'shard_hot_share < 0.7').map((t) => [t.actual, t.ok])).toEqual([[0.6, false], [0.6, true]]);
  });

  it('every checkout on one shard reads 1, the other shards 0', () => {
    const rec = recording(10, (i) => ({ shardCheckouts: [...pools({ 0: 0, 1: 7 * i, 2: 0 }, '0/'), ...pools({ 0: 0, 1: 3 * i, 2: 0 }, '1/')] }));
    const { shards } = analyzeTelemetry(rec, opts).summary;
    expect(shards).toMatchObject({ checkouts: 100, hottest: { shard: 'shard-1', share: 1 }, byShard: { 'shard-0': { share: 0 }, 'shard-2': { share: 0 } } });
    expect(judge(rec, 'shard_hot_share < 45%')[0]).toMatchObject({ actual: 1, ok: false });
  });

  it('a balanced run reads about 1 / shards, whatever the noise, and the hottest is the busiest', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 6 }), fc.array(fc.integer({ min: 95, max: 105 }), { minLength: 60, maxLength: 60 }), (n, noise) => {
      const counts = Array.from({ length: n }, () => 0);
      const rec = recording(10, (i) => {
        if (i > 0) for (let s = 0; s < n; s++) counts[s]! += noise[(i * n + s) % noise.length]!;
        return { shardCheckouts: pools(Object.fromEntries(counts.map((c, s) => [String(s), c]))) };
      });
      const { shards } = analyzeTelemetry(rec, opts).summary;
      const busiest = Math.max(...counts);
      expect(shards!.hottest!.share).toBeCloseTo(busiest / counts.reduce((a, b) => a + b, 0), 3);
      expect(shards!.hottest!.share).toBeGreaterThanOrEqual(1 / n - 1e-4);
      expect(shards!.hottest!.share).toBeLessThan(1.06 / n);
    }));
  });

  it('orders shards by number, and says why there is no figure', () => {
    const rec = recording(2, (i) => ({ shardCheckouts: pools({ 10: i, 2: i }) }));
    expect(Object.keys(analyzeTelemetry(rec, opts).summary.shards!.byShard)).toEqual(['shard-2', 'shard-10']);
    expect(formatActual(judge(recording(3, () => ({})), 'shard_hot_share < 50%')[0]!)).toBe('no shard series at fake: the target reports no shards (shardCheckouts signal)');
    expect(formatActual(judge(recording(3, () => ({ shardCheckouts: pools({ 0: 4 }) })), 'shard_hot_share < 50%')[0]!)).toBe('no checkouts during the run');
  });
});

describe('why a database threshold has no value', () => {
  it('every scrape failed: names the failure, not a target without replicas or shards', () => {
    const rec: TelemetryRecording = { source: 'http://x/metrics', intervalMs: 1000, scrapes: [], failures: 4, firstFailure: 'http://x/metrics: HTTP 401 Unauthorized' };
    const reasons = evaluateThresholds(['replica_lag.max < 2s', 'replica_read_share > 50%', 'shard_hot_share < 50%'], total, new Map(), analyzeTelemetry(rec, opts).summary).map((t) => t.reason);
    expect(reasons).toEqual(Array(3).fill('no data: all 4 scrapes failed (first: http://x/metrics: HTTP 401 Unauthorized)'));
  });

  it('a signal that was not collected (promql: without it) is said to be unmapped', () => {
    const summary = analyzeTelemetry(recording(3, () => ({})), { ...opts, signals: ['catalogReads'] }).summary;
    const reasons = evaluateThresholds(['replica_lag.max < 2s', 'shard_hot_share < 50%', 'replica_read_share > 50%'], total, new Map(), summary).map((t) => t.reason);
    expect(reasons).toEqual([
      'no data: signal replicaLag not collected (map it under telemetry.metrics)',
      'no data: signal shardCheckouts not collected (map it under telemetry.metrics)',
      'no catalog read series at fake (catalogReads signal)',
    ]);
  });
});

describe('database threshold expressions', () => {
  it('replica_lag takes a duration, the shares a percentage or a fraction; none takes a scope', () => {
    expect(parseThreshold('replica_lag.max < 2s')).toMatchObject({ metric: 'replica_lag.max', limit: 2000 });
    expect(parseThreshold('replica_lag.mean < 250ms')).toMatchObject({ metric: 'replica_lag.mean', limit: 250 });
    expect(parseThreshold('replica_lag.max < 2')).toMatch(/give replica_lag.max a unit/);
    expect(parseThreshold('replica_read_share > 60%')).toMatchObject({ limit: 0.6 });
    expect(parseThreshold('shard_hot_share < 0.4')).toMatchObject({ limit: 0.4 });
    expect(parseThreshold('shard_hot_share < 140%')).toMatch(/percentage/);
    expect(parseThreshold('api: replica_lag.max < 2s')).toMatch(/takes no scope/);
  });
});
