import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createEventMetrics } from './event-metrics.js';
import type { EventBus } from './event-routing.js';
import { consumerBacklog } from './queue-backlog.js';
import type { EventConsumer } from './protocol.js';

/** A bus whose queue depths are read from `depths` (a missing one: the broker cannot be read). */
function fakeBus(depths: Partial<Record<EventConsumer, number>>): EventBus {
  return {
    broker: 'rabbitmq',
    queueName: (c) => `q.${c}`,
    publish: () => Promise.resolve(),
    consume: () => undefined,
    depth: (c) => (depths[c] === undefined ? Promise.reject(new Error('not connected')) : Promise.resolve(depths[c])),
    close: () => Promise.resolve(),
  };
}

describe('consumerBacklog', () => {
  it('scales on the queues it can read when the broker cannot be read', async () => {
    const r = await consumerBacklog(() => Promise.resolve(7), fakeBus({}));
    expect(r.count).toBe(7);
    expect(r.unread).toEqual(['q.inventory (not connected)', 'q.email (not connected)', 'q.analytics (not connected)']);
    expect((await consumerBacklog(() => Promise.reject(new Error('redis down')), fakeBus({ email: 3, analytics: 9 }))).count).toBe(9);
  });

  it('throws only when no queue can be read', async () => {
    await expect(consumerBacklog(() => Promise.reject(new Error('redis down')), fakeBus({}))).rejects.toThrow(/orders \(redis down\).*q\.email \(not connected\)/);
  });
});

describe('event queue gauges', () => {
  it('drop the series of a queue that cannot be read instead of keeping its last value', async () => {
    const depths: Partial<Record<EventConsumer, number>> = { inventory: 1, email: 2, analytics: 3 };
    const registry = new Registry();
    const pool = { query: () => Promise.resolve({ rows: [{ n: '4' }] }) };
    createEventMetrics(registry, fakeBus(depths), [pool as never]);
    const text = async (): Promise<string> => registry.metrics();
    expect(await text()).toContain('shop_event_queue_messages{consumer="email",queue="q.email"} 2');
    expect(await text()).toContain('shop_events_outbox_pending 4');
    delete depths.email;
    pool.query = () => Promise.reject(new Error('database down'));
    const after = await text();
    expect(after).not.toContain('shop_event_queue_messages{consumer="email"');
    expect(after).toContain('shop_event_queue_messages{consumer="analytics",queue="q.analytics"} 3');
    expect(after).not.toMatch(/^shop_events_outbox_pending /m);
  });
});
