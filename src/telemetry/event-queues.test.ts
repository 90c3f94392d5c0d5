import { describe, expect, it } from 'vitest';
import { eventQueuesFromMetrics } from './event-queues.js';

const info = (broker: string, consumer: string, queue: string, value = 1): string =>
  `shop_events_info{broker="${broker}",consumer="${consumer}",queue="${queue}"} ${value}`;

describe('eventQueuesFromMetrics', () => {
  it('reads the RabbitMQ queue of each consumer from shop_events_info, sorted and once each', () => {
    const text = ['# TYPE shop_events_info gauge', info('rabbitmq', 'inventory', 'shop.events.inventory'), info('rabbitmq', 'email', 'shop.events.email'),
      info('rabbitmq', 'email', 'shop.events.email'), 'shop_event_queue_messages{consumer="email",queue="shop.events.email"} 4', ''].join('\n');
    expect(eventQueuesFromMetrics(text)).toEqual(['shop.events.email', 'shop.events.inventory']);
  });

  it('is empty without the broker: events on the job queue, no info series, a zero value or no queue label', () => {
    expect(eventQueuesFromMetrics(info('queue', 'email', 'orders') + '\n')).toEqual([]);
    expect(eventQueuesFromMetrics('shop_queue_jobs{state="waiting"} 3\n')).toEqual([]);
    expect(eventQueuesFromMetrics(info('rabbitmq', 'email', 'shop.events.email', 0) + '\n')).toEqual([]);
    expect(eventQueuesFromMetrics('shop_events_info{broker="rabbitmq",consumer="email"} 1\n')).toEqual([]);
  });

  it('reads the generic scalectl_events_info of any service too', () => {
    expect(eventQueuesFromMetrics('scalectl_events_info{broker="rabbitmq",consumer="mailer",queue="app.mail"} 1\n')).toEqual(['app.mail']);
  });

  it('throws, with the line, on text that is not an exposition', () => {
    expect(() => eventQueuesFromMetrics('<html>\n<body>nope</body>')).toThrow(/line 1/);
  });
});
