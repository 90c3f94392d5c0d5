import type { StreamSecond } from './stream-second.js';

/** A live destination for a run's seconds (docs/streaming.md). */
export interface StreamSink {
  /** Called as each second closes; must return at once (a slow destination never slows the load). */
  write(second: StreamSecond): void;
  /**
   * Sends what is left, waiting a bounded time. `summary` is one line for
   * stderr; `failed` when the destination is a file that could not be written.
   */
  close(): Promise<{ summary: string; failed: boolean }>;
}
