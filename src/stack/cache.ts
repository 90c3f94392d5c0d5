import { LRUCache } from 'lru-cache';
import { Redis } from 'ioredis';

/**
 * The cache behind cache-aside product reads. A cache that fails answers like
 * a miss (the caller falls back to PostgreSQL); `get` reports which it was.
 */
export interface Cache {
  get: (key: string) => Promise<{ result: 'hit'; value: string } | { result: 'miss' | 'error' }>;
  /** Best effort: a failed write is ignored. */
  set: (key: string, value: string) => Promise<void>;
  /** 'ok', or 'down' when the cache cannot be reached (reads still work, from the database). */
  health: () => Promise<'ok' | 'down'>;
  /** Waits up to `ms` for the connection (a cache still connecting answers every read as an error). */
  connected?: (ms: number) => Promise<void>;
  close: () => Promise<void>;
}

/** Resolves when the client is connected, or after `ms` (then the shop starts degraded and keeps retrying). */
export function redisReady(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    redis.once('ready', done);
  });
}

/** Per-worker in-memory LRU (embedded backends). */
export function createMemoryCache(opts: { maxEntries: number; ttlMs: number }): Cache {
  const lru = new LRUCache<string, string>({ max: opts.maxEntries, ttl: Math.max(1, opts.ttlMs) });
  return {
    get: async (key) => {
      const value = lru.get(key);
      return value === undefined ? { result: 'miss' } : { result: 'hit', value };
    },
    set: async (key, value) => void lru.set(key, value),
    health: async () => 'ok',
    close: async () => lru.clear(),
  };
}

/** Commands wait at most this long; an outage must cost a request milliseconds, not seconds. */
const COMMAND_TIMEOUT_MS = 250;

/**
 * ioredis settings for request-path clients: no offline queue and a command
 * timeout, so a Redis outage fails fast instead of stacking up requests.
 */
export function fastFailRedis(url: string, keyPrefix?: string, commandTimeoutMs = COMMAND_TIMEOUT_MS): Redis {
  const redis = new Redis(url, {
    keyPrefix,
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    // Keep trying to come back, at most once a second.
    retryStrategy: (times) => Math.min(times * 100, 1_000),
    lazyConnect: false,
  });
  // Errors surface on commands; the connection's own 'error' events are expected during an outage.
  redis.on('error', () => undefined);
  return redis;
}

/** Redis (external backends), shared by all workers; keys are `<prefix>:cache:<key>`. */
export function createRedisCache(opts: { url: string; keyPrefix: string; ttlMs: number }): Cache {
  const redis = fastFailRedis(opts.url, `${opts.keyPrefix}:cache:`);
  return {
    get: async (key) => {
      try {
        const value = await redis.get(key);
        return value === null ? { result: 'miss' } : { result: 'hit', value };
      } catch {
        return { result: 'error' };
      }
    },
    set: async (key, value) => {
      await redis.set(key, value, 'PX', Math.max(1, Math.round(opts.ttlMs))).catch(() => undefined);
    },
    health: async () => (redis.status === 'ready' && (await redis.ping().then(() => true, () => false)) ? 'ok' : 'down'),
    connected: (ms) => redisReady(redis, ms),
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** A cache that is turned off: every read is a miss. */
export function createNoCache(): Cache {
  return {
    get: async () => ({ result: 'miss' }),
    set: async () => undefined,
    health: async () => 'ok',
    close: async () => undefined,
  };
}
