import { parentPort } from 'node:worker_threads';
import { EngineShard, type ShardOptions } from './engine-shard.js';
import type { LoadedScenario } from '../scenarios/load-scenario.js';
import type { ShardFinal, WindowReport } from './recorder.js';
import type { MonitorSample } from './self-monitor.js';

/** Messages between the main thread and an engine worker thread. */
export type ToWorker =
  | { type: 'start'; loaded: LoadedScenario; options: Omit<ShardOptions, 'onWindow'> }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'window'; report: WindowReport; monitor: MonitorSample }
  | { type: 'final'; final: ShardFinal }
  | { type: 'error'; message: string };

const port = parentPort;
if (port) {
  let shard: EngineShard | undefined;
  const post = (m: FromWorker): void => port.postMessage(m);
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'stop') {
      shard?.stop();
      return;
    }
    shard = new EngineShard(msg.loaded, { ...msg.options, onWindow: (report, monitor) => post({ type: 'window', report, monitor }) });
    shard.run().then(
      (final) => {
        post({ type: 'final', final });
        port.close();
      },
      (err: unknown) => post({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) }),
    );
  });
  // Loaded (this module and the engine's): the run's start can be set now, not guessed.
  post({ type: 'ready' });
}
