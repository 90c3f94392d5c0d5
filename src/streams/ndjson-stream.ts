import { open, type FileHandle } from 'node:fs/promises';
import { osReason } from '../commands/output-files.js';
import { printable } from '../shared/printable.js';
import type { StreamSecond } from './stream-second.js';
import type { StreamSink } from './stream-sink.js';

/**
 * `--stream ndjson=<file>`: one JSON line per second, written as the second
 * closes (no buffering in between, so `tail -f` shows it). The file is
 * replaced when the run starts. A write that fails is said once; the run
 * goes on and, when it would have succeeded, exits 8 (as for output files).
 */
export class NdjsonStream implements StreamSink {
  private chain: Promise<void> = Promise.resolve();
  private lines = 0;
  private failure: string | undefined;

  private constructor(
    private readonly handle: FileHandle,
    private readonly given: string,
    private readonly warn: (line: string) => void,
  ) {}

  /** Creates (or empties) the file now, so a file that cannot be written is known before the load. */
  static async open(path: string, given: string, warn: (line: string) => void): Promise<NdjsonStream> {
    return new NdjsonStream(await open(path, 'w'), given, warn);
  }

  write(second: StreamSecond): void {
    if (this.failure) return;
    const line = JSON.stringify(second.sample) + '\n';
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        await this.handle.write(line);
        this.lines++;
      } catch (err) {
        this.failure = osReason(err);
        this.warn(`scalectl: --stream ndjson: could not write ${printable(this.given)}: ${this.failure}; no more lines are written to it`);
      }
    });
  }

  async close(): Promise<{ summary: string; failed: boolean }> {
    await this.chain;
    await this.handle.close().catch(() => undefined);
    const lines = `${this.lines} line${this.lines === 1 ? '' : 's'}`;
    return {
      summary: this.failure ? `ndjson ${printable(this.given)}: ${lines} written, then failed (${this.failure})` : `ndjson: ${lines} written to ${printable(this.given)}`,
      failed: this.failure !== undefined,
    };
  }
}
