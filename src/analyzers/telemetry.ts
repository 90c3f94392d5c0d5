import type { SignalName } from '../scenarios/telemetry-schema.js';
import type { TelemetryRecording, TelemetryScrape } from '../telemetry/telemetry-collector.js';
import type { SeriesValue } from '../telemetry/telemetry-source.js';
import { ReplicaTracker, type ReplicaCounts, type ReplicasSummary } from './telemetry-replicas.js';

/** A custom series' summary: counters as a rate and an increase, gauges as min/mean/max/final. */
export interface CustomSummary {
  type: 'counter' | 'gauge';
  rate?: number;
  increase?: number;
  min?: number;
  mean?: number;
  max?: number;
  final?: number;
}

/** RunResult.telemetry (docs/telemetry.md). Figures are null when their series were never seen. */
export interface TelemetrySummary {
  source: string;
  scrapes: { ok: number; failed: number; firstFailure?: string };
  warnings: string[];
  /** Hits / (hits + misses) over the load, 0..1. */
  cacheHitRatio: number | null;
  cacheLookups: number | null;
  /** Waiting + active + delayed jobs, over the load's scrapes; final is at the end of the load. */
  queueDepth: { max: number; mean: number; final: number } | null;
  /** Jobs completed during the load and the drain, and per second of that time. */
  jobs: { completed: number; perSec: number } | null;
  /** Seconds from the end of the load until a scrape saw the queue empty; null when it did not empty in time. */
  queueDrainTimeSec: number | null;
  drain: { timedOut: boolean; interrupted: boolean; timeoutSec: number; series: { t: number; queueDepth: number }[] } | null;
  /** CPU of each worker (or replica) in percent of one core; maxPercent is the hottest worker in any interval. */
  cpu: { workers: Record<string, { meanPercent: number; maxPercent: number }>; totalPercent: { mean: number; max: number }; maxPercent: number; meanPercent: number } | null;
  eventLoopLagMs: { max: number; mean: number } | null;
  /** Ready replicas per role over every scrape, and each change (absent in results from before it existed). */
  replicas: ReplicasSummary | null;
  custom: Record<string, CustomSummary>;
}

/** Telemetry fields merged into each second of RunResult.timeseries. */
export interface TelemetryPoint {
  t: number;
  cacheHitRatio?: number | null;
  queueDepth?: number;
  queueWaiting?: number;
  queueActive?: number;
  jobsPerSec?: number;
  /** All workers together, percent of one core. */
  cpuPercent?: number;
  cpuMaxWorkerPercent?: number;
  eventLoopLagMs?: number;
  /** Ready replicas per role at the scrape. */
  replicas?: ReplicaCounts;
  custom?: Record<string, number>;
}

/** The group of series that lack the `by` label (or of a signal without `by`), so no row reads "CPU, worker " with no name. */
export const UNLABELLED = '(no label)';

/**
 * Why a telemetry threshold has no value, when the summary can tell: a
 * cache hit ratio over no lookups is not a measurement, and saying so beats
 * a bare "no data".
 */
export function telemetryGap(t: TelemetrySummary | undefined, metric: string): string | undefined {
  if (!t) return undefined;
  if (metric === 'cache_hit_ratio') {
    if (t.cacheLookups === 0) return 'no cache lookups during the run';
    if (t.cacheLookups === null) return `no cache series found at ${t.source}`;
  }
  return undefined;
}

const round = (v: number, d = 3): number => Math.round(v * 10 ** d) / 10 ** d;
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
const queueDepthOf = (s: TelemetryScrape): number | undefined => {
  const parts = (['queueWaiting', 'queueActive', 'queueDelayed'] as SignalName[]).map((k) => total(s.values[k]));
  return parts.every((p) => p === undefined) ? undefined : sum(parts.map((p) => p ?? 0));
};

export interface AnalyzeOptions {
  /** The load's start, epoch ms (RunResult.startedAt). */
  startedAt: number;
  loadDurationSec: number;
  signals: readonly string[];
  custom: Record<string, 'counter' | 'gauge'>;
}

/** Running min/max/sum/count/last: constant memory however long the run. */
class Stat {
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

/**
 * Derives cache, queue, CPU, lag and replica figures from the scrapes. Pure, and linear
 * in the number of scrapes. An interval counts toward the load when it starts
 * before the load ends; `final` is the first scrape at or after the end.
 */
export function analyzeTelemetry(rec: TelemetryRecording, opts: AnalyzeOptions): { summary: TelemetrySummary; points: TelemetryPoint[] } {
  const t = (s: TelemetryScrape): number => (s.at - opts.startedAt) / 1000;
  const loadEnd = opts.loadDurationSec;
  const warnings: string[] = [];
  for (const name of opts.signals) {
    if (!rec.scrapes.some((s) => s.values[name] !== undefined)) warnings.push(`no series found for ${name} at ${rec.source}; its figures are missing`);
  }
  if (rec.failures) warnings.push(`${rec.failures} of ${rec.failures + rec.scrapes.length} scrapes failed (first: ${rec.firstFailure})`);

  const points: TelemetryPoint[] = [];
  let hits = 0;
  let misses = 0;
  let sawCache = false;
  let completed: number | undefined;
  const depth = new Stat();
  let finalDepth: number | undefined;
  const cpuByWorker = new Map<string, Stat>();
  const cpuTotal = new Stat();
  const lag = new Stat();
  const customStats = new Map<string, Stat>();
  const replicas = new ReplicaTracker();
  for (const [i, cur] of rec.scrapes.entries()) {
    const p: TelemetryPoint = { t: Math.floor(t(cur)) };
    const counts = replicas.add(t(cur), cur.values.replicas);
    if (counts) p.replicas = counts;
    const d = queueDepthOf(cur);
    if (d !== undefined) {
      Object.assign(p, { queueDepth: d, queueWaiting: total(cur.values.queueWaiting) ?? 0, queueActive: total(cur.values.queueActive) ?? 0 });
      if (t(cur) < loadEnd) depth.add(d);
      else if (finalDepth === undefined) {
        finalDepth = d;
        depth.add(d);
      }
    }
    const prev = rec.scrapes[i - 1];
    // The first scrape is the baseline: counters need a previous value, and its lag covers the target's own startup.
    if (prev) {
      const during = t(prev) < loadEnd;
      const lagSeries = cur.values.eventLoopLag;
      if (lagSeries) {
        p.eventLoopLagMs = round(lagSeries.reduce((m, x) => Math.max(m, x.value), 0) * 1000);
        if (during) lag.add(p.eventLoopLagMs);
      }
      const dt = (cur.at - prev.at) / 1000;
      const h = groupTotal(counterDeltas(prev.values.cacheHits, cur.values.cacheHits));
      const m = groupTotal(counterDeltas(prev.values.cacheMisses, cur.values.cacheMisses));
      if (h !== undefined || m !== undefined) {
        p.cacheHitRatio = (h ?? 0) + (m ?? 0) > 0 ? round((h ?? 0) / ((h ?? 0) + (m ?? 0)), 4) : null;
        if (during) {
          sawCache = true;
          hits += h ?? 0;
          misses += m ?? 0;
        }
      }
      const done = groupTotal(counterDeltas(prev.values.jobsCompleted, cur.values.jobsCompleted));
      if (done !== undefined && dt > 0) {
        p.jobsPerSec = round(done / dt, 2);
        completed = (completed ?? 0) + done;
      }
      const cpu = counterDeltas(prev.values.cpuSeconds, cur.values.cpuSeconds);
      if (cpu && cpu.size && dt > 0) {
        let all = 0;
        let hottest = 0;
        for (const [g, secs] of cpu) {
          const pctOfCore = (secs / dt) * 100;
          all += pctOfCore;
          hottest = Math.max(hottest, pctOfCore);
          if (during) {
            const name = g === '' ? UNLABELLED : g;
            if (!cpuByWorker.has(name)) cpuByWorker.set(name, new Stat());
            cpuByWorker.get(name)!.add(pctOfCore);
          }
        }
        p.cpuPercent = round(all, 1);
        p.cpuMaxWorkerPercent = round(hottest, 1);
        if (during) cpuTotal.add(p.cpuPercent);
      }
      for (const [name, type] of Object.entries(opts.custom)) {
        const key = `custom:${name}`;
        const v = type === 'counter' ? (dt > 0 ? groupTotal(counterDeltas(prev.values[key], cur.values[key])) : undefined) : total(cur.values[key]);
        if (v === undefined) continue;
        (p.custom ??= {})[name] = round(type === 'counter' ? v / dt : v, 3);
        if (during) {
          if (!customStats.has(name)) customStats.set(name, new Stat());
          customStats.get(name)!.add(v);
        }
      }
    } else {
      for (const [name, type] of Object.entries(opts.custom)) {
        const v = total(cur.values[`custom:${name}`]);
        if (type !== 'gauge' || v === undefined) continue;
        (p.custom ??= {})[name] = v;
        customStats.set(name, new Stat());
        customStats.get(name)!.add(v);
      }
    }
    points.push(p);
  }

  const drain = rec.drain;
  const drainSeries = drain ? rec.scrapes.filter((s) => s.at >= drain.startedAt && s.at <= (drain.endedAt ?? Infinity)).map((s) => ({ t: round(t(s), 2), queueDepth: queueDepthOf(s) ?? 0 })) : [];
  // The first scrape at or after the end of the load that saw the queue empty (it may come before the wait for it began).
  let drainTime: number | null = null;
  if (drain && drain.endedAt !== null) {
    const firstEmpty = rec.scrapes.find((s) => t(s) >= loadEnd && s.at <= drain.endedAt! && queueDepthOf(s) === 0);
    drainTime = round(Math.max(0, ((firstEmpty?.at ?? drain.endedAt) - opts.startedAt) / 1000 - loadEnd), 2);
  }
  if (drain && drain.endedAt === null) {
    warnings.push(drain.interrupted ? 'the queue drain was interrupted; queue_drain_time is unknown'
      : `the queue did not empty within ${drain.timeoutMs / 1000} s after the load (drainTimeout)`);
  }
  const lastScrape = rec.scrapes[rec.scrapes.length - 1];
  const spanSec = Math.max(loadEnd, lastScrape ? t(lastScrape) : 0);
  const cpuWorkers = Object.fromEntries([...cpuByWorker].map(([g, st]) => [g, { meanPercent: round(st.mean, 1), maxPercent: round(st.max, 1) }]));
  const custom: Record<string, CustomSummary> = {};
  for (const [name, type] of Object.entries(opts.custom)) {
    const st = customStats.get(name);
    if (!st?.n) continue;
    custom[name] = type === 'counter'
      ? { type, increase: round(st.sum, 3), rate: round(st.sum / Math.max(loadEnd, 1e-9), 3) }
      : { type, min: st.min, mean: round(st.mean, 3), max: st.max, final: st.last };
  }

  return {
    points,
    summary: {
      source: rec.source,
      scrapes: { ok: rec.scrapes.length, failed: rec.failures, ...(rec.firstFailure ? { firstFailure: rec.firstFailure } : {}) },
      warnings,
      cacheHitRatio: sawCache && hits + misses > 0 ? round(hits / (hits + misses), 4) : null,
      cacheLookups: sawCache ? hits + misses : null,
      queueDepth: depth.n ? { max: depth.max, mean: round(depth.mean, 2), final: finalDepth ?? depth.last } : null,
      jobs: completed === undefined ? null : { completed, perSec: round(completed / Math.max(spanSec, 1e-9), 2) },
      queueDrainTimeSec: drainTime,
      drain: drain ? { timedOut: drain.endedAt === null && !drain.interrupted, interrupted: drain.interrupted, timeoutSec: drain.timeoutMs / 1000, series: drainSeries } : null,
      cpu: cpuByWorker.size ? {
        workers: cpuWorkers,
        totalPercent: { mean: round(cpuTotal.mean, 1), max: round(cpuTotal.max, 1) },
        maxPercent: round(Math.max(...[...cpuByWorker.values()].map((st) => st.max)), 1),
        meanPercent: round(mean([...cpuByWorker.values()].map((st) => st.mean)), 1),
      } : null,
      eventLoopLagMs: lag.n ? { max: lag.max, mean: round(lag.mean, 3) } : null,
      replicas: replicas.summary(),
      custom,
    },
  };
}

/** The latest live figures for the progress display, from the two newest scrapes. */
export function liveTelemetry(recent: readonly TelemetryScrape[]): TelemetryPoint | undefined {
  if (recent.length === 0) return undefined;
  const startedAt = recent[0]!.at;
  const { points } = analyzeTelemetry({ source: '', intervalMs: 0, scrapes: [...recent], failures: 0 }, { startedAt, loadDurationSec: Infinity, signals: [], custom: {} });
  return points[points.length - 1];
}
