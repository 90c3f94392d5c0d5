import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startStackProcess, type StackProcess } from '../helpers/shop.js';

// Embedded backends, two workers: the primary counts every worker's requests,
// so a client has one budget whichever worker its connections reach.
let stack: StackProcess;
const LIMIT = 10;

beforeAll(async () => {
  stack = await startStackProcess(['--workers', '2', '--products', '50', '--rate-limit', String(LIMIT), '--rate-limit-key', 'client-id', '--log-level', 'warn']);
});
afterAll(async () => {
  const exited = stack?.stop('SIGTERM');
  const timer = setTimeout(() => stack?.child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
});

/** Requests on fresh connections (the cluster hands them to the workers in turn) until the first 429. */
async function untilLimited(headers: Record<string, string>): Promise<{ status: number; remaining: number; resetSec: number }[]> {
  const answers: { status: number; remaining: number; resetSec: number }[] = [];
  for (let i = 0; i < 4 * LIMIT; i++) {
    const r = await http(`${stack.url}/api/flash-sale`, { fresh: true, headers });
    answers.push({ status: r.status, remaining: Number(r.headers['x-ratelimit-remaining']), resetSec: Number(r.headers['x-ratelimit-reset']) });
    if (r.status === 429) break;
  }
  return answers;
}

describe('rate limit across cluster workers (embedded backends)', () => {
  it('fresh connections reach both workers', async () => {
    const pids = new Set<number>();
    for (let i = 0; i < 4; i++) pids.add((await http(`${stack.url}/healthz`, { fresh: true })).json.pid);
    expect(pids.size).toBe(2);
  });

  /**
   * A window lasts 1 s from a client's first request; if one ends during the sequence (a very slow
   * machine), its counts start again and the sequence is measured again, in a new window: once the
   * window the shop reported last (X-RateLimit-Reset) is over, for a key that stays the same.
   */
  async function expectOneBudget(headers: (attempt: number) => Record<string, string>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const answers = await untilLimited(headers(attempt));
      const remaining = answers.filter((a) => a.status === 200).map((a) => a.remaining);
      const windowEnded = remaining.some((r, i) => i > 0 && r > remaining[i - 1]!);
      if (windowEnded && attempt < 3) {
        await new Promise((r) => setTimeout(r, (answers.at(-1)!.resetSec + 0.1) * 1000));
        continue;
      }
      // Counted per worker, each would allow LIMIT: 2 × LIMIT answers before the first 429, remaining 9, 9, 8, 8, ...
      expect(answers.map((a) => a.status)).toEqual([...Array(LIMIT).fill(200), 429]);
      expect(remaining).toEqual(Array.from({ length: LIMIT }, (_, i) => LIMIT - 1 - i));
      return;
    }
  }

  it('holds one budget per client across workers: the limit, then 429', async () => {
    await expectOneBudget((attempt) => ({ 'x-client-id': `client-${attempt}-${Date.now()}` }));
  });

  it('holds one budget per address across workers when no x-client-id is sent (the address key, the default)', async () => {
    await expectOneBudget(() => ({}));
  });
});
