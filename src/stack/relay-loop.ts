/*
 * The loop both outbox relays run (orders to the job queue, events to the
 * broker): hand over a batch, again at once while batches come back full,
 * else after `pollMs`; after a failure, back off (doubling, at most 5 s).
 */

/** Longest wait between two attempts while the hand-over keeps failing. */
const MAX_BACKOFF_MS = 5_000;

export interface RelayLoop {
  /** Look now instead of at the next poll (ignored while failing: the backoff holds). */
  nudge: () => void;
  /** Stops after the current batch. */
  stop: () => Promise<void>;
}

export interface RelayLoopOptions {
  pollMs: number;
  /** A batch of this many rows means more may wait: the next one starts at once. */
  batch: number;
  /** A batch failed; `failures` counts the failures in a row, this one included. */
  onError: (err: unknown, failures: number) => void;
}

/** Runs `handOver` (which returns how many rows it moved) until stopped. */
export function startRelayLoop(handOver: () => Promise<number>, opts: RelayLoopOptions): RelayLoop {
  let stopped = false;
  let wake: (() => void) | undefined;
  let pending = false;
  let failures = 0;

  const wait = (ms: number): Promise<void> => new Promise((resolve) => {
    if (pending) {
      pending = false;
      resolve();
      return;
    }
    const timer = setTimeout(() => { wake = undefined; resolve(); }, ms);
    wake = () => { clearTimeout(timer); wake = undefined; resolve(); };
  });

  const loop = (async () => {
    while (!stopped) {
      let moved = 0;
      try {
        moved = await handOver();
        failures = 0;
      } catch (err) {
        failures++;
        opts.onError(err, failures);
      }
      if (stopped) break;
      if (moved < opts.batch) await wait(failures ? Math.min(MAX_BACKOFF_MS, opts.pollMs * 2 ** failures) : opts.pollMs);
    }
  })();

  return {
    nudge() {
      if (failures > 0) return;
      if (wake) wake();
      else pending = true;
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
