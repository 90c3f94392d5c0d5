import type { SignalName } from '../scenarios/telemetry-schema.js';
import type { TelemetryRecording, TelemetryScrape } from '../telemetry/telemetry-collector.js';
import type { SeriesValue } from '../telemetry/telemetry-source.js';

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
  custom?: Record<string, number>;
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

/** Derives cache, queue, CPU and lag figures from the scrapes. Pure. */
export function analyzeTelemetry(rec: TelemetryRecording, opts: AnalyzeOptions): { summary: TelemetrySummary; points: TelemetryPoint[] } {
  const t = (s: TelemetryScrape): number => (s.at - opts.startedAt) / 1000;
  const inLoad = rec.scrapes.filter((s) => t(s) <= opts.loadDurationSec + 1e-3);
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
  const cpuByWorker = new Map<string, number[]>();
  const cpuTotals: number[] = [];
  const lags: number[] = [];
  const customSeries = new Map<string, number[]>();
  for (const [i, cur] of rec.scrapes.entries()) {
    const p: TelemetryPoint = { t: Math.floor(t(cur)) };
    const depth = queueDepthOf(cur);
    if (depth !== undefined) Object.assign(p, { queueDepth: depth, queueWaiting: total(cur.values.queueWaiting) ?? 0, queueActive: total(cur.values.queueActive) ?? 0 });
    const lag = cur.values.eventLoopLag;
    // The first scrape's lag covers everything since the target started (startup, JIT): not the run's.
    if (lag && i > 0) {
      p.eventLoopLagMs = round(Math.max(...lag.map((x) => x.value)) * 1000);
      if (t(cur) <= opts.loadDurationSec + 1e-3) lags.push(p.eventLoopLagMs);
    }
    const prev = rec.scrapes[i - 1];
    if (prev) {
      const dt = (cur.at - prev.at) / 1000;
      const during = t(cur) <= opts.loadDurationSec + 1e-3;
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
      if (done !== undefined) {
        p.jobsPerSec = round(done / dt, 2);
        completed = (completed ?? 0) + done;
      }
      const cpu = counterDeltas(prev.values.cpuSeconds, cur.values.cpuSeconds);
      if (cpu && dt > 0) {
        const perWorker = [...cpu].map(([g, secs]) => [g, (secs / dt) * 100] as const);
        p.cpuPercent = round(sum(perWorker.map(([, v]) => v)), 1);
        p.cpuMaxWorkerPercent = round(Math.max(...perWorker.map(([, v]) => v)), 1);
        if (during) {
          cpuTotals.push(p.cpuPercent);
          for (const [g, v] of perWorker) cpuByWorker.set(g, [...(cpuByWorker.get(g) ?? []), v]);
        }
      }
      for (const [name, type] of Object.entries(opts.custom)) {
        const key = `custom:${name}`;
        const v = type === 'counter' ? groupTotal(counterDeltas(prev.values[key], cur.values[key])) : total(cur.values[key]);
        if (v === undefined) continue;
        const value = type === 'counter' ? v / dt : v;
        (p.custom ??= {})[name] = round(value, 3);
        if (during) customSeries.set(name, [...(customSeries.get(name) ?? []), type === 'counter' ? v : value]);
      }
    } else {
      for (const [name, type] of Object.entries(opts.custom)) {
        const v = total(cur.values[`custom:${name}`]);
        if (type === 'gauge' && v !== undefined) {
          (p.custom ??= {})[name] = v;
          customSeries.set(name, [v]);
        }
      }
    }
    points.push(p);
  }

  const depths = inLoad.map(queueDepthOf).filter((d): d is number => d !== undefined);
  const lastInLoad = inLoad[inLoad.length - 1];
  const finalDepth = lastInLoad ? queueDepthOf(lastInLoad) : undefined;
  const drain = rec.drain;
  const drainSeries = rec.scrapes.filter((s) => drain && s.at >= drain.startedAt && s.at <= (drain.endedAt ?? Infinity))
    .map((s) => ({ t: round(t(s), 2), queueDepth: queueDepthOf(s) ?? 0 }));
  // The first scrape at or after the end of the load that saw the queue empty (it may come before the wait for it began).
  let drainTime: number | null = null;
  if (drain && drain.endedAt !== null) {
    const firstEmpty = rec.scrapes.find((s) => t(s) >= opts.loadDurationSec && s.at <= drain.endedAt! && queueDepthOf(s) === 0);
    drainTime = round(Math.max(0, ((firstEmpty?.at ?? drain.endedAt) - opts.startedAt) / 1000 - opts.loadDurationSec), 2);
  }
  if (drain && drain.endedAt === null) {
    warnings.push(drain.interrupted ? 'the queue drain was interrupted; queue_drain_time is unknown'
      : `the queue did not empty within ${drain.timeoutMs / 1000} s after the load (drainTimeout)`);
  }
  const spanSec = drain ? ((drain.endedAt ?? drain.startedAt + drain.timeoutMs) - opts.startedAt) / 1000 : opts.loadDurationSec;
  const cpuWorkers = Object.fromEntries([...cpuByWorker].map(([g, xs]) => [g, { meanPercent: round(mean(xs), 1), maxPercent: round(Math.max(...xs), 1) }]));
  const custom: Record<string, CustomSummary> = {};
  for (const [name, type] of Object.entries(opts.custom)) {
    const xs = customSeries.get(name) ?? [];
    if (!xs.length) continue;
    custom[name] = type === 'counter'
      ? { type, increase: round(sum(xs), 3), rate: round(sum(xs) / Math.max(opts.loadDurationSec, 1e-9), 3) }
      : { type, min: Math.min(...xs), mean: round(mean(xs), 3), max: Math.max(...xs), final: xs[xs.length - 1]! };
  }

  return {
    points,
    summary: {
      source: rec.source,
      scrapes: { ok: rec.scrapes.length, failed: rec.failures, ...(rec.firstFailure ? { firstFailure: rec.firstFailure } : {}) },
      warnings,
      cacheHitRatio: sawCache && hits + misses > 0 ? round(hits / (hits + misses), 4) : null,
      cacheLookups: sawCache ? hits + misses : null,
      queueDepth: depths.length ? { max: Math.max(...depths), mean: round(mean(depths), 2), final: finalDepth ?? 0 } : null,
      jobs: completed === undefined ? null : { completed, perSec: round(completed / Math.max(spanSec, 1e-9), 2) },
      queueDrainTimeSec: drainTime,
      drain: drain ? { timedOut: drain.endedAt === null && !drain.interrupted, interrupted: drain.interrupted, timeoutSec: drain.timeoutMs / 1000, series: drainSeries } : null,
      cpu: cpuByWorker.size ? {
        workers: cpuWorkers,
        totalPercent: { mean: round(mean(cpuTotals), 1), max: round(Math.max(...cpuTotals), 1) },
        maxPercent: round(Math.max(...Object.values(cpuWorkers).map((w) => w.maxPercent)), 1),
        meanPercent: round(mean(Object.values(cpuWorkers).map((w) => w.meanPercent)), 1),
      } : null,
      eventLoopLagMs: lags.length ? { max: Math.max(...lags), mean: round(mean(lags), 3) } : null,
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
