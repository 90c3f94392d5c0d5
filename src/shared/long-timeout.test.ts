import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { longTimeout, MAX_TIMER_MS, pause } from './long-timeout.js';

describe('longTimeout', () => {
  beforeEach(() => {
    // The fake timers treat a delay past 2^31 − 1 as Node does: 1 ms.
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits a delay past setTimeout\'s limit in full, then calls once', () => {
    const fn = vi.fn();
    const ms = 900 * 3_600_000 + 1234;
    expect(ms).toBeGreaterThan(MAX_TIMER_MS);
    longTimeout(fn, ms);
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(ms - MAX_TIMER_MS - 1);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10 * MAX_TIMER_MS);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('calls a short or negative delay like setTimeout, and is cancelled in any step', () => {
    const short = vi.fn();
    longTimeout(short, -5);
    vi.advanceTimersByTime(0);
    expect(short).toHaveBeenCalledTimes(1);
    const cancelled = vi.fn();
    const cancel = longTimeout(cancelled, 2 * MAX_TIMER_MS + 10);
    vi.advanceTimersByTime(MAX_TIMER_MS + 1);
    cancel();
    vi.advanceTimersByTime(3 * MAX_TIMER_MS);
    expect(cancelled).not.toHaveBeenCalled();
  });
});

describe('pause', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves after its delay, or at once when its signal aborts (before or during), and leaves no timer', async () => {
    let done = false;
    void pause(1000, new AbortController().signal).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);

    const ac = new AbortController();
    let cut = false;
    void pause(MAX_TIMER_MS * 3, ac.signal).then(() => (cut = true));
    await vi.advanceTimersByTimeAsync(5);
    ac.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(cut).toBe(true);
    expect(vi.getTimerCount()).toBe(0);

    await expect(pause(1000, ac.signal)).resolves.toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });
});
