import type { Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { MSG, type PrimaryMessage, type WorkerMessage } from './cluster-messages.js';
import { RateLimitWindows, type RateLimitCounter, type RateLimitHit } from './rate-limit.js';

/** A worker that gets no count from the primary in this long lets the request through (skipOnError). */
const PRIMARY_ANSWER_MS = 1_000;
/** How often the primary forgets ended windows. */
const SWEEP_MS = 10_000;

/**
 * The rate limit's counters in embedded mode, kept by the primary so a client
 * has one budget however many workers its connections reach (with external
 * backends they are in Redis instead). Each limited request costs a worker
 * one IPC round trip to the primary.
 */
export function createClusterRateLimit(): { attach: (w: Worker) => void; close: () => void } {
  const windows = new RateLimitWindows();
  const sweeper = setInterval(() => windows.sweep(), SWEEP_MS);
  sweeper.unref();
  return {
    attach(w) {
      w.on('message', (m: WorkerMessage) => {
        if (m?.type !== MSG.rateLimitHit) return;
        const reply: PrimaryMessage = { type: MSG.rateLimitCount, id: m.id, ...windows.hit(m.key, m.windowMs) };
        if (w.isConnected()) w.send(reply);
      });
    },
    close: () => clearInterval(sweeper),
  };
}

/**
 * A worker's side: `counter` asks the primary; `onMessage` takes its answers.
 * `send` returns false when the message cannot go (the primary is gone): the
 * request is then refused the count at once (and let through) instead of
 * waiting for `PRIMARY_ANSWER_MS`; `disconnected` does the same for the
 * requests already waiting.
 */
export function clusterRateLimitClient(send: (m: WorkerMessage) => boolean): {
  counter: RateLimitCounter;
  onMessage: (m: PrimaryMessage) => void;
  disconnected: () => void;
} {
  const pending = new Map<string, { answer: (hit: RateLimitHit) => void; fail: (err: Error) => void }>();
  return {
    counter: (key, windowMs) => new Promise((resolve, reject) => {
      const id = randomUUID();
      const settle = (): void => {
        clearTimeout(timer);
        pending.delete(id);
      };
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`the primary did not count the request in ${PRIMARY_ANSWER_MS} ms`));
      }, PRIMARY_ANSWER_MS);
      pending.set(id, {
        answer: (hit) => { settle(); resolve(hit); },
        fail: (err) => { settle(); reject(err); },
      });
      if (!send({ type: MSG.rateLimitHit, id, key, windowMs })) pending.get(id)?.fail(new Error('the primary is gone'));
    }),
    onMessage(m) {
      if (m?.type === MSG.rateLimitCount) pending.get(m.id)?.answer({ current: m.current, ttl: m.ttl });
    },
    disconnected() {
      for (const p of [...pending.values()]) p.fail(new Error('the primary is gone'));
    },
  };
}
