/*
 * KEDA's rabbitmq trigger for the event queues of the consumers a
 * ScaledObject scales (k8s.ts): one trigger per queue, so that a backlog on
 * any of them adds consumers.
 */

/** The consumer container's variable KEDA's rabbitmq trigger reads the broker's URL from (the shop reads it too). */
export const AMQP_URL_ENV = 'AMQP_URL';

/**
 * One rabbitmq trigger per queue, on its length: `value` messages per
 * replica, the same per-replica backlog as the redis trigger's listLength
 * (KEDA takes the largest replica count any trigger asks for).
 */
export function rabbitmqTriggers(queues: readonly string[], perReplica: number): Record<string, unknown>[] {
  return queues.map((queueName) => ({
    type: 'rabbitmq',
    metadata: { protocol: 'amqp', queueName, mode: 'QueueLength', value: String(perReplica), hostFromEnv: AMQP_URL_ENV },
  }));
}

/** What keda-scaledobject.yaml must say about the rabbitmq triggers: where the broker's URL comes from. */
export function rabbitmqComments(queues: readonly string[]): string {
  if (!queues.length) return '';
  return `# The rabbitmq triggers watch the event queues ${queues.join(', ')} (named by the target's events info series); ` +
    'each asks for a replica per the same backlog as the redis trigger.\n' +
    `# The consumer container must define ${AMQP_URL_ENV}=amqp://user:password@host:5672/vhost: KEDA's rabbitmq trigger reads the broker's URL, credentials included, from it (the shop reads it too).\n`;
}
