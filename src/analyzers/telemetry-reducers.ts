import type { SignalName } from '../scenarios/telemetry-schema.js';
import type { TelemetryScrape } from '../telemetry/telemetry-collector.js';
import type { SeriesValue } from '../telemetry/telemetry-source.js';
import { UNLABELLED, type CustomSummary, type TelemetryPoint, type TelemetrySummary } from './telemetry-types.js';

/*
 * One reducer per signal: each takes the scrapes in order (step), writes its
 * figures of that scrape into the timeseries point, keeps running figures in
 * constant memory, and gives its part of the summary at the end.
 */

export const round = (v: number, d = 3): number => Math.round(v * 10 ** d) / 10 ** d;
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const mean = (xs: readonly number[]): number => (xs.length ? sum(xs) / xs.length : 0);
const total = (s: SeriesValue[] | undefined): number | undefined => (s ? sum(s.map((x) => x.value)) : undefined);

/** Counter increase between two scrapes, per group; a series that went down was reset (it restarted from 0). */
export function counterDeltas(prev: SeriesValue[] | undefined, cur: SeriesValue[] | undefined): Map<string, number> | undefined {
  if (!cur || !prev) return undefined;
  const before = new Map(prev.map((s) => [s.key, s.value]));
  const out = new Map<string, number>();
  for (const s of cur) {
    const p = before.get(s.key);
    // A series new since the last scrape (a re-forked worker) started from 0.
    const d = p === undefined ? s.value : s.value >= p ? s.value - p : s.value;
    out.set(s.group, (out.get(s.group) ?? 0) + d);
  }
  return out;
}

const groupTotal = (m: Map<string, number> | undefined): number | undefined => (m ? sum([...m.values()]) : undefined);

const QUEUE_SIGNALS: SignalName[] = ['queueWaiting', 'queueActive', 'queueDelayed'];
const CACHE_SIGNALS: SignalName[] = ['cacheHits', 'cacheMisses'];

/** True when the query of one of `signals` failed in one of the scrapes: the figure they feed is unknown there, not 0. */
export const failedIn = (signals: readonly string[], ...scrapes: (TelemetryScrape | undefined)[]): boolean =>
  scrapes.some((s) => s?.failed?.some((n) => signals.includes(n)));

/** Waiting + active + delayed jobs in one scrape; undefined when it saw no queue gauge, or a queue query failed in it. */
export const queueDepthOf = (s: TelemetryScrape): number | undefined => {
  if (failedIn(QUEUE_SIGNALS, s)) return undefined;
  const parts = QUEUE_SIGNALS.map((k) => total(s.values[k]));
  return parts.every((p) => p === undefined) ? undefined : sum(parts.map((p) => p ?? 0));
};

/** Running min/max/sum/count/last: constant memory however long the run. */
export class Stat {
  n = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  last = 0;
  add(v: number): void {
    this.n++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.last = v;
  }
  get mean(): number {
    return this.n ? this.sum / this.n : 0;
  }
}

/** One scrape as a reducer sees it. */
export interface ScrapeStep {
  cur: TelemetryScrape;
  /** The scrape before; absent for the first, the baseline that counters need. */
  prev?: TelemetryScrape;
  /** Seconds from the load's start to `cur`. */
  t: number;
  /** Seconds from `prev` to `cur` (0 for the first). */
  dt: number;
  /** The interval from `prev` started before the load ended, so it counts toward the load. */
  during: boolean;
  /** Seconds of load. */
  loadEnd: number;
  /** This scrape's timeseries point, to write into. */
  point: TelemetryPoint;
}

/** Queue depth at each scrape; over the load's scrapes and the first at or after its end (`final`). */
export class QueueReducer {
  private readonly depth = new Stat();
  private final: number | undefined;
  step({ cur, t, loadEnd, point }: ScrapeStep): void {
    const d = queueDepthOf(cur);
    if (d === undefined) return;
    Object.assign(point, { queueDepth: d, queueWaiting: total(cur.values.queueWaiting) ?? 0, queueActive: total(cur.values.queueActive) ?? 0 });
    if (t < loadEnd) this.depth.add(d);
    else if (this.final === undefined) {
      this.final = d;
      this.depth.add(d);
    }
  }
  summary(): TelemetrySummary['queueDepth'] {
    const d = this.depth;
    return d.n ? { max: d.max, mean: round(d.mean, 2), final: this.final ?? d.last } : null;
  }
}

/**
 * Hit ratio per interval and over the load's intervals. An interval in which
 * the hits' or the misses' query failed (at either end) is left out: its
 * lookups are unknown, and counting the other side alone would read 100% or 0%.
 */
export class CacheReducer {
  private hits = 0;
  private misses = 0;
  private seen = false;
  step({ cur, prev, during, point }: ScrapeStep): void {
    if (!prev || failedIn(CACHE_SIGNALS, prev, cur)) return;
    const h = groupTotal(counterDeltas(prev.values.cacheHits, cur.values.cacheHits));
    const m = groupTotal(counterDeltas(prev.values.cacheMisses, cur.values.cacheMisses));
    if (h === undefined && m === undefined) return;
    point.cacheHitRatio = (h ?? 0) + (m ?? 0) > 0 ? round((h ?? 0) / ((h ?? 0) + (m ?? 0)), 4) : null;
    if (!during) return;
    this.seen = true;
    this.hits += h ?? 0;
    this.misses += m ?? 0;
  }
  summary(): Pick<TelemetrySummary, 'cacheHitRatio' | 'cacheLookups'> {
    const lookups = this.hits + this.misses;
    return { cacheHitRatio: this.seen && lookups > 0 ? round(this.hits / lookups, 4) : null, cacheLookups: this.seen ? lookups : null };
  }
}

/** Jobs completed per interval, and in all (load and drain). */
export class JobsReducer {
  private completed: number | undefined;
  step({ cur, prev, dt, point }: ScrapeStep): void {
    if (!prev) return;
    const done = groupTotal(counterDeltas(prev.values.jobsCompleted, cur.values.jobsCompleted));
    if (done === undefined || dt <= 0) return;
    point.jobsPerSec = round(done / dt, 2);
    this.completed = (this.completed ?? 0) + done;
  }
  /** `spanSec`: seconds of the load and the drain, what the rate is per. */
  summary(spanSec: number): TelemetrySummary['jobs'] {
    return this.completed === undefined ? null : { completed: this.completed, perSec: round(this.completed / Math.max(spanSec, 1e-9), 2) };
  }
}

/** CPU per `by` group in percent of one core, all groups together, and the hottest. */
export class CpuReducer {
  private readonly byWorker = new Map<string, Stat>();
  private readonly all = new Stat();
  step({ cur, prev, dt, during, point }: ScrapeStep): void {
    const cpu = prev && counterDeltas(prev.values.cpuSeconds, cur.values.cpuSeconds);
    if (!cpu?.size || dt <= 0) return;
    let all = 0;
    let hottest = 0;
    for (const [g, secs] of cpu) {
      const pctOfCore = (secs / dt) * 100;
      all += pctOfCore;
      hottest = Math.max(hottest, pctOfCore);
      if (!during) continue;
      const name = g === '' ? UNLABELLED : g;
      if (!this.byWorker.has(name)) this.byWorker.set(name, new Stat());
      this.byWorker.get(name)!.add(pctOfCore);
    }
    point.cpuPercent = round(all, 1);
    point.cpuMaxWorkerPercent = round(hottest, 1);
    if (during) this.all.add(point.cpuPercent);
  }
  summary(): TelemetrySummary['cpu'] {
    if (!this.byWorker.size) return null;
    const stats = [...this.byWorker.values()];
    return {
      workers: Object.fromEntries([...this.byWorker].map(([g, st]) => [g, { meanPercent: round(st.mean, 1), maxPercent: round(st.max, 1) }])),
      totalPercent: { mean: round(this.all.mean, 1), max: round(this.all.max, 1) },
      maxPercent: round(Math.max(...stats.map((st) => st.max)), 1),
      meanPercent: round(mean(stats.map((st) => st.mean)), 1),
    };
  }
}

/** The worst worker's event-loop lag at each scrape; the first is skipped, it covers the target's own startup. */
export class LagReducer {
  private readonly lag = new Stat();
  step({ cur, prev, during, point }: ScrapeStep): void {
    const series = cur.values.eventLoopLag;
    if (!prev || !series) return;
    point.eventLoopLagMs = round(series.reduce((m, x) => Math.max(m, x.value), 0) * 1000);
    if (during) this.lag.add(point.eventLoopLagMs);
  }
  summary(): TelemetrySummary['eventLoopLagMs'] {
    return this.lag.n ? { max: this.lag.max, mean: round(this.lag.mean, 3) } : null;
  }
}

/** Custom series: a counter's rate per interval and increase over the load; a gauge's value from the first scrape on. */
export class CustomReducer {
  private readonly stats = new Map<string, Stat>();
  constructor(private readonly types: Record<string, 'counter' | 'gauge'>) {}
  step({ cur, prev, dt, during, point }: ScrapeStep): void {
    for (const [name, type] of Object.entries(this.types)) {
      const key = `custom:${name}`;
      // The first scrape gives gauges their first value, and counters their baseline.
      const v = !prev ? (type === 'gauge' ? total(cur.values[key]) : undefined)
        : type === 'counter' ? (dt > 0 ? groupTotal(counterDeltas(prev.values[key], cur.values[key])) : undefined) : total(cur.values[key]);
      if (v === undefined) continue;
      (point.custom ??= {})[name] = prev ? round(type === 'counter' ? v / dt : v, 3) : v;
      if (!during && prev) continue;
      if (!this.stats.has(name)) this.stats.set(name, new Stat());
      this.stats.get(name)!.add(v);
    }
  }
  summary(loadEnd: number): Record<string, CustomSummary> {
    const out: Record<string, CustomSummary> = {};
    for (const [name, type] of Object.entries(this.types)) {
      const st = this.stats.get(name);
      if (!st?.n) continue;
      out[name] = type === 'counter'
        ? { type, increase: round(st.sum, 3), rate: round(st.sum / Math.max(loadEnd, 1e-9), 3) }
        : { type, min: st.min, mean: round(st.mean, 3), max: st.max, final: st.last };
    }
    return out;
  }
}
