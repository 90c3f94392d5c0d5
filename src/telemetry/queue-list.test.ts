import { describe, expect, it } from 'vitest';
import { queueListFromMetrics } from './queue-list.js';

const shop = [
  '# HELP shop_queue_info The order queue: its backend and the BullMQ waiting list for this keyPrefix (always 1).',
  '# TYPE shop_queue_info gauge',
  'shop_queue_info{queue="orders",backend="postgres",wait_list="shop:bull:orders:wait"} 1',
  '# TYPE shop_queue_jobs gauge',
  'shop_queue_jobs{state="waiting"} 12',
  '',
].join('\n');

describe('queueListFromMetrics', () => {
  it('reads wait_list of shop_queue_info for the queue', () => {
    expect(queueListFromMetrics(shop, 'orders')).toBe('shop:bull:orders:wait');
  });

  it('is undefined for another queue, or when no info series is exported', () => {
    expect(queueListFromMetrics(shop, 'emails')).toBeUndefined();
    expect(queueListFromMetrics('shop_queue_jobs{state="waiting"} 12\n', 'orders')).toBeUndefined();
    expect(queueListFromMetrics('', 'orders')).toBeUndefined();
  });

  it('reads the generic scalectl_queue_info that any service can export', () => {
    const text = [
      'scalectl_queue_info{queue="emails",wait_list="app:bull:emails:wait"} 1',
      'scalectl_queue_info{queue="orders",wait_list="app:bull:orders:wait",team="checkout"} 1',
    ].join('\n');
    expect(queueListFromMetrics(text, 'orders')).toBe('app:bull:orders:wait');
    expect(queueListFromMetrics(text, 'emails')).toBe('app:bull:emails:wait');
  });

  it('accepts both series when they agree, and says nothing when they disagree', () => {
    expect(queueListFromMetrics(`${shop}scalectl_queue_info{queue="orders",wait_list="shop:bull:orders:wait"} 1\n`, 'orders')).toBe('shop:bull:orders:wait');
    expect(queueListFromMetrics(`${shop}scalectl_queue_info{queue="orders",wait_list="other:bull:orders:wait"} 1\n`, 'orders')).toBeUndefined();
  });

  it('ignores series with value 0, an empty wait_list, or other names', () => {
    expect(queueListFromMetrics('shop_queue_info{queue="orders",wait_list="x:bull:orders:wait"} 0\n', 'orders')).toBeUndefined();
    expect(queueListFromMetrics('shop_queue_info{queue="orders",wait_list=""} 1\n', 'orders')).toBeUndefined();
    expect(queueListFromMetrics('shop_queue_info_extra{queue="orders",wait_list="x:bull:orders:wait"} 1\n', 'orders')).toBeUndefined();
  });

  it('reads escaped label values', () => {
    expect(queueListFromMetrics('shop_queue_info{queue="orders",wait_list="a\\"b:bull:orders:wait"} 1\n', 'orders')).toBe('a"b:bull:orders:wait');
  });

  it('throws, with the line, on text that is not an exposition', () => {
    expect(() => queueListFromMetrics('<html>\n<body>not metrics</body>', 'orders')).toThrow(/line 1/);
  });
});
