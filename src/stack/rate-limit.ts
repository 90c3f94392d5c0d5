import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ShopDeps } from './shop-deps.js';
import type { StackConfig } from './stack-config.js';

/** The limit counts requests in windows of this long: `rateLimit` is per second. */
export const RATE_LIMIT_WINDOW_MS = 1_000;

/** A client's count in its current window, as @fastify/rate-limit's stores answer. */
export interface RateLimitHit {
  /** Requests in the window so far, this one included. */
  current: number;
  /** Milliseconds until the window ends. */
  ttl: number;
}

/** Counts one request against a budget shared by every worker (the primary's, over IPC). */
export type RateLimitCounter = (key: string, windowMs: number) => Promise<RateLimitHit>;

/**
 * Who a client is. By default its connection's address: a header the client
 * writes itself (x-client-id, X-Forwarded-For) would let it pick a fresh
 * budget per request. Behind a `trustProxy`, Fastify's `req.ip` is the address
 * the proxy forwarded. With `rateLimitKey: client-id` (load tests simulating
 * many users from one machine) the x-client-id header comes first.
 */
export function rateLimitKey(req: FastifyRequest, config: Pick<StackConfig, 'rateLimitKey' | 'trustProxy'>): string {
  if (config.rateLimitKey === 'client-id') {
    const client = req.headers['x-client-id'];
    if (typeof client === 'string' && client) return `client:${client.slice(0, 128)}`;
  }
  return `ip:${config.trustProxy ? req.ip : req.socket.remoteAddress ?? 'unknown'}`;
}

/**
 * Fixed windows per client, kept in one place for every worker (the
 * primary): a window starts at a client's first request and lasts
 * `windowMs`, like @fastify/rate-limit's own stores.
 */
export class RateLimitWindows {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();

  hit(key: string, windowMs: number, now = Date.now()): RateLimitHit {
    let w = this.windows.get(key);
    if (!w || w.endsAt <= now) {
      w = { count: 0, endsAt: now + windowMs };
      this.windows.set(key, w);
    }
    w.count++;
    return { current: w.count, ttl: w.endsAt - now };
  }

  /** Forgets ended windows, so clients that went away cost no memory. */
  sweep(now = Date.now()): void {
    for (const [key, w] of this.windows) if (w.endsAt <= now) this.windows.delete(key);
  }

  get size(): number {
    return this.windows.size;
  }
}

/** A @fastify/rate-limit store that asks `counter` (the primary) instead of counting in this process. */
function counterStore(counter: RateLimitCounter) {
  return class CounterStore {
    incr(key: string, done: (err: Error | null, hit?: RateLimitHit) => void, windowMs = RATE_LIMIT_WINDOW_MS): void {
      counter(key, windowMs).then((hit) => done(null, hit), (err: unknown) => done(err instanceof Error ? err : new Error(String(err))));
    }

    child(): CounterStore {
      return this;
    }
  };
}

/**
 * `rateLimit` requests per second per client on /api (routes configured with
 * `rateLimit: false` are not limited). One budget per client across the
 * workers: in Redis with external backends, counted by the primary in a
 * cluster, in this process otherwise (a worker started alone, in tests).
 */
export async function registerRateLimit(app: FastifyInstance, deps: Pick<ShopDeps, 'config' | 'rateLimitRedis' | 'rateLimitCounter'>): Promise<void> {
  const { config } = deps;
  if (config.rateLimit <= 0) return;
  const shared = deps.rateLimitRedis
    ? { redis: deps.rateLimitRedis, nameSpace: `${config.keyPrefix}:ratelimit:` }
    : deps.rateLimitCounter ? { store: counterStore(deps.rateLimitCounter) } : {};
  await app.register(rateLimit, {
    max: config.rateLimit,
    timeWindow: RATE_LIMIT_WINDOW_MS,
    keyGenerator: (req) => rateLimitKey(req, config),
    ...shared,
    // A Redis outage, or a primary slow to answer, must not take the shop down with it.
    skipOnError: true,
  });
}
