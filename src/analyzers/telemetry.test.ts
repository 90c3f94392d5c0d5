import { describe, expect, it } from 'vitest';
import type { TelemetryRecording, TelemetryScrape } from '../telemetry/telemetry-collector.js';
import type { SeriesValue } from '../telemetry/telemetry-source.js';
import { analyzeTelemetry, counterDeltas } from './telemetry.js';
import { selectSeries } from '../telemetry/telemetry-source.js';
import type { Sample } from '../telemetry/exposition-parser.js';
import { evaluateThresholds, formatActual } from './thresholds.js';
import { queueEmpty } from '../telemetry/telemetry-plan.js';

const T0 = 1_000_000;
const one = (value: number, key = 'k', group = ''): SeriesValue[] => [{ key, group, value }];
const workers = (a: number, b: number): SeriesValue[] => [{ key: 'w1', group: '1', value: a }, { key: 'w2', group: '2', value: b }];

/** Scrapes at whole seconds 0..n; `f(i)` gives the values of scrape i. */
function recording(n: number, f: (i: number) => TelemetryScrape['values'], extra: Partial<TelemetryRecording> = {}): TelemetryRecording {
  return { source: 'fake', intervalMs: 1000, failures: 0, scrapes: Array.from({ length: n + 1 }, (_, i) => ({ at: T0 + i * 1000, values: f(i) })), ...extra };
}

const opts = { startedAt: T0, loadDurationSec: 10, signals: ['cacheHits', 'cacheMisses', 'queueWaiting', 'cpuSeconds'], custom: {} };

describe('analyzeTelemetry', () => {
  it('computes the hit ratio from counter deltas, per second and over the load', () => {
    // 9 hits and 1 miss a second for 5 s, then 1 hit and 3 misses a second.
    const hits = (i: number) => (i <= 5 ? 9 * i : 45 + (i - 5));
    const misses = (i: number) => (i <= 5 ? i : 5 + 3 * (i - 5));
    const { summary, points } = analyzeTelemetry(recording(10, (i) => ({ cacheHits: one(hits(i)), cacheMisses: one(misses(i)) })), opts);
    expect(points.map((p) => p.cacheHitRatio)).toEqual([undefined, 0.9, 0.9, 0.9, 0.9, 0.9, 0.25, 0.25, 0.25, 0.25, 0.25]);
    expect(summary.cacheHitRatio).toBe(0.7143); // (45 + 5) hits of 50 + 20 lookups
    expect(summary.cacheLookups).toBe(70);
  });

  it('takes a counter that went down as reset (it restarted from 0), and a new series as starting from 0', () => {
    expect(counterDeltas(one(100), one(30))).toEqual(new Map([['', 30]]));
    expect(counterDeltas(one(100), one(130))).toEqual(new Map([['', 30]]));
    expect(counterDeltas([{ key: 'a', group: '', value: 5 }], [{ key: 'a', group: '', value: 7 }, { key: 'b', group: '', value: 4 }])).toEqual(new Map([['', 6]]));
    const { summary } = analyzeTelemetry(recording(4, (i) => ({ cacheHits: one([0, 90, 180, 9, 99][i]!), cacheMisses: one([0, 10, 20, 1, 11][i]!) })), opts);
    expect(summary.cacheHitRatio).toBe(0.9);
  });

  it('reports queue depth (waiting + active + delayed) over the load, and the drain time from the first empty scrape after it', () => {
    const depth = [0, 4, 8, 20, 12, 6, 6, 6, 6, 6, 6, 3, 1, 0, 0];
    const rec = recording(14, (i) => ({ queueWaiting: one(depth[i]! - Math.min(depth[i]!, 2)), queueActive: one(Math.min(depth[i]!, 2)) }),
      { drain: { startedAt: T0 + 10_500, endedAt: T0 + 13_000, timeoutMs: 60_000, interrupted: false } });
    const { summary, points } = analyzeTelemetry(rec, opts);
    expect(summary.queueDepth).toEqual({ max: 20, mean: 7.27, final: 6 }); // mean of 80 / 11
    expect(summary.queueDrainTimeSec).toBe(3);
    expect(summary.drain?.series.map((p) => p.queueDepth)).toEqual([3, 1, 0]);
    expect(points[3]).toMatchObject({ queueDepth: 20, queueWaiting: 18, queueActive: 2 });
  });

  it('reports a drain that timed out as no drain time, with a warning', () => {
    const rec = recording(12, () => ({ queueWaiting: one(5) }), { drain: { startedAt: T0 + 10_000, endedAt: null, timeoutMs: 2000, interrupted: false } });
    const { summary } = analyzeTelemetry(rec, opts);
    expect(summary.queueDrainTimeSec).toBeNull();
    expect(summary.drain?.timedOut).toBe(true);
    expect(summary.warnings).toContain('the queue did not empty within 2 s after the load (drainTimeout)');
  });

  it('computes CPU per worker in percent of one core, the hottest worker, and the total', () => {
    // Worker 1 uses 0.5 s of CPU a second, worker 2 0.25 s, then 0.9 s in the last second.
    const rec = recording(4, (i) => ({ cpuSeconds: workers(0.5 * i, i < 4 ? 0.25 * i : 0.75 + 0.9) }));
    const { summary, points } = analyzeTelemetry(rec, opts);
    expect(summary.cpu?.workers).toEqual({ 1: { meanPercent: 50, maxPercent: 50 }, 2: { meanPercent: 41.3, maxPercent: 90 } });
    expect(summary.cpu?.maxPercent).toBe(90);
    expect(summary.cpu?.totalPercent).toEqual({ mean: 91.3, max: 140 }); // 75, 75, 75, 140
    expect(points[4]).toMatchObject({ cpuPercent: 140, cpuMaxWorkerPercent: 90 });
  });

  it('names CPU series without the worker label "(no label)", never an empty name', () => {
    // A signal without `by` (the whole target), and series that lack the `by` label.
    const { summary } = analyzeTelemetry(recording(2, (i) => ({ cpuSeconds: one(0.5 * i) })), opts);
    expect(summary.cpu?.workers).toEqual({ '(no label)': { meanPercent: 50, maxPercent: 50 } });
    const samples: Sample[] = [{ name: 'cpu_seconds_total', labels: {}, value: 1 }, { name: 'cpu_seconds_total', labels: { worker: '2' }, value: 2 }];
    const signal = { name: 'cpu_seconds_total', labels: {}, by: 'worker' };
    expect(selectSeries(samples, signal, 0, 1).map((x) => x.group)).toEqual(['(no label)', '2']);
    expect(selectSeries(samples, signal, 1, 2).map((x) => x.group)).toEqual(['1/(no label)', '1/2']);
  });

  it('a cache hit ratio over no lookups fails its threshold saying so, not as bare "no data"', () => {
    // Cache series seen, but their counters never moved.
    const { summary } = analyzeTelemetry(recording(3, () => ({ cacheHits: one(5), cacheMisses: one(2) })), opts);
    expect(summary).toMatchObject({ cacheHitRatio: null, cacheLookups: 0 });
    const total = { samples: 1, latencyMs: { min: 1, mean: 1, p50: 1, p90: 1, p95: 1, p99: 1, p999: 1, max: 1 }, errorRate: 0, rps: 1 };
    const [noLookups] = evaluateThresholds(['cache_hit_ratio > 0.8'], total, new Map(), summary);
    expect(noLookups).toMatchObject({ actual: null, ok: false, reason: 'no cache lookups during the run' });
    expect(formatActual(noLookups!)).toBe('no cache lookups during the run');
    const [noSeries] = evaluateThresholds(['cache_hit_ratio > 0.8'], total, new Map(), analyzeTelemetry(recording(3, () => ({})), opts).summary);
    expect(noSeries).toMatchObject({ actual: null, reason: 'no cache series found at fake' });
    const [measured] = evaluateThresholds(['cache_hit_ratio > 0.8', 'p99 < 1ms'], total, new Map(), { ...summary, cacheHitRatio: 0.5, cacheLookups: 4 });
    expect(measured!.reason).toBeUndefined();
    expect(formatActual(measured!)).toBe('50.00%');
  });

  it('names signals that were never seen, and counts failed scrapes', () => {
    const { summary } = analyzeTelemetry(recording(3, () => ({ cacheHits: one(1) }), { failures: 2, firstFailure: 'http://x/metrics: HTTP 500' }), opts);
    expect(summary.warnings).toEqual([
      'no series found for cacheMisses at fake; its figures are missing',
      'no series found for queueWaiting at fake; its figures are missing',
      'no series found for cpuSeconds at fake; its figures are missing',
      '2 of 6 scrapes failed (first: http://x/metrics: HTTP 500)',
    ]);
    expect(summary.scrapes).toEqual({ ok: 4, failed: 2, firstFailure: 'http://x/metrics: HTTP 500' });
    expect(summary.queueDepth).toBeNull();
    expect(summary.cpu).toBeNull();
  });

  it('summarises custom counters as increase and rate, gauges as min/mean/max/final', () => {
    const rec = recording(10, (i) => ({ 'custom:orders': one(3 * i), 'custom:pool': one(i % 4) }));
    const { summary, points } = analyzeTelemetry(rec, { ...opts, custom: { orders: 'counter', pool: 'gauge' } });
    expect(summary.custom).toEqual({ orders: { type: 'counter', increase: 30, rate: 3 }, pool: { type: 'gauge', min: 0, mean: 1.364, max: 3, final: 2 } });
    expect(points[2]!.custom).toEqual({ orders: 3, pool: 2 });
  });
});

describe('analyzeTelemetry: signals whose query failed (PromQL)', () => {
  const total = { samples: 1, latencyMs: { min: 1, mean: 1, p50: 1, p90: 1, p95: 1, p99: 1, p999: 1, max: 1 }, errorRate: 0, rps: 1 };
  /** `failedAt(i)`: the signals whose query failed in scrape i (their values are absent there). */
  function withFailures(rec: TelemetryRecording, failedAt: (i: number) => string[]): TelemetryRecording {
    const signalFailures: NonNullable<TelemetryRecording['signalFailures']> = {};
    const scrapes = rec.scrapes.map((sc, i) => {
      const failed = failedAt(i);
      if (failed.length === 0) return sc;
      for (const n of failed) (signalFailures[n] ??= { failed: 0, firstError: 'query failed: bad_data: boom (HTTP 400)' }).failed++;
      return { ...sc, values: Object.fromEntries(Object.entries(sc.values).filter(([k]) => !failed.includes(k))), failed };
    });
    return { ...rec, scrapes, ...(Object.keys(signalFailures).length ? { signalFailures } : {}) };
  }

  it('with the misses query failing in every scrape, the hit ratio has no value (not 100%) and its threshold fails saying why', () => {
    const rec = withFailures(recording(4, (i) => ({ cacheHits: one(9 * i), cacheMisses: one(i) })), () => ['cacheMisses']);
    const { summary, points } = analyzeTelemetry(rec, opts);
    expect(summary).toMatchObject({ cacheHitRatio: null, cacheLookups: null });
    expect(points.map((p) => p.cacheHitRatio)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    const [r] = evaluateThresholds(['cache_hit_ratio > 0.5'], total, new Map(), summary);
    expect(r).toMatchObject({ actual: null, ok: false, reason: 'no data: query for cacheMisses failed: query failed: bad_data: boom (HTTP 400)' });
  });

  it('leaves out the intervals at either side of a scrape in which a cache query failed, and keeps the others', () => {
    // 9 hits and 1 miss a second; the misses' query fails in scrape 2: intervals 1-2 and 2-3 are unknown.
    const rec = withFailures(recording(5, (i) => ({ cacheHits: one(9 * i), cacheMisses: one(i) })), (i) => (i === 2 ? ['cacheMisses'] : []));
    const { summary, points } = analyzeTelemetry(rec, opts);
    expect(points.map((p) => p.cacheHitRatio)).toEqual([undefined, 0.9, undefined, undefined, 0.9, 0.9]);
    expect(summary).toMatchObject({ cacheHitRatio: 0.9, cacheLookups: 30 });
  });

  it('a scrape in which a queue query failed has no queue depth: not in max/mean, not an empty queue, not in the drain series', () => {
    const depth = [2, 4, 6, 8, 6, 4, 2, 1, 0, 0, 0, 0, 0];
    // queueActive fails at 3 (depth 8: the max is then 6) and at 11, after the load, when queueWaiting alone reads 0.
    const rec = withFailures(recording(12, (i) => ({ queueWaiting: one(i === 11 ? 0 : Math.max(0, depth[i]! - 1)), queueActive: one(Math.min(depth[i]!, 1)) }),
      { drain: { startedAt: T0 + 10_000, endedAt: T0 + 12_000, timeoutMs: 60_000, interrupted: false } }), (i) => (i === 3 || i === 11 ? ['queueActive'] : []));
    const { summary, points } = analyzeTelemetry({ ...rec, scrapes: rec.scrapes.map((sc, i) => (i === 10 ? { ...sc, values: { queueWaiting: one(3), queueActive: one(1) } } : sc)) }, opts);
    expect(points[3]!.queueDepth).toBeUndefined();
    expect(summary.queueDepth).toMatchObject({ max: 6, final: 4 });
    // Scrape 10 reads 4, 11 failed: the queue was first seen empty at 12.
    expect(summary.queueDrainTimeSec).toBe(2);
    expect(summary.drain?.series.map((p) => p.queueDepth)).toEqual([4, 0]);
    expect(queueEmpty({ queueWaiting: one(0) }, ['queueActive'])).toBe(false);
    expect(queueEmpty({ queueWaiting: one(0), queueActive: one(0) })).toBe(true);
  });

  it('with every queue scrape failing, queue thresholds fail naming the failed query', () => {
    const rec = withFailures(recording(3, (i) => ({ queueWaiting: one(i) })), () => ['queueWaiting']);
    const { summary } = analyzeTelemetry(rec, opts);
    expect(summary.queueDepth).toBeNull();
    const results = evaluateThresholds(['queue_depth.max < 5', 'queue_drain_time < 30s'], total, new Map(), summary);
    expect(results.map((r) => [r.ok, r.reason])).toEqual([
      [false, 'no data: query for queueWaiting failed: query failed: bad_data: boom (HTTP 400)'],
      [false, 'no data: query for queueWaiting failed: query failed: bad_data: boom (HTTP 400)'],
    ]);
  });

  it('a drain that timed out is the reason for a missing drain time, even when a queue query failed once on the way', () => {
    // The queue never empties; queueActive failed in one scrape during the load.
    const rec = withFailures(recording(12, () => ({ queueWaiting: one(5), queueActive: one(1) }),
      { drain: { startedAt: T0 + 10_000, endedAt: null, timeoutMs: 2000, interrupted: false } }), (i) => (i === 4 ? ['queueActive'] : []));
    const { summary } = analyzeTelemetry(rec, opts);
    expect(summary.queueDrainTimeSec).toBeNull();
    const [drain] = evaluateThresholds(['queue_drain_time < 10s'], total, new Map(), summary);
    expect([drain!.ok, drain!.reason]).toEqual([false, 'the queue did not empty within 2 s after the load']);
  });

  it('when every scrape failed, says that once and does not also list each signal as having no series', () => {
    const rec: TelemetryRecording = { source: 'PromQL at http://p', intervalMs: 1000, scrapes: [], failures: 5, firstFailure: 'http://p/api/v1/query: HTTP 401 Unauthorized' };
    expect(analyzeTelemetry(rec, opts).summary.warnings).toEqual(['5 of 5 scrapes failed (first: http://p/api/v1/query: HTTP 401 Unauthorized)']);
  });
});
