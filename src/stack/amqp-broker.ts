import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { maskCredentials } from '../shared/mask-credentials.js';
import type { DomainEvent } from './domain-events.js';
import { CONSUMER_TYPES, eventRetryMs, type EventBus, type EventHandler } from './event-routing.js';
import { EVENT_CONSUMERS, eventExchange, eventQueue, type EventConsumer } from './protocol.js';
import { currentTraceparent, withSpan } from './tracing.js';

export interface AmqpBrokerOptions {
  url: string;
  keyPrefix: string;
  /** Lines for the operator (connection lost, back); credentials are masked. */
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** Longest a batch waits for the broker's confirms before it counts as not handed over. Default 10 s. */
  confirmTimeoutMs?: number;
}

interface Consumer { handler: EventHandler; prefetch: number; channel?: Channel; tag?: string }

/** The URL with a heartbeat (10 s) unless it sets one: a broker that vanished without closing the socket is noticed. */
function withHeartbeat(url: string): string {
  const u = new URL(url);
  if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', '10');
  return u.href;
}

/**
 * Domain events on RabbitMQ: a durable topic exchange `<keyPrefix>.events`,
 * routing key = event type, and a durable queue per consumer bound to the
 * types it needs. Publishing uses a confirm channel: `publish` resolves only
 * once the broker has taken every message (persistent, so it survives a
 * broker restart). Consumers acknowledge after their effect committed.
 *
 * Every connection (publisher, consumer, or the autoscaler's reader) declares
 * the whole topology, so a message is never published before its queues
 * exist (an unroutable message would be confirmed and dropped). A lost
 * connection is retried with backoff (200 ms doubling, at most 5 s) until
 * `close`, consumers resubscribe, and events wait in the outbox meanwhile.
 */
export function createAmqpBroker(opts: AmqpBrokerOptions): EventBus {
  const exchange = eventExchange(opts.keyPrefix);
  const where = maskCredentials(opts.url);
  const confirmTimeoutMs = opts.confirmTimeoutMs ?? 10_000;
  const consumers = new Map<EventConsumer, Consumer>();
  const active = new Set<Promise<void>>();
  let conn: ChannelModel | undefined;
  let publisher: ConfirmChannel | undefined;
  let connecting: Promise<void> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let failures = 0;
  let closing = false;
  /** The broker's resource alarm (memory, disk) blocks publishing on the connection: its reason, until unblocked. */
  let blocked: string | undefined;
  /** An outage was logged and its end not yet. */
  let outage = false;
  /** Message ids the broker returned as unroutable, until their confirm arrives. */
  const returned = new Set<string>();

  const declare = async (ch: Channel): Promise<void> => {
    await ch.assertExchange(exchange, 'topic', { durable: true });
    for (const c of EVENT_CONSUMERS) {
      const q = eventQueue(opts.keyPrefix, c);
      await ch.assertQueue(q, { durable: true });
      for (const type of CONSUMER_TYPES[c]) await ch.bindQueue(q, exchange, type);
    }
  };

  const lost = (c: ChannelModel): void => {
    if (conn !== c) return;
    conn = undefined;
    publisher = undefined;
    blocked = undefined;
    for (const cons of consumers.values()) cons.channel = undefined;
    if (!closing) {
      if (!outage) opts.log?.('warn', `event broker: connection to ${where} lost; reconnecting`);
      outage = true;
      schedule();
    }
  };

  const subscribe = async (c: ChannelModel, name: EventConsumer, cons: Consumer): Promise<void> => {
    const ch = await c.createChannel();
    ch.on('error', () => undefined);
    // A channel the broker closed (an error) takes the connection with it, so everything is set up again.
    ch.on('close', () => { if (cons.channel === ch && !closing) void c.close().catch(() => undefined); });
    await ch.prefetch(cons.prefetch);
    cons.channel = ch;
    const r = await ch.consume(eventQueue(opts.keyPrefix, name), (msg) => {
      if (msg) track(deliver(ch, cons, msg));
      // The broker cancelled the subscription (its queue was deleted): set everything up again, queue included.
      else if (cons.channel === ch && !closing) void c.close().catch(() => undefined);
    });
    cons.tag = r.consumerTag;
  };

  const track = (p: Promise<void>): void => {
    active.add(p);
    void p.finally(() => active.delete(p));
  };

  const deliver = async (ch: Channel, cons: Consumer, msg: ConsumeMessage): Promise<void> => {
    let event: DomainEvent;
    try {
      event = JSON.parse(msg.content.toString('utf8')) as DomainEvent;
    } catch {
      // Not one of ours: it would fail on every redelivery.
      opts.log?.('error', 'event broker: a message that is not JSON was dropped', { messageId: msg.properties.messageId });
      ch.ack(msg);
      return;
    }
    // The producer's span (the relay's publish) is the consumer span's parent when traced.
    const traceparent: unknown = msg.properties.headers?.traceparent;
    if (typeof traceparent === 'string') event.traceparent = traceparent;
    try {
      await cons.handler(event);
      ch.ack(msg);
    } catch {
      // Handed back after a pause (the database may be down), so a failing event does not spin.
      await new Promise((r) => setTimeout(r, 1_000).unref());
      try {
        ch.nack(msg, false, true);
      } catch {
        // The channel is gone: the broker redelivers it anyway.
      }
    }
  };

  const connectOnce = async (): Promise<void> => {
    const c = await connect(withHeartbeat(opts.url), { timeout: 5_000, clientProperties: { connection_name: `scalectl-shop ${opts.keyPrefix}` } });
    c.on('error', () => undefined);
    c.on('close', () => lost(c));
    c.on('blocked', (reason: unknown) => {
      blocked = String(reason);
      opts.log?.('warn', `event broker: ${where} blocks publishing (${blocked}); events wait in the outbox`);
    });
    c.on('unblocked', () => {
      blocked = undefined;
      opts.log?.('info', `event broker: ${where} takes events again`);
    });
    try {
      const ch = await c.createConfirmChannel();
      ch.on('error', () => undefined);
      ch.on('close', () => { if (publisher === ch && !closing) void c.close().catch(() => undefined); });
      // Published with `mandatory`: a message no queue took comes back (before its confirm). Its publish
      // fails, and the connection is set up again, so the missing queues are declared again.
      ch.on('return', (msg: { properties: { messageId?: unknown } }) => {
        if (typeof msg.properties.messageId === 'string') returned.add(msg.properties.messageId);
        if (publisher === ch && !closing) void c.close().catch(() => undefined);
      });
      await declare(ch);
      if (closing) throw new Error('closing');
      conn = c;
      publisher = ch;
      // A snapshot: a consumer added meanwhile subscribes itself (consume sees conn set).
      for (const [name, cons] of [...consumers]) await subscribe(c, name, cons);
    } catch (err) {
      await c.close().catch(() => undefined);
      throw err;
    }
  };

  const ensure = (): Promise<void> => (connecting ??= connectOnce().then(() => {
    if (outage) opts.log?.('info', `event broker: connected to ${where} again`);
    failures = 0;
    outage = false;
  }, (err: unknown) => {
    failures++;
    // One warn line per outage (a lost connection has logged it already), not per attempt.
    if (!outage) opts.log?.('warn', `event broker: cannot reach ${where}: ${maskCredentials(err instanceof Error ? err.message : String(err))}; events wait in the outbox, retrying`);
    outage = true;
    schedule();
    throw err;
  }).finally(() => { connecting = undefined; }));

  const schedule = (): void => {
    if (closing || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      if (!conn) ensure().catch(() => undefined);
    }, eventRetryMs(failures + 1));
    retry.unref();
  };

  const confirmed = (ch: ConfirmChannel, e: DomainEvent): Promise<void> => withSpan(`publish ${e.type}`, () => new Promise<void>((resolve, reject) => {
    const headers: Record<string, string> = {};
    const traceparent = currentTraceparent() ?? e.traceparent;
    if (traceparent) headers.traceparent = traceparent;
    ch.publish(exchange, e.type, Buffer.from(JSON.stringify(e)), {
      mandatory: true, persistent: true, messageId: e.id, type: e.type, contentType: 'application/json', timestamp: Math.floor(Date.parse(e.occurredAt) / 1000), headers,
    }, (err: unknown) => {
      if (returned.delete(e.id)) reject(new Error(`the broker routed event ${e.id} (${e.type}) to no queue; declaring the queues again`));
      else if (err) reject(err instanceof Error ? err : new Error('the broker refused the event'));
      else resolve();
    });
  }), { kind: 'producer', parent: e.traceparent, attributes: { 'messaging.system': 'rabbitmq', 'messaging.destination.name': exchange, 'messaging.message.id': e.id } });

  // Started now, not awaited: the shop starts with the broker down, and events wait in the outbox.
  ensure().catch(() => undefined);

  return {
    broker: 'rabbitmq',
    queueName: (consumer) => eventQueue(opts.keyPrefix, consumer),
    async publish(events) {
      if (events.length === 0) return;
      if (!publisher) await ensure();
      const ch = publisher;
      if (!ch) throw new Error(`the event broker at ${where} is not connected`);
      // Published now, they would wait unconfirmed on the blocked connection: the relay retries after a pause instead.
      if (blocked !== undefined) throw new Error(`the event broker at ${where} blocks publishing (${blocked})`);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the event broker did not confirm in ${confirmTimeoutMs} ms`)), confirmTimeoutMs);
      });
      try {
        await Promise.race([Promise.all(events.map((e) => confirmed(ch, e))), late]);
      } finally {
        clearTimeout(timer);
      }
    },
    consume(consumer, handler, prefetch) {
      const cons: Consumer = { handler, prefetch };
      consumers.set(consumer, cons);
      if (conn) subscribe(conn, consumer, cons).catch(() => { if (conn) void conn.close().catch(() => undefined); });
    },
    async depth(consumer) {
      // Not waiting for a connection: a scrape or an autoscaler poll must not hang on a broker that is down.
      if (!publisher) throw new Error(`the event broker at ${where} is not connected`);
      return (await publisher.checkQueue(eventQueue(opts.keyPrefix, consumer))).messageCount;
    },
    async close(deadlineMs) {
      closing = true;
      clearTimeout(retry);
      await connecting?.catch(() => undefined);
      // No new deliveries; those being handled get until the deadline, the rest are redelivered by the broker.
      for (const cons of consumers.values()) if (cons.channel && cons.tag) await cons.channel.cancel(cons.tag).catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(active), new Promise((r) => { timer = setTimeout(r, deadlineMs); })]);
      clearTimeout(timer);
      const c = conn;
      conn = undefined;
      await c?.close().catch(() => undefined);
    },
  };
}
