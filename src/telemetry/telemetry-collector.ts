import type { Snapshot, TelemetrySource } from './telemetry-source.js';

/** One successful scrape. */
export interface TelemetryScrape {
  /**
   * When it was sent, epoch milliseconds. Rates use this: the target reads its
   * counters when the request arrives, while a slow answer (gauges read from a
   * database) would otherwise shift the interval.
   */
  at: number;
  values: Snapshot;
  /** Signals whose own query failed in this scrape (PromQL): unknown here, not 0. */
  failed?: string[];
}

/** Everything the collector saw, for the analyzer (src/analyzers/telemetry.ts). */
export interface TelemetryRecording {
  source: string;
  intervalMs: number;
  scrapes: TelemetryScrape[];
  /** Scrapes that failed (error, non-200, timeout, not the format); the run went on. */
  failures: number;
  /** The first failure's message. */
  firstFailure?: string;
  /** Signals whose own query failed in scrapes that otherwise worked (PromQL): how often, and the first reason. */
  signalFailures?: Record<string, { failed: number; firstError: string }>;
  /** The wait for the queue to empty after the load, if there was one. */
  drain?: {
    startedAt: number;
    /** When a scrape first saw it empty; null when `timeoutMs` ran out (or the wait was cut short). */
    endedAt: number | null;
    timeoutMs: number;
    interrupted: boolean;
  };
}

export interface CollectorOptions {
  intervalMs: number;
  timeoutMs: number;
}

/**
 * Polls a telemetry source every interval while the load runs (and while the
 * queue drains). A failed scrape is counted and the next one tried; nothing
 * here stops the run.
 */
export class TelemetryCollector {
  private readonly scrapes: TelemetryScrape[] = [];
  private failures = 0;
  private firstFailure: string | undefined;
  private readonly signalFailures: Record<string, { failed: number; firstError: string }> = {};
  private stopped = false;
  private wake: (() => void) | undefined;
  private listeners: ((s: TelemetryScrape) => void)[] = [];
  private loop: Promise<void> | undefined;
  private afterNext: (() => void)[] = [];
  private soon = false;
  private drainInfo: TelemetryRecording['drain'];

  constructor(private readonly source: TelemetrySource, private readonly opts: CollectorOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /**
   * Scrapes now instead of at the next interval (the end of the load), and
   * resolves once that scrape is done (or failed).
   */
  scrapeNow(): Promise<void> {
    return new Promise((resolve) => {
      this.afterNext.push(resolve);
      // A scrape in progress started before this call: ask for one more after it.
      this.soon = true;
      this.wake?.();
    });
  }

  /** The two newest successful scrapes (for live rates), oldest first. */
  recent(): TelemetryScrape[] {
    return this.scrapes.slice(-2);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const began = Date.now();
      // Callers of scrapeNow() before this point are served by this scrape; later ones by the next.
      const served = this.afterNext.splice(0);
      this.soon = false;
      try {
        const { values, failed } = await this.source.scrape(this.opts.timeoutMs);
        for (const [name, why] of Object.entries(failed ?? {})) (this.signalFailures[name] ??= { failed: 0, firstError: why }).failed++;
        const scrape: TelemetryScrape = failed ? { at: began, values, failed: Object.keys(failed) } : { at: began, values };
        this.scrapes.push(scrape);
        for (const l of this.listeners) l(scrape);
      } catch (err) {
        this.failures++;
        this.firstFailure ??= err instanceof Error ? err.message : String(err);
      }
      for (const w of served) w();
      const wait = this.opts.intervalMs - (Date.now() - began);
      if (!this.stopped && wait > 0 && !this.soon) await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wake = () => { clearTimeout(timer); resolve(); };
      });
      this.wake = undefined;
    }
  }

  /**
   * After the load: keeps scraping until a scrape finds the queue empty, the
   * timeout runs out, or `signal` fires (Ctrl-C). A queue already empty at the
   * first scrape drains in 0 s.
   */
  async drain(isEmpty: (s: Snapshot, failed?: readonly string[]) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const startedAt = Date.now();
    const info = { startedAt, endedAt: null as number | null, timeoutMs, interrupted: false };
    this.drainInfo = info;
    await new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== onScrape);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onScrape = (s: TelemetryScrape): void => {
        if (isEmpty(s.values, s.failed)) {
          info.endedAt = s.at;
          finish();
        }
      };
      const onAbort = (): void => {
        info.interrupted = true;
        finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      if (signal?.aborted) return onAbort();
      // The scrape taken at the end of the load may already show it empty.
      const latest = this.scrapes[this.scrapes.length - 1];
      if (latest && isEmpty(latest.values, latest.failed)) {
        info.endedAt = latest.at;
        return finish();
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.listeners.push(onScrape);
    });
  }

  /** Stops polling (an in-flight scrape is waited for) and returns what was recorded. */
  async stop(): Promise<TelemetryRecording> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    for (const w of this.afterNext.splice(0)) w();
    return {
      source: this.source.describe,
      intervalMs: this.opts.intervalMs,
      scrapes: this.scrapes,
      failures: this.failures,
      firstFailure: this.firstFailure,
      ...(Object.keys(this.signalFailures).length ? { signalFailures: this.signalFailures } : {}),
      drain: this.drainInfo,
    };
  }
}
