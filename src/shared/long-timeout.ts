/**
 * setTimeout's longest delay, milliseconds (2^31 − 1, about 24.8 days): Node
 * fires a longer one after 1 ms, with a TimeoutOverflowWarning.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fn` once `ms` milliseconds have passed, however many: a delay past
 * MAX_TIMER_MS is waited in steps of at most that. A negative or NaN delay
 * is 0; Infinity never fires. `unref`: the wait does not keep the process
 * alive. Returns a function that cancels it.
 */
export function longTimeout(fn: () => void, ms: number, opts: { unref?: boolean } = {}): () => void {
  let left = ms > 0 ? ms : 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const step = Math.min(left, MAX_TIMER_MS);
    left -= step;
    timer = setTimeout(left > 0 ? arm : fn, step);
    if (opts.unref) timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}

/** Resolves after `ms` milliseconds (any length), or as soon as `signal` aborts; never rejects. Keeps the process alive meanwhile. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      cancel();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const cancel = longTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
