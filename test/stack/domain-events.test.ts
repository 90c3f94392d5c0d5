import { randomUUID } from 'node:crypto';
import { connect, type ChannelModel } from 'amqplib';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createAmqpBroker } from '../../src/stack/amqp-broker.js';
import { createDb, type Db } from '../../src/stack/db.js';
import type { DomainEvent } from '../../src/stack/domain-events.js';
import { emailClaimMs, startEventConsumers } from '../../src/stack/event-consumers.js';
import { createEventMetrics } from '../../src/stack/event-metrics.js';
import { createPgEventQueue } from '../../src/stack/event-queue.js';
import { subscribers } from '../../src/stack/event-routing.js';
import { migrate, seed } from '../../src/stack/migrations.js';
import { EVENT_CONSUMERS, eventExchange, eventQueue } from '../../src/stack/protocol.js';
import { startOrderConsumer, startShopWorker, type ShopProcess } from '../../src/stack/shop-worker.js';
import { childrenOf } from '../helpers/processes.js';
import { closedPort } from '../helpers/test-server.js';
import { startOwnRabbitMq, type OwnRabbitMq } from '../helpers/rabbitmq-server.js';
import {
  buy, dropRunData, eventually, externalConfig, http, metricLines, PG_URL, REDIS_URL, startInProcessShop, startStackProcess, uniqueName,
  type InProcessShop, type StackProcess,
} from '../helpers/shop.js';

// The machine's RabbitMQ; each test uses an exchange and queues named after its own keyPrefix, deleted after.
const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f().catch(() => undefined);
});

/** Deletes a run's exchange and queues on a broker. */
async function dropBrokerNames(url: string, prefix: string): Promise<void> {
  const c = await connect(url);
  try {
    const ch = await c.createChannel();
    for (const consumer of EVENT_CONSUMERS) await ch.deleteQueue(eventQueue(prefix, consumer));
    await ch.deleteExchange(eventExchange(prefix));
  } finally {
    await c.close();
  }
}

/** A run's schema, Redis keys and broker names go after the test. */
function ownedRun(url = AMQP_URL): string {
  const name = uniqueName();
  cleanups.push(() => dropRunData(name), () => dropBrokerNames(url, name).catch(() => undefined));
  return name;
}

const count = async (db: Db, sql: string, values: unknown[] = []): Promise<number> => Number((await db.query<{ n: string }>(sql, values)).rows[0]?.n ?? 0);
const analytics = (db: Db, type: string): Promise<number> => count(db, 'SELECT events AS n FROM analytics_counts WHERE type = $1', [type]);
const series = async (registry: Registry): Promise<Map<string, number>> => metricLines(await registry.metrics());

/** Every message published to the run's exchange, as a test queue bound to `#` sees them. */
async function tapExchange(url: string, prefix: string): Promise<{ ids: string[]; messages: { id: string; content: Buffer; type: string }[]; conn: ChannelModel }> {
  const conn = await connect(url);
  cleanups.push(() => conn.close());
  const ch = await conn.createChannel();
  await ch.assertExchange(eventExchange(prefix), 'topic', { durable: true });
  const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(q.queue, eventExchange(prefix), '#');
  const tap = { ids: [] as string[], messages: [] as { id: string; content: Buffer; type: string }[], conn };
  await ch.consume(q.queue, (m) => {
    if (!m) return;
    tap.ids.push(m.properties.messageId as string);
    tap.messages.push({ id: m.properties.messageId as string, content: m.content, type: m.fields.routingKey });
  }, { noAck: true });
  return tap;
}

describe('domain events on RabbitMQ', () => {
  let shop: InProcessShop | undefined;
  afterEach(async () => {
    await shop?.stop();
    shop = undefined;
  });

  it('publishes each committed event exactly once, none for a rolled-back checkout, and applies each effect once, a redelivery included', async () => {
    const name = ownedRun();
    const tap = await tapExchange(AMQP_URL, name);
    shop = await startInProcessShop(name, { broker: 'rabbitmq', amqpUrl: AMQP_URL, hotStock: '4', stockLowThreshold: '2', jobDuration: '0', emailLatency: '0' });
    const { url, db } = shop;
    const answers = await Promise.all(Array.from({ length: 7 }, () => buy(url, 1)));
    const accepted = answers.filter((a) => a.status === 202).length;
    // The sold-out checkouts rolled back: their transactions wrote no event.
    expect(answers.filter((a) => a.status === 409).length).toBe(7 - accepted);
    const replay = await http(`${url}/api/checkout`, { body: { items: [{ productId: 1, qty: 1 }] }, headers: { 'idempotency-key': 'k-replayed' } });
    await http(`${url}/api/checkout`, { body: { items: [{ productId: 1, qty: 1 }] }, headers: { 'idempotency-key': 'k-replayed' } });
    const created = accepted + (replay.status === 202 ? 1 : 0);
    expect(created).toBeGreaterThan(0);
    const stock = await count(db, 'SELECT stock AS n FROM products WHERE id = 1');
    const stockLow = stock < 2 ? 1 : 0;
    await eventually(async () => (await count(db, `SELECT count(*) AS n FROM orders WHERE status = 'done'`)) === created, 15_000, 'orders processed');
    const expected = 2 * created + stockLow;
    await eventually(async () => tap.ids.length >= expected && (await count(db, 'SELECT count(*) AS n FROM events_outbox')) === 0, 15_000, 'events published');
    // Each event once per consumer bound to its type.
    const applications = created * (subscribers('OrderCreated').length + subscribers('OrderProcessed').length) + stockLow * subscribers('StockLow').length;
    await eventually(async () => (await count(db, 'SELECT count(*) AS n FROM processed_events')) === applications, 15_000, 'events consumed');
    expect(tap.ids.length).toBe(expected);
    expect(new Set(tap.ids).size).toBe(expected);
    expect(tap.messages.filter((m) => m.type === 'OrderCreated')).toHaveLength(created);
    expect(tap.messages.filter((m) => m.type === 'StockLow')).toHaveLength(stockLow);

    // The consumers' effects, once each.
    expect(await analytics(db, 'OrderCreated')).toBe(created);
    expect(await analytics(db, 'OrderProcessed')).toBe(created);
    expect(await analytics(db, 'StockLow')).toBe(stockLow);
    expect(await count(db, 'SELECT count(*) AS n FROM emails_sent')).toBe(2 * created);
    expect(await count(db, 'SELECT count(DISTINCT event_id) AS n FROM emails_sent')).toBe(2 * created);
    expect(await count(db, 'SELECT units_ordered AS n FROM inventory_projection WHERE product_id = 1')).toBe(created);

    // A message delivered again (what a relay that died after the confirm would do) changes nothing.
    const again = tap.messages.find((m) => m.type === 'OrderCreated')!;
    const ch = await tap.conn.createChannel();
    ch.publish(eventExchange(name), again.type, again.content, { messageId: again.id, persistent: true });
    await eventually(async () => (await series(shop!.worker.registry)).get('shop_events_consumed_total{consumer="email",result="duplicate"}') === 1, 10_000, 'the duplicate seen');
    await eventually(async () => (await series(shop!.worker.registry)).get('shop_events_consumed_total{consumer="analytics",result="duplicate"}') === 1, 10_000, 'the duplicate seen');
    expect(await analytics(db, 'OrderCreated')).toBe(created);
    expect(await count(db, 'SELECT count(*) AS n FROM emails_sent')).toBe(2 * created);

    const m = await series(shop.worker.registry);
    expect(m.get('shop_events_published_total{type="OrderCreated"}')).toBe(created);
    expect(m.get('shop_events_published_total{type="OrderProcessed"}')).toBe(created);
    expect(m.get('shop_events_outbox_pending')).toBe(0);
    for (const consumer of EVENT_CONSUMERS) {
      expect(m.get(`shop_events_info{broker="rabbitmq",consumer="${consumer}",queue="${eventQueue(name, consumer)}"}`)).toBe(1);
      expect(m.get(`shop_event_queue_messages{consumer="${consumer}",queue="${eventQueue(name, consumer)}"}`)).toBe(0);
    }
  });

  it('a broker down at start: the shop side starts, a hand-over fails with one clear line (credentials masked) and is retried', async () => {
    const lines: string[] = [];
    const bus = createAmqpBroker({ url: `amqp://guest:s3cret@127.0.0.1:${await closedPort()}`, keyPrefix: uniqueName(), log: (level, msg) => lines.push(`${level} ${msg}`) });
    cleanups.push(() => bus.close(0));
    const e: DomainEvent = { id: randomUUID(), type: 'StockLow', occurredAt: new Date().toISOString(), data: { productId: 1, stock: 0 } };
    await expect(bus.publish([e])).rejects.toThrow(/ECONNREFUSED|not connected/);
    await expect(bus.depth('email')).rejects.toThrow('is not connected');
    await eventually(async () => lines.length > 0, 5_000, 'a log line');
    expect(lines[0]).toMatch(/^warn event broker: cannot reach amqp:\/\/\*\*\*@127\.0\.0\.1:\d+: .*; events wait in the outbox, retrying$/);
    expect(lines.join('\n')).not.toContain('s3cret');
  });

  it('a deleted queue: a publish no queue takes fails, the queues are declared again, and a cancelled consumer subscribes again', async () => {
    const name = ownedRun();
    const stockLow = (): DomainEvent => ({ id: randomUUID(), type: 'StockLow', occurredAt: new Date().toISOString(), data: { productId: 1, stock: 0 } });
    const relay = createAmqpBroker({ url: AMQP_URL, keyPrefix: name });
    cleanups.push(() => relay.close(0));
    await relay.publish([stockLow()]);
    const raw = await connect(AMQP_URL).then((c) => (cleanups.push(() => c.close()), c));
    const admin = await raw.createChannel();
    for (const consumer of subscribers('StockLow')) await admin.deleteQueue(eventQueue(name, consumer));
    // Confirmed but routed nowhere would be lost: mandatory makes it come back, and the publish fails.
    await expect(relay.publish([stockLow()])).rejects.toThrow(/to no queue/);
    await eventually(async () => { await relay.publish([stockLow()]); return true; }, 10_000, 'published once the queues are declared again');

    const consumers = createAmqpBroker({ url: AMQP_URL, keyPrefix: name });
    cleanups.push(() => consumers.close(0));
    const seen: string[] = [];
    consumers.consume('analytics', async (e) => { seen.push(e.id); }, 1);
    const subscribed = async (): Promise<boolean> => {
      const ch = await raw.createChannel();
      ch.on('error', () => undefined);
      const n = await ch.checkQueue(eventQueue(name, 'analytics')).then((q) => q.consumerCount, () => 0);
      await ch.close().catch(() => undefined);
      return n === 1;
    };
    await eventually(subscribed, 10_000, 'the consumer subscribed');
    await admin.deleteQueue(eventQueue(name, 'analytics'));
    // The broker cancels the consumer; it sets up again, its queue included, and subscribes.
    await eventually(subscribed, 10_000, 'the consumer subscribed again');
    const e = stockLow();
    await relay.publish([e]);
    await eventually(async () => seen.includes(e.id), 10_000, 'delivered after the queue came back');
  });

  describe('with a broker of its own', () => {
    let broker: OwnRabbitMq | undefined;
    afterAll(async () => {
      await broker?.stop();
    });

    it('keeps events through a broker restart: those in its queues survive, those written meanwhile wait in the outbox', async () => {
      broker = await startOwnRabbitMq();
      const name = ownedRun(broker.url);
      const config = externalConfig(name, { broker: 'rabbitmq', amqpUrl: broker.url, jobDuration: '0', emailLatency: '0' });
      const db = createDb({ connection: PG_URL, schema: name, poolSize: 2 });
      cleanups.push(() => db.close());
      await migrate(db, name);
      await seed(db, config);
      // Web only: the events stay in the broker's queues, nobody consumes them yet.
      const web = await startShopWorker({ config, db: PG_URL, role: 'web' }, { workerId: 'web', logger: false });
      cleanups.push(() => web.drain(5_000));
      const url = `http://127.0.0.1:${web.port}`;
      const depth = async (): Promise<number | undefined> => (await series(web.registry)).get(`shop_event_queue_messages{consumer="analytics",queue="${eventQueue(name, 'analytics')}"}`);
      for (let i = 0; i < 3; i++) expect((await buy(url, 50 + i)).status).toBe(202);
      await eventually(async () => (await depth()) === 3, 10_000, 'three events in the analytics queue');

      await broker.stop();
      for (let i = 0; i < 2; i++) expect((await buy(url, 60 + i)).status).toBe(202);
      await eventually(async () => (await series(web.registry)).get('shop_events_outbox_pending') === 2, 10_000, 'two events wait in the outbox');

      await broker.start();
      // The relay reconnects (backoff at most 5 s): the three survived the restart, the two join them.
      await eventually(async () => (await depth()) === 5, 20_000, 'five events in the analytics queue after the restart');
      expect((await series(web.registry)).get('shop_events_outbox_pending')).toBe(0);

      const consumer: ShopProcess = await startOrderConsumer({ config, db: PG_URL, role: 'consumer' }, { workerId: 'consumer', logger: false });
      cleanups.push(() => consumer.drain(5_000));
      const mails = (): Promise<number> => count(db, 'SELECT count(*) AS n FROM emails_sent');
      // Each consumer reads its own queue: the mails may come after the analytics counts.
      await eventually(async () => (await analytics(db, 'OrderCreated')) === 5 && (await analytics(db, 'OrderProcessed')) === 5 && (await mails()) >= 10, 20_000, 'every event consumed once');
      expect(await count(db, 'SELECT count(*) AS n FROM emails_sent')).toBe(10);
      expect(await count(db, 'SELECT count(DISTINCT event_id) AS n FROM emails_sent')).toBe(10);

      // Connections cut with the broker up: the relay and the consumers reconnect, and the consumers subscribe again.
      await broker.closeConnections();
      expect((await buy(url, 80)).status).toBe(202);
      await eventually(async () => (await analytics(db, 'OrderCreated')) === 6 && (await analytics(db, 'OrderProcessed')) === 6 && (await mails()) >= 12, 20_000, 'consumed after the reconnect');
      expect(await count(db, 'SELECT count(*) AS n FROM emails_sent')).toBe(12);
    }, 150_000); // two broker starts: under 10 s each on an idle machine, far more on a loaded one
  });
});

describe('domain events without a broker (the job queue)', () => {
  it('external backends: one BullMQ queue per consumer, each effect once', async () => {
    const name = ownedRun();
    const shop = await startInProcessShop(name, { jobDuration: '0', emailLatency: '0' });
    cleanups.push(() => shop.stop());
    for (let i = 0; i < 3; i++) expect((await buy(shop.url, 70 + i)).status).toBe(202);
    // Each consumer reads its own queue: the mails may come after the analytics counts.
    const mails = (): Promise<number> => count(shop.db, 'SELECT count(*) AS n FROM emails_sent');
    await eventually(async () => (await analytics(shop.db, 'OrderCreated')) === 3 && (await analytics(shop.db, 'OrderProcessed')) === 3 && (await mails()) >= 6, 15_000, 'events consumed');
    expect(await mails()).toBe(6);
    const m = await series(shop.worker.registry);
    // The waiting list KEDA's redis trigger watches for this consumer's backlog.
    expect(m.get(`shop_events_info{broker="queue",consumer="email",queue="events.email",wait_list="${name}:bull:events.email:wait"}`)).toBe(1);
    expect(m.get('shop_events_published_total{type="OrderCreated"}')).toBe(3);
  });

  it('embedded: the event_jobs table queues an event once per consumer, and a duplicate is applied once', async () => {
    const name = ownedRun();
    const db = createDb({ connection: PG_URL, schema: name, poolSize: 4 });
    cleanups.push(() => db.close());
    await migrate(db, name);
    const bus = createPgEventQueue(db, { pollMs: 20 });
    cleanups.push(() => bus.close(1_000));
    const registry = new Registry();
    const metrics = createEventMetrics(registry, bus, [db]);
    const e: DomainEvent = { id: randomUUID(), type: 'OrderCreated', occurredAt: new Date().toISOString(), data: { orderId: randomUUID(), items: [{ productId: 3, qty: 2 }], totalCents: 900 } };
    await bus.publish([e]);
    await bus.publish([e]); // relayed twice while queued: one job per consumer
    expect(await count(db, 'SELECT count(*) AS n FROM event_jobs')).toBe(3);
    expect(await bus.depth('email')).toBe(1);
    startEventConsumers(bus, db, metrics, { emailLatencyMs: 0, prefetch: 2 });
    await eventually(async () => (await count(db, 'SELECT count(*) AS n FROM event_jobs')) === 0, 10_000, 'jobs done');
    await bus.publish([e]); // relayed again after it was handled: a duplicate
    await eventually(async () => (await series(registry)).get('shop_events_consumed_total{consumer="inventory",result="duplicate"}') === 1, 10_000, 'the duplicate seen');
    expect(await analytics(db, 'OrderCreated')).toBe(1);
    expect(await count(db, 'SELECT revenue_cents AS n FROM analytics_counts')).toBe(900);
    expect(await count(db, 'SELECT units_ordered AS n FROM inventory_projection WHERE product_id = 3')).toBe(2);
    expect(await count(db, 'SELECT count(*) AS n FROM emails_sent')).toBe(1);
  });
});

describe('domain events across a consumer kill -9', () => {
  let stack: StackProcess | undefined;
  afterEach(async () => {
    await stack?.stop('SIGKILL');
    stack = undefined;
  });

  it('applies every event once after the killed consumer is re-forked: the sends it held are redelivered and made again', async () => {
    const name = ownedRun();
    const latencyMs = 1_000;
    stack = await startStackProcess(['--backends', 'external', '--database-url', PG_URL, '--redis-url', REDIS_URL, '--db-schema', name, '--key-prefix', name,
      '--workers', '1', '--consumers', '1', '--products', '100', '--rate-limit', '0', '--broker', 'rabbitmq', '--amqp-url', AMQP_URL,
      '--email-latency', `${latencyMs}ms`, '--job-duration', '0']);
    const url = stack.url;
    const db = createDb({ connection: PG_URL, schema: name, poolSize: 2 });
    cleanups.push(() => db.close());
    // Found before any order, so the kill follows the moment a send is seen in progress.
    const web = (await http(`${url}/healthz`, { fresh: true })).json.pid as number;
    const [shopPrimary] = await childrenOf(stack.child.pid!);
    const consumer = (await childrenOf(shopPrimary!.pid)).filter((c) => c.pid !== web && c.comm.startsWith('node'));
    expect(consumer).toHaveLength(1);
    const orders = 3;
    for (let i = 0; i < orders; i++) expect((await buy(url, 20 + i)).status).toBe(202);
    // A send claimed less than half its latency ago and not recorded: the consumer holds it for at least that long.
    const claimMs = emailClaimMs(latencyMs);
    await eventually(async () => (await count(db, `SELECT count(*) AS n FROM email_sends s WHERE s.sending_until > now() + $1 * interval '1 millisecond'
      AND NOT EXISTS (SELECT 1 FROM processed_events p WHERE p.consumer = 'email' AND p.event_id = s.event_id)`, [claimMs - latencyMs / 2])) > 0, 15_000, 'a send in progress');
    process.kill(consumer[0]!.pid, 'SIGKILL');
    // An order job the killed process held comes back only once BullMQ's lock on it has expired (30 s) and its stalled
    // check has run (every 30 s): its OrderProcessed mail may wait up to a minute for that.
    await eventually(async () => (await count(db, 'SELECT count(*) AS n FROM emails_sent')) >= 2 * orders, 90_000, 'every mail sent after the re-fork');
    await eventually(async () => (await analytics(db, 'OrderProcessed')) === orders, 15_000, 'every order processed');
    expect(await count(db, 'SELECT count(*) AS n FROM emails_sent')).toBe(2 * orders);
    expect(await count(db, 'SELECT count(DISTINCT event_id) AS n FROM emails_sent')).toBe(2 * orders);
    expect(await analytics(db, 'OrderCreated')).toBe(orders);
    expect(await count(db, `SELECT count(*) AS n FROM processed_events WHERE consumer = 'email'`)).toBe(2 * orders);
    // The sends cut by the kill were made again (redelivered, their claim expired), and no other send twice.
    expect(await count(db, 'SELECT count(*) AS n FROM email_sends WHERE attempts = 2')).toBeGreaterThan(0);
    expect(await count(db, 'SELECT max(attempts) AS n FROM email_sends')).toBe(2);
    expect(await count(db, 'SELECT count(*) AS n FROM email_sends')).toBe(2 * orders);
    expect(stack.stdout()).toMatch(/"msg":"consumer \d+ exited \(SIGKILL\)/);
  }, 150_000);
});
