import type { FastifyInstance, FastifyRequest } from 'fastify';
import { startSpan, type ActiveSpan } from './tracing.js';

/**
 * A SERVER span per request, named by its route pattern (`GET
 * /api/products/:id`), continuing the caller's W3C traceparent and tracestate (a malformed
 * one is ignored: a new trace starts). The rest of the request runs in the
 * span: hooks re-enter it where fastify continues from a socket callback
 * (after the body is read, when the answer is sent), so statements, cache
 * reads and log lines of the request belong to it. Registered first, so
 * every later hook runs inside. `untraced` routes (probes and scrapes, every
 * few seconds) get no span: they would bury the traces worth reading.
 */
export function traceRequests(app: FastifyInstance, opts: { untraced?: readonly string[] } = {}): void {
  const spans = new WeakMap<FastifyRequest, ActiveSpan>();
  const untraced = new Set(opts.untraced ?? []);
  const reenter = (req: FastifyRequest, done: () => void): void => {
    const span = spans.get(req);
    if (span) span.enter(done);
    else done();
  };
  app.addHook('onRequest', (req, reply, done) => {
    const route = req.routeOptions.url;
    if (route !== undefined && untraced.has(route)) return done();
    const { traceparent, tracestate } = req.headers;
    const span = startSpan(route ? `${req.method} ${route}` : req.method, {
      kind: 'server',
      parent: typeof traceparent === 'string' ? traceparent : undefined,
      // A list header may come as several lines: W3C joins them with commas.
      tracestate: Array.isArray(tracestate) ? tracestate.join(',') : tracestate,
      attributes: { 'http.request.method': req.method, 'http.route': route ?? '', 'url.path': req.url.split('?')[0]!, 'scalectl.request_id': req.id },
    });
    spans.set(req, span);
    // A client hanging up mid-handler after its body was read fires no onRequestAbort (Node marks only an unread
    // body aborted) and no onResponse: the socket's close is the one event every request ends with.
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return span.end(reply.statusCode >= 500);
      span.setAttributes({ 'scalectl.aborted': true });
      span.end(true);
    });
    span.enter(done);
  });
  app.addHook('preValidation', (req, _reply, done) => reenter(req, done));
  app.addHook('onSend', (req, _reply, payload, done) => reenter(req, () => done(null, payload)));
  app.addHook('onResponse', (req, reply, done) => {
    const span = spans.get(req);
    span?.setAttributes({ 'http.response.status_code': reply.statusCode });
    span?.end(reply.statusCode >= 500);
    reenter(req, done);
  });
}
