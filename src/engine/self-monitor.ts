import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import { cpuUsage } from 'node:process';
import { newHistogram, recordMs, type Histogram } from './latency-histogram.js';

/** One second of the generator watching itself (one engine thread). */
export interface MonitorSample {
  /** Share of the second this thread's event loop was busy (0..1): near 1 means CPU-bound. */
  elu: number;
  /** Event-loop delay, milliseconds. */
  loopLagP99Ms: number;
  loopLagMaxMs: number;
  /** How late arrivals started against their schedule (open model), p99 in milliseconds. */
  scheduleLagP99Ms: number;
  /** Process CPU over the second, percent of one core (all threads of the process). */
  cpuPercent: number;
  /** Wall time the sample covers, milliseconds (the last one of a run is short). */
  windowMs: number;
  /** Most requests seen waiting for a free connection in the second, checked every 25 ms (the connection cap was reached). */
  connectionQueue: number;
}

/** Sampling interval of the event-loop delay monitor, milliseconds. */
const DELAY_RESOLUTION_MS = 10;

/** Samples the engine thread's own load once a second: ELU, loop delay, schedule lag, CPU. */
export class SelfMonitor {
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
  private lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  private lastCpu = cpuUsage();
  private lastAt = performance.now();
  private readonly lag: Histogram = newHistogram();

  constructor() {
    this.delay.enable();
  }

  scheduleLag(ms: number): void {
    recordMs(this.lag, ms);
  }

  sample(connectionQueue: number): MonitorSample {
    const now = performance.now();
    const elu = performance.eventLoopUtilization(this.lastElu);
    this.lastElu = performance.eventLoopUtilization();
    const cpu = cpuUsage(this.lastCpu);
    this.lastCpu = cpuUsage();
    const wallUs = Math.max(1, (now - this.lastAt) * 1000);
    this.lastAt = now;
    const sample: MonitorSample = {
      elu: round(elu.utilization, 3),
      // The monitor records whole sampling intervals (an idle loop reads ~10.2 ms): keep the excess.
      loopLagP99Ms: round(excess(this.delay.percentile(99)), 2),
      loopLagMaxMs: round(excess(this.delay.max), 2),
      scheduleLagP99Ms: this.lag.totalCount ? round(this.lag.getValueAtPercentile(99) / 1000, 2) : 0,
      cpuPercent: round(((cpu.user + cpu.system) / wallUs) * 100, 1),
      windowMs: Math.round(wallUs / 1000),
      connectionQueue,
    };
    this.delay.reset();
    this.lag.reset();
    return sample;
  }

  stop(): void {
    this.delay.disable();
  }
}

function excess(ns: number): number {
  return Math.max(0, ns / 1e6 - DELAY_RESOLUTION_MS);
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Number.isFinite(v) ? Math.round(v * f) / f : 0;
}
