import { parseExposition } from './exposition-parser.js';
import { SHOP_SERIES } from '../stack/contract.js';

/**
 * Info series that name a queue's waiting list: the reference stack's, and a
 * generic one any service can export (`scalectl_queue_info{queue="orders",wait_list="shop:bull:orders:wait"} 1`).
 */
const INFO_SERIES: readonly string[] = [SHOP_SERIES.queueInfo, 'scalectl_queue_info'];

/**
 * The waiting list (KEDA's `listName`) a service says `queue` uses, read from
 * its Prometheus text exposition: the `wait_list` label of `shop_queue_info`
 * or `scalectl_queue_info` with that `queue` label and a non-zero value.
 * Undefined when no series names it, or when series disagree (right or
 * silent: a wrong list would scale on a queue that never fills). Throws, with
 * the line number, on text that is not an exposition.
 */
export function queueListFromMetrics(exposition: string, queue: string): string | undefined {
  const lists = new Set<string>();
  for (const s of parseExposition(exposition)) {
    if (!INFO_SERIES.includes(s.name) || s.labels.queue !== queue || !(s.value > 0)) continue;
    const list = s.labels.wait_list;
    if (list) lists.add(list);
  }
  return lists.size === 1 ? [...lists][0] : undefined;
}
