import type { TimeseriesPoint } from '../engine/aggregator.js';
import type { MonitorSample } from '../engine/self-monitor.js';
import type { HttpClientUsage } from '../engine/http-exchange.js';

export interface GeneratorHealth {
  workers: number;
  maxInFlight: number;
  /** Connection cap per origin per worker. */
  connections: number;
  /** Seconds in which requests were seen waiting for a free connection (checked every 25 ms). */
  connectionWaitSeconds: number;
  /**
   * Requests sent by each HTTP client path (defaults.httpClient): `lean` by
   * scalectl's own HTTP/1.1 client, `undici` by undici, with the distinct
   * reasons undici sent its share (at most 10). In a merged result, the
   * shards' added up. Absent in results from before it was recorded (and in
   * a merge of shards any of which lacks it).
   */
  httpClient?: HttpClientUsage;
  /** Process CPU, percent of one core (all threads). */
  cpuPercent: { mean: number; max: number };
  /** Busiest engine thread's event-loop utilisation, 0..1. */
  eventLoopUtilization: { mean: number; max: number };
  eventLoopLagP99Ms: number;
  /** How late arrivals started against their schedule, worst second's p99. */
  scheduleLagP99Ms: number;
  /** True when the generator, not the target, limited the run (in a merged result: any shard's). */
  saturated: boolean;
  warnings: string[];
  /** Only in a merged result: how each shard's generator fared, by shard index. */
  shards?: ShardHealth[];
}

/** One shard's generator in a merged result (`generator.shards[]`). */
export interface ShardHealth {
  /** 1-based. */
  index: number;
  /** The machine (pod) it ran on; null when its result did not say. */
  hostname: string | null;
  workers: number;
  /** How late it started its first phase against the agreed start, milliseconds. */
  startLateMs: number;
  cpuPercent: { mean: number; max: number };
  eventLoopLagP99Ms: number;
  scheduleLagP99Ms: number;
  saturated: boolean;
  warnings: string[];
}

/** Samples covering less wall time than this are left out. */
const MIN_SAMPLE_MS = 250;

/** Limits past which a second counts as generator-bound. */
export const SATURATION = { elu: 0.9, loopLagMs: 50, scheduleLagMs: 50 } as const;

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const round = (v: number, d = 1): number => Math.round(v * 10 ** d) / 10 ** d;

export interface GeneratorSetup {
  workers: number;
  maxInFlight: number;
  connections: number;
  /** Whether the user set the connection cap (--connections or defaults.connections), rather than the default. */
  connectionsSet: boolean;
  /** CPU cores of the generator's machine. */
  cores: number;
}

/**
 * Judges whether the generator kept up. A second is generator-bound when an
 * engine thread's event loop was busy >= 90% of it (the thread's CPU), its
 * event-loop lag p99 passed 50 ms, or arrivals started > 50 ms late (p99). The
 * run is saturated when that held for 2 seconds or more, or for a quarter of a
 * short run; then the numbers describe the tool, not the target.
 */
export function judgeGenerator(points: readonly TimeseriesPoint[], setup: GeneratorSetup, dropped: number): GeneratorHealth {
  const { workers, maxInFlight, connections, connectionsSet, cores } = setup;
  // A few milliseconds of wall time (the run's last, partial window) say nothing about load.
  const full = points.filter((p) => p.generator.windowMs >= MIN_SAMPLE_MS);
  const g = full.map((p) => p.generator);
  const isBound = (s: MonitorSample): boolean => s.elu >= SATURATION.elu || s.loopLagP99Ms > SATURATION.loopLagMs || s.scheduleLagP99Ms > SATURATION.scheduleLagMs;
  const bound = g.filter(isBound);
  const saturated = bound.length >= 2 || (g.length > 0 && bound.length / g.length >= 0.25);
  const connectionWaitSeconds = g.filter((s) => s.connectionQueue > 0).length;
  const health: GeneratorHealth = {
    workers,
    maxInFlight,
    connections,
    connectionWaitSeconds,
    cpuPercent: { mean: round(mean(g.map((s) => s.cpuPercent))), max: round(Math.max(0, ...g.map((s) => s.cpuPercent))) },
    eventLoopUtilization: { mean: round(mean(g.map((s) => s.elu)), 3), max: round(Math.max(0, ...g.map((s) => s.elu)), 3) },
    eventLoopLagP99Ms: round(Math.max(0, ...g.map((s) => s.loopLagP99Ms)), 2),
    scheduleLagP99Ms: round(Math.max(0, ...g.map((s) => s.scheduleLagP99Ms)), 2),
    saturated,
    warnings: [],
  };
  // Requests queued for a connection cap the user set: that setting, not the machine, held the load back.
  const capBound = connectionWaitSeconds > 0 && connectionsSet;
  const capText = `the connection cap (${connections} per origin per worker, defaults.connections or --connections)`;
  if (saturated) {
    health.warnings.push(
      `generator saturated for ${bound.length} of ${g.length} s (engine thread busy up to ${Math.round(health.eventLoopUtilization.max * 100)}%, ` +
      `event-loop lag p99 up to ${health.eventLoopLagP99Ms} ms, arrivals up to ${health.scheduleLagP99Ms} ms late): ` +
      (capBound
        ? `requests queued for ${capText} in ${connectionWaitSeconds} s, and the queue costs the generator time: raise the cap before blaming the machine`
        : `these numbers describe the tool, not the target${workers < cores ? `; try --workers ${Math.min(cores, workers * 2)}` : '; use more generator machines'}`),
    );
  } else if (bound.length > 0) {
    // Not enough to call the run saturated, but that second's numbers include generator delay.
    const seconds = full.filter((p) => isBound(p.generator)).map((p) => p.t);
    health.warnings.push(
      `the generator was busy in second${seconds.length > 1 ? 's' : ''} ${seconds.join(', ')} of ${g.length}; latency there includes its delay` +
      (seconds[0] === 0 ? ' (a cold start: a short warm-up phase at a lower rate keeps it out of the numbers that matter)' : ''),
    );
  }
  if (dropped > 0) {
    health.warnings.push(
      `${dropped} iterations dropped: ${maxInFlight} were already in flight (maxInFlight). ` +
      (capBound
        ? `Requests queued for ${capText}: raise it, or maxInFlight if the flows are long`
        : 'The target answered too slowly for the offered rate, or raise maxInFlight if the flows are long'),
    );
  }
  if (connectionWaitSeconds >= 2) {
    const waited = `requests waited for a free connection in ${connectionWaitSeconds} s (${connections} connections per origin per worker${connectionsSet ? '' : ', the default'}): `;
    health.warnings.push(
      connectionsSet
        ? `${waited}their latency includes that wait; raise defaults.connections or --connections if the target should see more concurrency`
        : saturated
          // At the default cap a busy generator is slow to take responses off its connections: the queue is its delay, not the cap's.
          ? `${waited}the generator was saturated, so the wait is its own delay; a higher cap would not help`
          : `${waited}their latency includes that wait; set defaults.connections or --connections higher if the target should see more concurrency`,
    );
  }
  if (workers > cores) health.warnings.push(`--workers ${workers} is more than this machine's ${cores} cores`);
  return health;
}
