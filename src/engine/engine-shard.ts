import { performance } from 'node:perf_hooks';
import type { LoadedScenario } from '../scenarios/load-scenario.js';
import { schedulePhases } from '../scenarios/schedule.js';
import { compileScenario } from './compiled-scenario.js';
import { sleepUntil, type ExecutorContext } from './executor.js';
import { EXECUTORS } from './executors.js';
import { FlowRunner } from './flow-runner.js';
import { HttpClient } from './http-client.js';
import { isIdleTail, Recorder, type ShardFinal, type WindowReport } from './recorder.js';
import { SelfMonitor, type MonitorSample } from './self-monitor.js';
import { IterationNumbers, type EngineSlice } from './shard-slice.js';

export interface ShardOptions {
  target: string;
  /** The arrivals and virtual users this engine runs. */
  slice: EngineSlice;
  /** Run start as epoch milliseconds (performance.timeOrigin + now), shared by all shards. */
  startAtEpochMs: number;
  /** In-flight cap of this shard. */
  maxInFlight: number;
  /** Connection cap per origin of this shard. */
  connections: number;
  /** How long to wait for in-flight iterations after the last phase, milliseconds. */
  gracefulStopMs: number;
  /** After a stop() (a signal): how long to wait for in-flight requests. */
  abortGraceMs: number;
  /** Report each second's requests per endpoint too (WindowReport.endpoints), for live streams. */
  endpointWindows?: boolean;
  onWindow: (report: WindowReport, monitor: MonitorSample) => void;
}

const clock = (): number => performance.now();

/**
 * Runs every phase of a scenario for one shard of the load: in the main
 * thread (one worker) or in a worker thread (`--workers N`). Reports each
 * second as it closes, and everything recorded at the end.
 */
export class EngineShard {
  private stopped = false;
  private readonly stopCallbacks: (() => void)[] = [];
  private runner: FlowRunner | undefined;

  constructor(
    private readonly loaded: LoadedScenario,
    private readonly opts: ShardOptions,
  ) {}

  /** Stop scheduling; in-flight requests get abortGraceMs to finish. Works before run() too. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.runner?.stop();
    for (const fn of this.stopCallbacks.splice(0)) fn();
  }

  private onStop(fn: () => void): void {
    if (this.stopped) fn();
    else this.stopCallbacks.push(fn);
  }

  async run(): Promise<ShardFinal> {
    const { opts, loaded } = this;
    const compiled = compileScenario(loaded, opts.target);
    const runStart = opts.startAtEpochMs - performance.timeOrigin;
    const recorder = new Recorder(compiled.endpoints.length, compiled.flows.length, compiled.checkNames, { endpointWindows: opts.endpointWindows, runStart });
    const client = new HttpClient(clock, opts.connections, compiled.httpClient, loaded.tls && { settings: loaded.tls, target: opts.target });
    const runner = new FlowRunner(compiled, loaded.feeders, client, recorder, clock);
    this.runner = runner;
    if (this.stopped) runner.stop();
    const monitor = new SelfMonitor();
    const phases = schedulePhases(loaded.scenario.phases);
    const iterations = new IterationNumbers(phases);
    let localIteration = 0;
    let second = 0;
    const windowHooks = new Set<() => void>();
    const ctx: ExecutorContext = {
      runner, recorder, clock, runStart,
      slice: opts.slice,
      maxInFlight: opts.maxInFlight,
      open: { inFlight: 0 },
      vuSlots: new Map(),
      iterations,
      nextIteration: () => iterations.closed(localIteration++, opts.slice),
      stopped: () => this.stopped,
      onStop: (fn) => this.onStop(fn),
      scheduleLag: (ms) => monitor.scheduleLag(ms),
      windowEnd: () => runStart + (second + 1) * 1000,
      onWindow: (fn) => {
        windowHooks.add(fn);
        return () => windowHooks.delete(fn);
      },
    };

    const wakeExecutors = (): void => {
      for (const fn of [...windowHooks]) fn();
    };
    let windowTimer: NodeJS.Timeout | undefined;
    const flush = (): void => {
      opts.onWindow(recorder.flushWindow(second), monitor.sample(client.takeMostQueued()));
      second++;
    };
    const armWindow = (): void => {
      windowTimer = setTimeout(() => {
        // A timer may fire up to a millisecond early (whole milliseconds): the second is not over yet.
        if (clock() < ctx.windowEnd()) return armWindow();
        // What came due in the closing second is counted in it, and what is due since, in the next.
        wakeExecutors();
        flush();
        wakeExecutors();
        armWindow();
      }, Math.max(0, runStart + (second + 1) * 1000 - clock()));
    };

    const totalMs = phases.length ? phases[phases.length - 1]!.endMs : 0;
    await sleepUntil(ctx, runStart);
    armWindow();
    const running: Promise<void>[] = [];
    for (const sp of phases) {
      await sleepUntil(ctx, runStart + sp.startMs);
      if (this.stopped) break;
      running.push(EXECUTORS[sp.phase.kind](sp, ctx));
    }
    await sleepUntil(ctx, runStart + totalMs);
    await this.settle(Promise.all(running).then(() => runner.idle()), this.stopped ? opts.abortGraceMs : opts.gracefulStopMs);
    runner.close();
    clearTimeout(windowTimer);
    const last = recorder.flushWindow(second);
    if (!isIdleTail(last, totalMs)) opts.onWindow(last, monitor.sample(client.takeMostQueued()));
    monitor.stop();
    // The runner is closed: nothing more is sent, so the counts by path are the run's.
    const final: ShardFinal = { ...recorder.final(), httpClient: client.usage() };
    // Close the sockets before anyone writes results: with thousands open,
    // writing the result file could otherwise fail for want of a descriptor.
    await client.close().catch(() => {});
    return final;
  }

  /** Waits for `done`, at most `ms`; once stop() is called, at most abortGraceMs more (never longer than before). */
  private settle(done: Promise<unknown>, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const deadline = clock() + ms;
      let timer = setTimeout(resolve, ms);
      void done.then(() => {
        clearTimeout(timer);
        resolve();
      });
      this.onStop(() => {
        clearTimeout(timer);
        timer = setTimeout(resolve, Math.max(0, Math.min(deadline - clock(), this.opts.abortGraceMs)));
      });
    });
  }
}
