import { request } from 'undici';
import { eventQueuesFromMetrics } from '../telemetry/event-queues.js';
import { queueListFromMetrics } from '../telemetry/queue-list.js';
import { metricsEndpoint } from '../telemetry/telemetry-source.js';

/**
 * What a target names in its metrics (the first Prometheus endpoint): the
 * waiting list of `queue`, and the RabbitMQ queues of its event consumers.
 * Nothing when it cannot be read.
 */
export async function targetQueues(urls: readonly string[], queue: string): Promise<{ list?: string; eventQueues?: string[] }> {
  if (!urls.length) return {};
  try {
    const at = metricsEndpoint(urls[0]!);
    const res = await request(at.url, { headers: at.authorization === undefined ? {} : { authorization: at.authorization }, headersTimeout: 5000, bodyTimeout: 5000 });
    const text = await res.body.text();
    if (res.statusCode !== 200) return {};
    const list = queueListFromMetrics(text, queue);
    return { ...(list !== undefined ? { list } : {}), eventQueues: eventQueuesFromMetrics(text) };
  } catch {
    return {};
  }
}
