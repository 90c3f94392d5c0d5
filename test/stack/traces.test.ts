import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceRequests } from '../../src/stack/request-tracing.js';
import type { StackConfig } from '../../src/stack/stack-config.js';
import { FLUSH_MS, startTracing } from '../../src/stack/trace-export.js';
import { recording, withSpan } from '../../src/stack/tracing.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { runScenario } from '../helpers/cli.js';
import { buy, dropRunData, eventually, http, metricLines, PG_URL, REDIS_URL, startInProcessShop, startStackProcess, uniqueName, type InProcessShop } from '../helpers/shop.js';

// In-process shops on the machine's PostgreSQL and Redis (a schema and key prefix of their own each),
// exporting to an OTLP receiver in this process; their pino lines are kept to look for trace ids.

const traceId = (): string => randomBytes(16).toString('hex');
const spanId = (): string => randomBytes(8).toString('hex');
const traceparent = (t: string, s: string): string => `00-${t}-${s}-01`;

interface LogLine { msg: string; level: number; reqId?: string; trace_id?: string; span_id?: string; [k: string]: unknown }

/** pino options writing to an array of parsed lines. */
function capturedLogger(): { logger: { level: string; stream: { write: (s: string) => void } }; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { lines, logger: { level: 'debug', stream: { write: (s) => void lines.push(JSON.parse(s) as LogLine) } } };
}

/** A port nothing listens on (taken from the OS, then closed): a collector that is down. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const FLAGS = { logLevel: 'debug', rateLimit: '0', jobDuration: '10ms' };

describe('traces: a shop exporting to an OTLP receiver', () => {
  const name = uniqueName();
  let receiver: OtlpReceiver;
  let shop: InProcessShop;
  const log = capturedLogger();

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // The traces endpoint itself (used as given); the processes' test below gives the base URL (/v1/traces added).
    shop = await startInProcessShop(name, { ...FLAGS, otlpEndpoint: `${receiver.url}/v1/traces` }, log.logger);
  });
  afterAll(async () => {
    await shop?.stop();
    await receiver?.close();
    await dropRunData(name);
  });

  const serverSpan = async (trace: string, route: string): Promise<ReceivedSpan> => {
    let found: ReceivedSpan | undefined;
    await eventually(async () => (found = receiver.trace(trace).find((s) => s.kind === 'server' && s.name === route)) !== undefined, 10_000, `a server span ${route} in trace ${trace}`);
    return found!;
  };

  it('continues the caller\'s trace: a SERVER span per request, with DB and cache spans under it, and trace ids in its log lines', async () => {
    const [t, parent] = [traceId(), spanId()];
    const res = await http(`${shop.url}/api/products/7`, { headers: { traceparent: traceparent(t, parent), tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7', 'x-request-id': `traced-${t}` } });
    expect(res.status).toBe(200);
    expect(res.headers['x-cache']).toBe('miss');

    const server = await serverSpan(t, 'GET /api/products/:id');
    expect(server.parentSpanId).toBe(parent);
    // The caller's tracestate is kept (W3C: the span carries it on).
    expect(server.traceState).toBe('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    expect(server.attributes['http.response.status_code']).toBe(200);
    expect(server.resource['service.name']).toBe('scalectl-shop');
    // The batch that carried the server span carried its children too (they ended before it).
    const children = receiver.trace(t).filter((s) => s.parentSpanId === server.spanId);
    const db = children.filter((s) => s.kind === 'client' && s.attributes['db.system'] === 'postgresql');
    expect(db.map((s) => s.name)).toEqual(['SELECT']);
    expect(String(db[0]!.attributes['db.statement'])).toContain('FROM products WHERE id = $1');
    expect(db[0]!.attributes['db.client.connection.pool.name']).toBe('primary');
    const cache = children.filter((s) => s.name.startsWith('cache '));
    expect(cache.map((s) => `${s.name} ${String(s.attributes['cache.result'] ?? '')}`.trim()).sort()).toEqual(['cache get miss', 'cache set']);

    // The request's log line (logLevel debug logs every request) names the trace and the server span.
    const lines = log.lines.filter((l) => l.reqId === `traced-${t}`);
    expect(lines.some((l) => l.msg === 'request')).toBe(true);
    for (const l of lines) expect({ trace_id: l.trace_id, span_id: l.span_id }).toEqual({ trace_id: t, span_id: server.spanId });
  });

  it('follows an order across the queue: the consumer\'s span joins the checkout\'s trace', async () => {
    const [t, parent] = [traceId(), spanId()];
    const res = await http(`${shop.url}/api/checkout`, {
      body: { items: [{ productId: 20, qty: 1 }] }, headers: { traceparent: traceparent(t, parent), 'idempotency-key': randomBytes(8).toString('hex') },
    });
    expect(res.status).toBe(202);
    const server = await serverSpan(t, 'POST /api/checkout');
    expect(server.parentSpanId).toBe(parent);
    // The order keeps the request's traceparent (the server span's ids), and its event too.
    const stored = await shop.db.query<{ traceparent: string }>('SELECT traceparent FROM orders WHERE id = $1', [res.json.orderId]);
    expect(stored.rows[0]!.traceparent).toBe(traceparent(t, server.spanId));

    let consumer: ReceivedSpan | undefined;
    // The event consumers' spans (analytics OrderCreated...) are CONSUMER spans of the trace too.
    await eventually(async () => (consumer = receiver.trace(t).find((s) => s.kind === 'consumer' && s.name === 'order process')) !== undefined, 10_000, 'the order consumer\'s span');
    expect(consumer!.parentSpanId).toBe(server.spanId);
    expect(consumer!.attributes['scalectl.order_id']).toBe(res.json.orderId);
    // The relay's hand-over to the queue is a PRODUCER span in the same trace.
    const producer = receiver.trace(t).find((s) => s.kind === 'producer');
    expect([producer?.name, producer?.parentSpanId, producer?.attributes['scalectl.order_id']]).toEqual(['order enqueue', server.spanId, res.json.orderId]);
    // The statement that marks the order done belongs to the consumer's span.
    await eventually(async () => receiver.trace(t).some((s) => s.parentSpanId === consumer!.spanId && s.name === 'UPDATE'), 5_000, 'the consumer\'s UPDATE span');
    // The checkout's own statements (a transaction) are the server span's children.
    expect(receiver.trace(t).filter((s) => s.parentSpanId === server.spanId && s.kind === 'client').length).toBeGreaterThanOrEqual(3);
  });

  it('ends the span and the in-flight count of a checkout whose client hangs up while the handler waits', async () => {
    const inFlight = async (): Promise<number> => {
      const m = metricLines((await http(`${shop.url}/metrics`)).text);
      return [...m].filter(([k]) => k.startsWith('shop_http_requests_in_flight')).reduce((a, [, v]) => a + v, 0);
    };
    const t = traceId();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    // Holds product 21's row: the checkout's stock update waits on it, with its body read.
    const holder = shop.db.transaction(async (c) => {
      await c.query('SELECT 1 FROM products WHERE id = 21 FOR UPDATE');
      locked();
      await released;
    });
    try {
      await isLocked;
      const body = JSON.stringify({ items: [{ productId: 21, qty: 1 }] });
      const req = request(`${shop.url}/api/checkout`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'x-request-id': `gone-${t}`, traceparent: traceparent(t, spanId()), 'idempotency-key': randomBytes(8).toString('hex') },
      });
      req.on('error', () => undefined);
      req.end(body);
      await eventually(async () => (await inFlight()) === 1, 5_000, 'the checkout in flight');
      req.destroy();
      await eventually(async () => (await inFlight()) === 0, 5_000, 'the in-flight gauge back to 0');
      const server = await serverSpan(t, 'POST /api/checkout');
      expect([server.status, server.attributes['scalectl.aborted']]).toEqual(['error', true]);
      expect(log.lines.some((l) => l.msg === 'request aborted by the client' && l.reqId === `gone-${t}`)).toBe(true);
    } finally {
      release();
      await holder;
    }
  });

  it('logs an order that failed its last attempt with the order\'s trace id', async () => {
    // Refuses to start processing orders of product 23: every attempt fails (5 attempts, about 3 s of retries).
    await shop.db.query(`CREATE FUNCTION refuse_processing() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'test: processing refused'; END $$;
      CREATE TRIGGER refuse_processing BEFORE UPDATE ON orders FOR EACH ROW WHEN (NEW.status = 'processing' AND NEW.items @> '[{"productId": 23}]') EXECUTE FUNCTION refuse_processing()`);
    try {
      const t = traceId();
      const res = await http(`${shop.url}/api/checkout`, {
        body: { items: [{ productId: 23, qty: 1 }] }, headers: { traceparent: traceparent(t, spanId()), 'idempotency-key': randomBytes(8).toString('hex') },
      });
      expect(res.status).toBe(202);
      let line: LogLine | undefined;
      await eventually(async () => (line = log.lines.find((l) => l.msg === 'order failed its last attempt' && l.orderId === res.json.orderId)) !== undefined, 15_000, 'the give-up line');
      expect(line!.trace_id).toBe(t);
    } finally {
      await shop.db.query('DROP TRIGGER refuse_processing ON orders; DROP FUNCTION refuse_processing()');
    }
  });

  it('ignores a malformed traceparent: the request is served and starts a trace of its own', async () => {
    const id = `bad-${spanId()}`;
    const res = await http(`${shop.url}/api/products/8`, { headers: { traceparent: '00-not-a-trace-01', 'x-request-id': id } });
    expect(res.status).toBe(200);
    const line = log.lines.find((l) => l.reqId === id && l.msg === 'request');
    expect(line?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    const server = await serverSpan(line!.trace_id!, 'GET /api/products/:id');
    expect(server.parentSpanId).toBe('');
  });

  it('marks a 5xx answer failed and a 404 not', async () => {
    const t = traceId();
    const res = await http(`${shop.url}/api/nothing-here`, { headers: { traceparent: traceparent(t, spanId()) } });
    expect(res.status).toBe(404);
    const notFound = await serverSpan(t, 'GET');
    expect([notFound.attributes['http.response.status_code'], notFound.status]).toEqual([404, 'unset']);
    // Probes are not traced: a readiness check sent with a traceparent leaves no span.
    const probe = traceId();
    expect((await http(`${shop.url}/readyz`, { headers: { traceparent: traceparent(probe, spanId()) } })).status).toBe(200);

    // A route that throws, in an app of its own with the shop's request tracing (the shop has no route that fails on demand).
    const app = Fastify({ logger: false });
    traceRequests(app);
    app.get('/boom/:n', async () => {
      throw new Error('boom');
    });
    const t2 = traceId();
    try {
      const boom = await app.inject({ url: '/boom/1', headers: { traceparent: traceparent(t2, spanId()) } });
      expect(boom.statusCode).toBe(500);
    } finally {
      await app.close();
    }
    const failed = await serverSpan(t2, 'GET /boom/:n');
    expect([failed.attributes['http.response.status_code'], failed.status]).toEqual([500, 'error']);
    // The 500's span was exported after the probe ended, in the same batch or a later one.
    expect(receiver.trace(probe)).toEqual([]);
  });
});

describe('traces: without a collector', () => {
  it('with no endpoint, exports nothing, still propagates and logs trace ids; a down collector costs no request', async () => {
    const quiet = { name: uniqueName(), log: capturedLogger() };
    const down = { name: uniqueName(), log: capturedLogger() };
    try {
      // No endpoint: ids only.
      const shop = await startInProcessShop(quiet.name, FLAGS, quiet.log.logger);
      const t = traceId();
      try {
        const res = await buy(shop.url, 30);
        expect(res.status).toBe(202);
        const traced = await http(`${shop.url}/api/products/9`, { headers: { traceparent: traceparent(t, spanId()), 'x-request-id': `quiet-${t}` } });
        expect(traced.status).toBe(200);
        expect(quiet.log.lines.find((l) => l.reqId === `quiet-${t}`)?.trace_id).toBe(t);
        // An order still carries the request's trace id (to a consumer's log lines), though nothing is recorded.
        const order = await shop.db.query<{ traceparent: string }>('SELECT traceparent FROM orders WHERE id = $1', [res.json.orderId]);
        expect(order.rows[0]!.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
        // Nothing is recorded: no tracer is set (the tracer a provider would record with), so no span is kept.
        expect(recording()).toBe(false);
      } finally {
        await shop.stop();
      }

      // A collector that refuses connections: answers as usual, one warning, no hang at drain.
      const port = await deadPort();
      const shop2 = await startInProcessShop(down.name, { ...FLAGS, otlpEndpoint: `http://127.0.0.1:${port}` }, down.log.logger);
      try {
        for (let i = 1; i <= 5; i++) expect((await http(`${shop2.url}/api/products/${i}`)).status).toBe(200);
        await eventually(async () => down.log.lines.some((l) => String(l.msg).startsWith('tracing: the OTLP collector did not take a batch')), 10_000, 'the lost-spans warning');
      } finally {
        const started = Date.now();
        await shop2.stop();
        expect(Date.now() - started).toBeLessThan(8_000);
      }
      // One line for the outage (no stack: the SDK's error handler counts instead of logging) and the count at shutdown.
      const tracingLines = down.log.lines.filter((l) => String(l.msg).startsWith('tracing:'));
      expect(tracingLines.map((l) => l.msg)).toEqual([
        'tracing: the OTLP collector did not take a batch; spans are dropped while it is unreachable (requests are not affected)',
        'tracing: spans lost (the OTLP collector was unreachable or slow, or the queue was full)']);
      expect(JSON.stringify(tracingLines)).not.toContain('stack');
      expect(tracingLines[1]!.spans).toBeGreaterThanOrEqual(5);
    } finally {
      await dropRunData(quiet.name);
      await dropRunData(down.name);
    }
  });
});

describe('traces: a collector that never answers', () => {
  it('a drain waits FLUSH_MS for it, and counts every span ended as lost: the queue-full drops and those left at shutdown', async () => {
    // Accepts connections and never answers: exports hang (their timeout is longer than the flush).
    const sockets = new Set<Socket>();
    const server = createServer((s) => void sockets.add(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const warns: { msg: string; fields?: Record<string, unknown> }[] = [];
    try {
      const tracing = startTracing({ otlpEndpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } as StackConfig, { role: 'all', workerId: 'w', warn: (msg, fields) => void warns.push({ msg, fields }) });
      // More than the queue holds (2048): the rest are dropped as they end.
      const n = 3000;
      for (let i = 0; i < n; i++) await withSpan('s', async () => undefined);
      const started = Date.now();
      await tracing.shutdown();
      expect(Date.now() - started).toBeLessThan(FLUSH_MS + 1_000);
      expect(warns.filter((w) => w.msg.startsWith('tracing: spans lost')).map((w) => w.fields?.spans)).toEqual([n]);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('traces: the shop as processes (a web worker and a consumer process)', () => {
  it('a trace id sent with a checkout, and those scalectl sent and kept as exemplars, are in the web worker\'s log lines and in the receiver', async () => {
    const receiver = await startOtlpReceiver();
    const name = uniqueName();
    try {
      const stack = await startStackProcess(['--backends', 'external', '--database-url', PG_URL, '--redis-url', REDIS_URL, '--db-schema', name, '--key-prefix', name,
        '--workers', '1', '--consumers', '1', '--products', '200', '--rate-limit', '0', '--log-level', 'debug', '--job-duration', '10ms', '--otlp-endpoint', receiver.url]);
      const t = traceId();
      try {
        const res = await http(`${stack.url}/api/checkout`, {
          body: { items: [{ productId: 3, qty: 1 }] }, headers: { traceparent: traceparent(t, spanId()), 'idempotency-key': randomBytes(8).toString('hex') },
        });
        expect(res.status).toBe(202);
        await eventually(async () => receiver.trace(t).some((s) => s.kind === 'consumer' && s.name === 'order process'), 15_000, 'the consumer process\'s span');
        const server = receiver.trace(t).find((s) => s.kind === 'server')!;
        const consumer = receiver.trace(t).find((s) => s.kind === 'consumer' && s.name === 'order process')!;
        expect(consumer.parentSpanId).toBe(server.spanId);
        expect([server.resource['scalectl.role'], consumer.resource['scalectl.role']]).toEqual(['web', 'consumer']);
        const lines = stack.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
        expect(lines.find((l) => l.msg === 'request' && l.trace_id === t)?.span_id).toBe(server.spanId);

        // End to end: the trace ids scalectl sent and kept as its slowest requests (exemplars) are in the shop's
        // log lines and in the receiver, each the trace of a server span the shop recorded for that request.
        const run = await runScenario(`name: traced
target: ${stack.url}
phases: [{ duration: 1s, arrivalRate: 20 }]
flows: [{ name: f, steps: [{ name: product, get: "/api/products/{{ iteration }}" }] }]
`);
        expect(run.code).toBe(0);
        const kept = (run.result.exemplars?.product ?? []).map((e) => e.traceId);
        expect(kept.length).toBeGreaterThan(0);
        await eventually(async () => kept.every((id) => receiver.trace(id).some((s) => s.kind === 'server' && s.name === 'GET /api/products/:id')), 15_000, 'the exemplars\' server spans');
        const logged = new Set(stack.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as LogLine).trace_id));
        expect(kept.filter((id) => !logged.has(id))).toEqual([]);
        expect(run.stdout).toContain(kept[0]!);
      } finally {
        expect(await stack.stop()).toBe(0);
      }
    } finally {
      await receiver.close();
      await dropRunData(name);
    }
  });
});
