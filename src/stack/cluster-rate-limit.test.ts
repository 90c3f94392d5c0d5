import { afterEach, describe, expect, it, vi } from 'vitest';
import { MSG, type WorkerMessage } from './cluster-messages.js';
import { clusterRateLimitClient } from './cluster-rate-limit.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Follows `p` from now on; `now()` says whether it has settled once pending callbacks ran (no timer is advanced). */
function track(p: Promise<unknown>): { now: () => Promise<'resolved' | 'rejected' | 'pending'> } {
  let state: 'resolved' | 'rejected' | 'pending' = 'pending';
  p.then(() => (state = 'resolved'), () => (state = 'rejected'));
  return {
    async now() {
      await vi.advanceTimersByTimeAsync(0);
      return state;
    },
  };
}

describe('clusterRateLimitClient', () => {
  it('counts through the primary while it is there', async () => {
    vi.useFakeTimers();
    const sent: WorkerMessage[] = [];
    const client = clusterRateLimitClient((m) => (sent.push(m), true));
    const hit = client.counter('127.0.0.1', 1_000);
    const ask = sent[0] as Extract<WorkerMessage, { type: typeof MSG.rateLimitHit }>;
    expect(ask).toMatchObject({ type: MSG.rateLimitHit, key: '127.0.0.1', windowMs: 1_000 });
    client.onMessage({ type: MSG.rateLimitCount, id: ask.id, current: 3, ttl: 900 });
    await expect(hit).resolves.toEqual({ current: 3, ttl: 900 });
  });

  it('fails at once when the primary is gone, without waiting for the answer timeout', async () => {
    vi.useFakeTimers();
    const client = clusterRateLimitClient(() => false);
    const hit = client.counter('127.0.0.1', 1_000);
    expect(await track(hit).now()).toBe('rejected');
    await expect(hit).rejects.toThrow('the primary is gone');
  });

  it('fails the requests already waiting when the channel disconnects', async () => {
    vi.useFakeTimers();
    const client = clusterRateLimitClient(() => true);
    const hits = [client.counter('a', 1_000), client.counter('b', 1_000)].map(track);
    expect(await hits[0]!.now()).toBe('pending');
    client.disconnected();
    for (const hit of hits) expect(await hit.now()).toBe('rejected');
  });
});
