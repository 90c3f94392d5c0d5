import { parentPort } from 'node:worker_threads';
import { EngineShard, type ShardOptions } from './engine-shard.js';
import type { LoadedScenario } from '../scenarios/load-scenario.js';
import type { ShardFinal, WindowReport } from './recorder.js';
import type { MonitorSample } from './self-monitor.js';

/** Messages between the main thread and an engine worker thread. */
/** A worker's engine options, but for its start: that is set once every worker has its scenario. */
export type WorkerOptions = Omit<ShardOptions, 'onWindow' | 'startAtEpochMs'>;

export type ToWorker =
  | { type: 'load'; loaded: LoadedScenario; options: WorkerOptions }
  | { type: 'start'; startAtEpochMs: number }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'window'; report: WindowReport; monitor: MonitorSample }
  | { type: 'final'; final: ShardFinal }
  | { type: 'error'; message: string };

const port = parentPort;
if (port) {
  let load: { loaded: LoadedScenario; options: WorkerOptions } | undefined;
  let shard: EngineShard | undefined;
  let stopped = false;
  const post = (m: FromWorker): void => port.postMessage(m);
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'stop') {
      stopped = true;
      shard?.stop();
      return;
    }
    if (msg.type === 'load') {
      // The scenario (its data rows too) is here and decoded: the run's start can be set now.
      load = msg;
      post({ type: 'ready' });
      return;
    }
    if (!load) throw new Error('engine worker: start before load');
    shard = new EngineShard(load.loaded, { ...load.options, startAtEpochMs: msg.startAtEpochMs, onWindow: (report, monitor) => post({ type: 'window', report, monitor }) });
    if (stopped) shard.stop();
    shard.run().then(
      (final) => {
        post({ type: 'final', final });
        port.close();
      },
      (err: unknown) => post({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) }),
    );
  });
}
