import { parseExposition } from './exposition-parser.js';
import { SHOP_SERIES } from '../stack/contract.js';

/**
 * Info series that name the RabbitMQ queue each event consumer reads: the
 * reference stack's, and a generic one any service can export
 * (`scalectl_events_info{broker="rabbitmq",consumer="email",queue="app.events.email"} 1`).
 */
const INFO_SERIES: readonly string[] = [SHOP_SERIES.eventsInfo, 'scalectl_events_info'];

/**
 * The RabbitMQ queues (KEDA's rabbitmq `queueName`) a service says its event
 * consumers read, from its Prometheus text exposition: the `queue` label of
 * the info series with `broker="rabbitmq"` and a non-zero value, sorted and
 * once each. Empty when the service runs no broker (`broker="queue"`: the
 * events ride the job queue the redis trigger already watches). Throws, with
 * the line number, on text that is not an exposition.
 */
export function eventQueuesFromMetrics(exposition: string): string[] {
  const queues = new Set<string>();
  for (const s of parseExposition(exposition)) {
    if (!INFO_SERIES.includes(s.name) || s.labels.broker !== 'rabbitmq' || !(s.value > 0)) continue;
    if (s.labels.queue) queues.add(s.labels.queue);
  }
  return [...queues].sort();
}
