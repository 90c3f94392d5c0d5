import { describe, expect, it } from 'vitest';
import { eventQueuesFromMetrics } from './event-queues.js';

const info = (broker: string, consumer: string, queue: string, value = 1, waitList?: string): string =>
  `shop_events_info{broker="${broker}",consumer="${consumer}",queue="${queue}"${waitList === undefined ? '' : `,wait_list="${waitList}"`}} ${value}`;
const none = { queues: [], waitLists: [] };

describe('eventQueuesFromMetrics', () => {
  it('reads the RabbitMQ queue of each consumer from shop_events_info, sorted and once each', () => {
    const text = ['# TYPE shop_events_info gauge', info('rabbitmq', 'inventory', 'shop.events.inventory'), info('rabbitmq', 'email', 'shop.events.email'),
      info('rabbitmq', 'email', 'shop.events.email'), 'shop_event_queue_messages{consumer="email",queue="shop.events.email"} 4', ''].join('\n');
    expect(eventQueuesFromMetrics(text)).toEqual({ queues: ['shop.events.email', 'shop.events.inventory'], waitLists: [] });
  });

  it('without the broker: the BullMQ waiting list of each event queue, sorted and once each', () => {
    const text = [info('queue', 'email', 'events.email', 1, 'shop:bull:events.email:wait'), info('queue', 'analytics', 'events.analytics', 1, 'shop:bull:events.analytics:wait'),
      info('queue', 'email', 'events.email', 1, 'shop:bull:events.email:wait'), ''].join('\n');
    expect(eventQueuesFromMetrics(text)).toEqual({ queues: [], waitLists: ['shop:bull:events.analytics:wait', 'shop:bull:events.email:wait'] });
  });

  it('names nothing: events in a table (no wait_list), no info series, a zero value or no queue label', () => {
    expect(eventQueuesFromMetrics(info('queue', 'email', 'events.email') + '\n')).toEqual(none);
    expect(eventQueuesFromMetrics('shop_queue_jobs{state="waiting"} 3\n')).toEqual(none);
    expect(eventQueuesFromMetrics(info('rabbitmq', 'email', 'shop.events.email', 0) + '\n')).toEqual(none);
    expect(eventQueuesFromMetrics(info('queue', 'email', 'events.email', 0, 'shop:bull:events.email:wait') + '\n')).toEqual(none);
    expect(eventQueuesFromMetrics('shop_events_info{broker="rabbitmq",consumer="email"} 1\n')).toEqual(none);
  });

  it('reads the generic scalectl_events_info of any service too', () => {
    expect(eventQueuesFromMetrics('scalectl_events_info{broker="rabbitmq",consumer="mailer",queue="app.mail"} 1\n')).toEqual({ queues: ['app.mail'], waitLists: [] });
  });

  it('throws, with the line, on text that is not an exposition', () => {
    expect(() => eventQueuesFromMetrics('<html>\n<body>nope</body>')).toThrow(/line 1/);
  });
});
