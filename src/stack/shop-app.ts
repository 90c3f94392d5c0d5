import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { pid } from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import helmet from '@fastify/helmet';
import { isDbUnavailable, isPoolTimeout } from './db.js';
import { countOverdueOrders } from './order-processing.js';
import { registerRateLimit } from './rate-limit.js';
import { traceRequests } from './request-tracing.js';
import { catalogRoutes } from './routes/catalog.js';
import { orderRoutes } from './routes/orders.js';
import type { ShopDeps } from './shop-deps.js';
import { traceFields } from './tracing.js';

/** An incoming x-request-id is kept only when it is short and plain; otherwise a new one is made. */
const REQUEST_ID_RE = /^[\w.:-]{1,128}$/;

/** Retry-After (seconds) while the database is down: an embedded restart takes a few seconds. */
const DB_DOWN_RETRY_AFTER_S = 5;

/** Database and cache checks in /readyz give up after this long. */
const READY_CHECK_MS = 1_000;

/** pino options with every line written inside a span carrying its trace_id and span_id (a pino instance is used as given). */
function withTraceIds(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger) return logger;
  if (logger === true) return { mixin: traceFields };
  return typeof (logger as { child?: unknown }).child === 'function' ? logger : { ...logger, mixin: traceFields };
}

const withDeadline = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, sleep(ms, undefined, { ref: false }).then(() => { throw new Error(`no answer in ${ms} ms`); })]);

/**
 * The shop's HTTP app: catalog, carts, checkout and orders under /api, and
 * /healthz, /readyz, /metrics for operators. `logger` is pino's options (or
 * false in tests).
 */
export async function buildShopApp(deps: ShopDeps, logger: FastifyServerOptions['logger']): Promise<FastifyInstance> {
  const app = Fastify({
    logger: withTraceIds(logger),
    bodyLimit: deps.config.bodyLimit,
    // Every request is logged at debug level below, once, with its id, status and time.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
    },
    // Bodies are validated exactly as sent: no type coercion, extra fields rejected, not stripped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    forceCloseConnections: 'idle',
    // X-Forwarded-For is believed only from these proxies (req.ip, the rate limit's client); by default no one's.
    trustProxy: deps.config.trustProxy ?? false,
    // Requests arriving on open connections while draining are still served (each then closes
    // its connection), and /readyz answers 503 "draining" itself.
    return503OnClosing: false,
  });

  // First: every later hook, the handler and its log lines run in the request's span.
  traceRequests(app, { untraced: ['/healthz', '/readyz', '/metrics'] });
  const counted = new WeakSet<object>();
  const done = (req: object): void => {
    if (counted.delete(req)) deps.metrics.inFlight.dec();
  };
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    if (req.url.startsWith('/api/')) {
      counted.add(req);
      deps.metrics.inFlight.inc();
      // The close of the response is the one event every request ends with: a client hanging up after its body
      // was read fires neither onRequestAbort (Node marks only an unread body aborted) nor onResponse.
      // Bound to this request's context, so the line carries its trace id (the socket's close event has none).
      reply.raw.once('close', AsyncResource.bind(() => {
        if (reply.raw.writableFinished) return;
        done(req);
        // The drain's deadline closes the connections it could not finish: not the client's doing.
        const why = deps.draining() ? 'request cut by the drain deadline' : 'request aborted by the client';
        req.log.info({ method: req.method, url: req.url, ms: Math.round(reply.elapsedTime * 100) / 100 }, why);
      }));
    }
  });
  // While draining, each answer closes its connection, so keep-alive clients move to another worker and the server can finish.
  app.addHook('onSend', async (_req, reply) => {
    if (deps.draining()) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (req, reply) => {
    done(req);
    const route = req.routeOptions.url ?? 'unmatched';
    deps.metrics.requestDuration.observe({ method: req.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    req.log.debug({ method: req.method, url: req.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 }, 'request');
  });

  await app.register(helmet, { contentSecurityPolicy: false });
  await registerRateLimit(app, deps);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (isPoolTimeout(err)) {
      req.log.warn('no database connection free in time; answered 503');
      return reply.status(503).header('retry-after', '1').send({ error: 'overloaded', message: 'the shop is busy; retry shortly', requestId: req.id });
    }
    if (isDbUnavailable(err)) {
      req.log.warn({ err: err.message }, 'database unavailable; answered 503');
      return reply.status(503).header('retry-after', String(DB_DOWN_RETRY_AFTER_S)).send({ error: 'unavailable', message: 'the database is unavailable; retry shortly', requestId: req.id });
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) {
      req.log.error({ err }, 'request failed');
      return reply.status(status).send({ error: 'internal_error', message: 'something went wrong; quote the request id when reporting it', requestId: req.id });
    }
    const code = status === 413 ? 'body_too_large' : status === 429 ? 'rate_limited' : err.validation ? 'invalid_request' : 'bad_request';
    return reply.status(status).send({ error: code, message: err.message, requestId: req.id });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  const ops = { config: { rateLimit: false } } as const;
  // The pid says which worker answered (round robin spreads requests over them).
  app.get('/healthz', ops, async () => ({ status: 'ok', pid }));
  app.get('/readyz', ops, async (_req, reply) => {
    if (deps.draining()) return reply.status(503).send({ status: 'draining' });
    // The overdue-orders count doubles as the database check.
    const [overdue, cache] = await Promise.all([
      withDeadline(countOverdueOrders(deps.db), READY_CHECK_MS).catch(() => undefined),
      withDeadline(deps.cache.health(), READY_CHECK_MS).catch(() => 'down' as const),
    ]);
    const db = overdue === undefined ? 'down' as const : 'ok' as const;
    const orders = overdue === undefined ? 'unknown' as const : overdue > 0 ? 'overdue' as const : 'ok' as const;
    // Without PostgreSQL nothing works; without the cache, reads are slower but served; overdue orders are late, not lost.
    const status = db === 'down' ? 'down' : cache === 'down' || orders === 'overdue' ? 'degraded' : 'ok';
    return reply.status(db === 'down' ? 503 : 200).send({ status, db, cache, orders });
  });
  app.get('/metrics', ops, async (_req, reply) => {
    const m = await deps.metricsText();
    return reply.type(m.contentType).send(m.body);
  });

  await app.register(async (api) => {
    if (deps.config.downstreamLatency > 0) {
      // A simulated call to a downstream service (pricing, fraud) on every API request.
      api.addHook('preHandler', async () => {
        await sleep(deps.config.downstreamLatency);
      });
    }
    catalogRoutes(api, deps);
    orderRoutes(api, deps);
  });
  return app;
}
