import type { ChalkInstance } from 'chalk';
import type { LiveTotals, TimeseriesPoint } from '../engine/aggregator.js';
import type { ScheduledPhase } from '../scenarios/schedule.js';
import { formatDuration } from '../shared/duration.js';
import type { TelemetryPoint } from '../analyzers/telemetry.js';
import { printable } from '../shared/printable.js';
import { describeCounts } from './describe-replicas.js';
import { inCi } from './colors.js';

export interface ProgressOptions {
  write: (text: string) => void;
  /** A terminal gets one status block redrawn in place; anything else (or CI) a line every `plainEverySec`. */
  tty: boolean;
  colors: ChalkInstance;
  phases: readonly ScheduledPhase[];
  /** Seconds between plain lines when not a terminal. Default 5. */
  plainEverySec?: number;
  /** The run's stop signal: the CLI prints a line when it fires, so the block is redrawn below it, not over it. */
  signal?: AbortSignal;
  /** The target's latest telemetry, when the run collects it. */
  telemetry?: () => TelemetryPoint | undefined;
}

/** `replicas web 2 · consumer 3  cache hit 93%  queue 12  CPU 145% (hottest worker 80%)  lag 3ms  replica lag 120ms`, or '' when nothing is known yet. */
export function telemetryLine(p: TelemetryPoint | undefined): string {
  if (!p) return '';
  const parts: string[] = [];
  // Role names come from the target's labels: printable, so a label cannot drive the terminal.
  if (p.replicas && Object.keys(p.replicas).length) parts.push(`replicas ${describeCounts(p.replicas, printable)}`);
  if (p.cacheHitRatio !== undefined) parts.push(`cache hit ${p.cacheHitRatio === null ? '-' : `${Math.round(p.cacheHitRatio * 100)}%`}`);
  if (p.queueDepth !== undefined) parts.push(`queue ${p.queueDepth}`);
  if (p.jobsPerSec !== undefined) parts.push(`jobs ${p.jobsPerSec}/s`);
  if (p.cpuPercent !== undefined) parts.push(`CPU ${Math.round(p.cpuPercent)}% (hottest worker ${Math.round(p.cpuMaxWorkerPercent ?? 0)}%)`);
  if (p.eventLoopLagMs !== undefined) parts.push(`lag ${formatDuration(p.eventLoopLagMs)}`);
  if (p.replicaLagSec !== undefined) parts.push(`replica lag ${formatDuration(p.replicaLagSec * 1000)}`);
  return parts.join('  ');
}

/** Seconds between progress lines in CI. */
const CI_EVERY_SEC = 10;

/**
 * How progress is drawn on a stream: redrawn in place on a terminal; plain
 * lines elsewhere, and in CI even when the CI gives a terminal (its log keeps
 * every redraw), there every 10 s so a long run's log stays readable.
 */
export function progressMode(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): Pick<ProgressOptions, 'tty' | 'plainEverySec'> {
  if (inCi(env)) return { tty: false, plainEverySec: CI_EVERY_SEC };
  return { tty: Boolean(stream.isTTY) };
}

/** Live progress: phase, elapsed/total, offered vs achieved rate, p99 so far, errors. */
export class Progress {
  private linesDrawn = 0;
  private lastPlainAt = -Infinity;
  private readonly totalSec: number;

  constructor(private readonly opts: ProgressOptions) {
    const last = opts.phases[opts.phases.length - 1];
    this.totalSec = last ? last.endMs / 1000 : 0;
    opts.signal?.addEventListener('abort', () => (this.linesDrawn = 0), { once: true });
  }

  update(p: TimeseriesPoint, live: LiveTotals): void {
    // The second after the last phase is the drain of in-flight iterations.
    const elapsed = Math.min(p.t + 1, this.totalSec);
    const phase = this.opts.phases.find((ph) => p.t * 1000 >= ph.startMs && p.t * 1000 < ph.endMs);
    const label = phase ? printable(phase.label) : 'draining in-flight';
    const c = this.opts.colors;
    const errPct = live.requests ? ((live.errors / live.requests) * 100).toFixed(2) : '0.00';
    const errors = live.errors ? c.red(`${live.errors} (${errPct}%)`) : '0';
    if (this.opts.tty) {
      const bar = this.bar(elapsed);
      const lines = [
        `${c.bold(label)}  ${bar} ${elapsed}/${this.totalSec} s`,
        `  rate offered ${p.offeredRps}/s  achieved ${p.achievedRps}/s  requests ${p.rps}/s  in flight ${p.inFlight}`,
        `  p99 now ${formatDuration(p.p99)}  run ${formatDuration(live.p99)}  requests ${live.requests}  errors ${errors}` +
          (live.dropped ? c.yellow(`  dropped ${live.dropped}`) : ''),
      ];
      const target = telemetryLine(this.opts.telemetry?.());
      if (this.opts.telemetry) lines.push(`  target: ${target || 'waiting for the first scrapes'}`);
      // Move up over the previous block and redraw it.
      const up = this.linesDrawn ? `\x1b[${this.linesDrawn}A` : '';
      this.opts.write(up + lines.map((l) => `\x1b[2K${l}\n`).join(''));
      this.linesDrawn = lines.length;
    } else if (elapsed - this.lastPlainAt >= (this.opts.plainEverySec ?? 5)) {
      this.lastPlainAt = elapsed;
      this.opts.write(
        `[${elapsed}/${this.totalSec}s] ${label}: offered ${p.offeredRps}/s achieved ${p.achievedRps}/s ` +
          `p99 ${formatDuration(live.p99)} requests ${live.requests} errors ${live.errors}${live.dropped ? ` dropped ${live.dropped}` : ''}` +
          `${this.opts.telemetry && telemetryLine(this.opts.telemetry()) ? ` | ${telemetryLine(this.opts.telemetry())}` : ''}\n`,
      );
    }
  }

  /** Someone wrote a line below the live block: the next update draws a new block under it instead of over the line. */
  lineWritten(): void {
    this.linesDrawn = 0;
  }

  private bar(elapsed: number): string {
    const width = 20;
    const filled = this.totalSec ? Math.min(width, Math.round((elapsed / this.totalSec) * width)) : width;
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  }
}
