import { randomBytes } from 'node:crypto';
import type { LoadOptions } from '../engine/run-load.js';
import type { Endpoint } from '../engine/compiled-scenario.js';
import { NdjsonStream } from './ndjson-stream.js';
import { RemoteWriteStream } from './remote-write-stream.js';
import { streamSecond, type CheckCounts } from './stream-second.js';
import type { StreamSink } from './stream-sink.js';
import type { StreamSpec } from './stream-spec.js';

/** A run id: 12 hex digits, new for each run, labelling every line and series it streams. */
export function newRunId(): string {
  return randomBytes(6).toString('hex');
}

/** The run's `--stream` destinations, fed as each second closes. */
export class LiveStreams {
  private constructor(
    private readonly sinks: StreamSink[],
    private readonly run: { runId: string; scenario: string; endpoints: readonly Endpoint[] },
  ) {}

  /**
   * Opens every destination: ndjson files are created now (`paths` maps a
   * stream's destination to the absolute path OutputFiles checked).
   */
  static async open(
    specs: readonly StreamSpec[],
    run: { runId: string; scenario: string; endpoints: readonly Endpoint[] },
    paths: (destination: string) => string,
    warn: (line: string) => void,
  ): Promise<LiveStreams> {
    const sinks: StreamSink[] = [];
    for (const spec of specs) {
      if (spec.kind === 'ndjson') sinks.push(await NdjsonStream.open(paths(spec.destination), spec.destination, warn));
      else sinks.push(new RemoteWriteStream(spec.destination, run, warn));
    }
    return new LiveStreams(sinks, run);
  }

  /** For LoadOptions.onPoint: one second to every destination. Returns at once. */
  readonly onPoint: NonNullable<LoadOptions['onPoint']> = (point, _live, hist, detail) => {
    const second = streamSecond(this.run, point as typeof point & { checks?: CheckCounts }, hist, detail, Date.now());
    for (const sink of this.sinks) sink.write(second);
  };

  /** Sends what is left (bounded waits, all destinations at once); one summary line each. */
  async close(): Promise<{ summaries: string[]; failed: boolean }> {
    const done = await Promise.all(this.sinks.map((s) => s.close()));
    return { summaries: done.map((d) => d.summary), failed: done.some((d) => d.failed) };
  }
}
