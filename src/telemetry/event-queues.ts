import { parseExposition } from './exposition-parser.js';
import { SHOP_SERIES } from '../stack/contract.js';

/**
 * Info series that name the queue each event consumer reads: the reference
 * stack's, and a generic one any service can export
 * (`scalectl_events_info{broker="rabbitmq",consumer="email",queue="app.events.email"} 1`,
 * or `{broker="queue",consumer="email",queue="events.email",wait_list="app:bull:events.email:wait"}`).
 */
const INFO_SERIES: readonly string[] = [SHOP_SERIES.eventsInfo, 'scalectl_events_info'];

/**
 * What a service says its event consumers read, from its Prometheus text
 * exposition (the info series with a non-zero value), sorted and once each:
 * `queues`, the RabbitMQ queues (KEDA's rabbitmq `queueName`: the `queue`
 * label where `broker="rabbitmq"`), and `waitLists`, the BullMQ waiting lists
 * of event queues without a broker (KEDA's redis `listName`: the `wait_list`
 * label where `broker="queue"`; the shop's are `<keyPrefix>:bull:events.<consumer>:wait`,
 * queues of their own, not the order queue). Events queued in a database
 * table (the embedded shop) name no list: no trigger can watch them. Throws,
 * with the line number, on text that is not an exposition.
 */
export function eventQueuesFromMetrics(exposition: string): { queues: string[]; waitLists: string[] } {
  const queues = new Set<string>();
  const waitLists = new Set<string>();
  for (const s of parseExposition(exposition)) {
    if (!INFO_SERIES.includes(s.name) || !(s.value > 0)) continue;
    if (s.labels.broker === 'rabbitmq' && s.labels.queue) queues.add(s.labels.queue);
    if (s.labels.broker === 'queue' && s.labels.wait_list) waitLists.add(s.labels.wait_list);
  }
  return { queues: [...queues].sort(), waitLists: [...waitLists].sort() };
}
