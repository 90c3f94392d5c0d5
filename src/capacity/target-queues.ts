import { request } from 'undici';
import { eventQueuesFromMetrics } from '../telemetry/event-queues.js';
import { queueListFromMetrics } from '../telemetry/queue-list.js';
import { metricsEndpoint } from '../telemetry/telemetry-source.js';

/**
 * What a target names in its metrics (the first Prometheus endpoint): the
 * waiting list of `queue`, the RabbitMQ queues of its event consumers, and
 * without a broker their BullMQ waiting lists. Nothing when it cannot be read.
 */
export async function targetQueues(urls: readonly string[], queue: string): Promise<{ list?: string; eventQueues?: string[]; eventWaitLists?: string[] }> {
  if (!urls.length) return {};
  try {
    const at = metricsEndpoint(urls[0]!);
    const res = await request(at.url, { headers: at.authorization === undefined ? {} : { authorization: at.authorization }, headersTimeout: 5000, bodyTimeout: 5000 });
    const text = await res.body.text();
    if (res.statusCode !== 200) return {};
    const list = queueListFromMetrics(text, queue);
    const events = eventQueuesFromMetrics(text);
    return { ...(list !== undefined ? { list } : {}), eventQueues: events.queues, eventWaitLists: events.waitLists };
  } catch {
    return {};
  }
}
