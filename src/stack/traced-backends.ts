import type { Cache } from './cache.js';
import type { QueryHook } from './db.js';
import { inRecordedSpan, withSpan } from './tracing.js';

/** Statements are cut to this many characters in spans (a long IN list must not bloat every export). */
const MAX_STATEMENT = 500;

/**
 * A CLIENT span around every statement of a pool (DbOptions.hooks), named by
 * its operation (SELECT, UPDATE...), inside a request's or an order's span
 * only: the relay's and the reconciler's polls make no traces of their own.
 */
export const traceQuery: QueryHook = (info, run) => {
  if (!inRecordedSpan()) return run();
  const operation = /^\s*([A-Za-z]+)/.exec(info.text)?.[1]?.toUpperCase() ?? 'postgresql';
  return withSpan(operation, () => run(), {
    kind: 'client',
    attributes: {
      'db.system': 'postgresql', 'db.system.name': 'postgresql', 'db.operation.name': operation,
      'db.statement': info.text.length > MAX_STATEMENT ? `${info.text.slice(0, MAX_STATEMENT)}...` : info.text,
      'db.client.connection.pool.name': info.pool,
    },
  });
};

/** The cache with a CLIENT span per read and write (inside a request's span only); a read's span says hit, miss or error. */
export function tracedCache(cache: Cache, system: 'redis' | 'memory' | 'none'): Cache {
  const attributes = { 'db.system.name': system };
  return {
    ...cache,
    get: (key) => !inRecordedSpan() ? cache.get(key) : withSpan('cache get', async (span) => {
      const r = await cache.get(key);
      span.setAttributes({ 'cache.result': r.result });
      return r;
    }, { kind: 'client', attributes: { ...attributes, 'cache.key': key } }),
    set: (key, value) => !inRecordedSpan() ? cache.set(key, value) : withSpan('cache set', () => cache.set(key, value), { kind: 'client', attributes: { ...attributes, 'cache.key': key } }),
  };
}
